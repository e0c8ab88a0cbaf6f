/**
 * The environment entity's contract: one workflow per environment (`environment-<name>`) owns the
 * servicing lock, the queue of operations waiting for it, the environment's state and its history.
 * Import-safe in workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { ENVIRONMENT_STATES, RESULTS, environmentNameSchema, type Decision } from './operation';

export const ENVIRONMENT_WORKFLOW_TYPE = 'maintenanceEnvironment';

/** One entity per environment, whoever starts the operation and whatever its workflow ID. */
export function environmentWorkflowId(environment: string): string {
  return `environment-${environment}`;
}

const environmentStateSchema = z.enum(ENVIRONMENT_STATES);
const kindSchema = z.enum(['enable', 'disable', 'window']);

/**
 * An operation run as the entity knows it. `lineage` is the run's first execution run ID: a Reset
 * from the Web UI (or a continue-as-new) changes the run ID but not the lineage, and keeps the lock.
 */
const operationRefSchema = z.object({
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  lineage: z.string().min(1),
});
export type OperationRef = z.infer<typeof operationRefSchema>;

export const lockHolderSchema = operationRefSchema.extend({
  action: kindSchema,
  requestedBy: z.string(),
  since: z.string(),
});
export type LockHolder = z.infer<typeof lockHolderSchema>;

export const lockRequestSchema = lockHolderSchema
  .extend({
    /** A window's child operation shares its parent's lock. */
    parent: z.object({ workflowId: z.string(), runId: z.string() }).optional(),
    /** Queue behind the holder instead of being refused; the grant comes as `lockGranted`. */
    wait: z.boolean().optional(),
    /** The state the environment enters now that this operation holds it. */
    state: environmentStateSchema.optional(),
  })
  .strict();
export type LockRequest = z.infer<typeof lockRequestSchema>;

export type LockAnswer =
  | { acquired: true; shared: boolean; takenOverFrom?: string }
  | { acquired: false; holder: LockHolder; position?: number };

/** One line of the environment history ("Environment changes"). */
export const historyEntrySchema = z.object({
  operationId: z.string(),
  runId: z.string(),
  lineage: z.string().optional(),
  environment: z.string(),
  /** `unlock` for a lock released by force. */
  action: z.enum(['enable', 'disable', 'window', 'unlock']),
  requestedBy: z.string(),
  reason: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** `Released`: the lock was released without the operation (forced, or its holder closed). */
  result: z.enum([...RESULTS, 'Released']),
  detail: z.string(),
  decisions: z.array(z.custom<Decision>((d) => typeof d === 'object' && d !== null)),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** What an operation sends when it ends: its history entry, and the state it leaves the environment in. */
export const releaseRequestSchema = historyEntrySchema.extend({
  lineage: z.string().min(1),
  state: environmentStateSchema,
});
export type ReleaseRequest = z.infer<typeof releaseRequestSchema>;

export const forceUnlockInputSchema = z
  .object({
    by: z.string().trim().min(1, 'say who unlocks, e.g. {"by": "jane.doe"}').max(100),
    reason: z.string().trim().max(500).default(''),
  })
  .strict();
export type ForceUnlockInput = z.input<typeof forceUnlockInputSchema>;

/** Everything the entity carries across continue-as-new: plain JSON. */
export const environmentRecordSchema = z.object({
  environment: environmentNameSchema,
  state: environmentStateSchema,
  holder: lockHolderSchema.optional(),
  /** Operations sharing the holder's lock (a window's children), newest last. */
  sharers: z.array(lockHolderSchema),
  queue: z.array(lockHolderSchema),
  /** Oldest first; bounded by `history.keep`. */
  history: z.array(historyEntrySchema),
  /** Entries dropped from the start to keep the record bounded. */
  dropped: z.number().int().min(0),
});
export type EnvironmentRecord = z.infer<typeof environmentRecordSchema>;

export const environmentEntityInputSchema = z
  .object({ environment: environmentNameSchema, record: environmentRecordSchema.optional() })
  .strict();
export type EnvironmentEntityInput = z.input<typeof environmentEntityInputSchema>;

/** The entity as operators see it: the lock, who works on the environment now, the latest operations. */
export interface EnvironmentView {
  environment: string;
  state: EnvironmentRecord['state'];
  holder?: LockHolder;
  /** The operation at work now: a window's running child, else the holder. */
  active?: LockHolder;
  queue: LockHolder[];
  /** Newest first. */
  recent: HistoryEntry[];
  historyLength: number;
}

export const environmentQuery = defineQuery<EnvironmentView>('environment');
export const historyQuery = defineQuery<HistoryEntry[], [{ limit?: number }?]>('history');

export const acquireLockUpdate = defineUpdate<LockAnswer, [LockRequest]>('acquireLock');
export const releaseLockUpdate = defineUpdate<{ inserted: boolean; released: boolean }, [ReleaseRequest]>(
  'releaseLock',
);
/**
 * An operation that ends without ever holding the lock (rejected before approval): its history entry
 * only; the lock and the environment's state stay as they are.
 */
export const recordEntryUpdate = defineUpdate<{ inserted: boolean }, [HistoryEntry]>('recordEntry');
/** A waiter that gives up: out of the queue; `held` if the lock was granted to it meanwhile. */
export const leaveQueueUpdate = defineUpdate<{ held: boolean }, [OperationRef]>('leaveQueue');
export const forceUnlockUpdate = defineUpdate<{ previous?: LockHolder }, [ForceUnlockInput]>('forceUnlock');
export const importHistoryInputSchema = z
  .object({ entries: z.array(historyEntrySchema), holder: lockHolderSchema.optional() })
  .strict();
/** Upgrade from the first release: its history entries and held locks, from its SQLite store. */
export const importHistoryUpdate = defineUpdate<
  { imported: number; holder?: LockHolder },
  [z.infer<typeof importHistoryInputSchema>]
>('importHistory');

/** From an operation holding (or sharing) the lock: the environment's state changed. */
export const operationStateSignal =
  defineSignal<[{ workflowId: string; lineage: string; state: EnvironmentRecord['state'] }]>(
    'operationState',
  );
/** From the entity to a queued operation: the lock is yours now. */
export const lockGrantedSignal = defineSignal<[{ environment: string; holder: LockHolder }]>('lockGranted');
