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

/**
 * The task queue of the entity's own activities (recovery, liveness checks), beside the workers' one:
 * operations wait on the entity in activities of the main queue (acquireLock...), so with as many
 * waiting as the worker has activity slots, an entity activity there never ran and nothing moved.
 */
export function entityTaskQueue(taskQueue: string): string {
  return `${taskQueue}-entity`;
}

/**
 * Bounds of what the entity keeps, so that its record (carried across continue-as-new, under the
 * server's 2 MiB payload limit) is bounded in bytes whoever sends what.
 */
export const LIMITS = {
  workflowId: 1000,
  runId: 100,
  environment: 63,
  by: 100,
  reason: 500,
  detail: 2000,
  time: 40,
  identity: 200,
  /** The latest decisions of an operation kept in its history entry. */
  decisions: 20,
  /** Operations waiting in the queue; more are refused as busy. */
  queue: 100,
  /** The history kept in the record, as UTF-8 JSON; older entries are counted in `dropped`. */
  historyBytes: 1_000_000,
  /** History entries one `importHistory` call takes. */
  importBatch: 500,
  /** An import request's content ID, and how many of them the record remembers. */
  importId: 64,
  imports: 1000,
} as const;

const bounded = (field: string, max: number) => z.string().max(max, `${field} has at most ${max} characters`);

const isBoundedDecision = (d: unknown): boolean => {
  if (typeof d !== 'object' || d === null) return false;
  const { kind, by, reason, at, step, identity, fingerprint } = d as Record<string, unknown>;
  const text = (v: unknown, max: number) => typeof v === 'string' && v.length <= max;
  const optional = (v: unknown, max: number) => v === undefined || v === null || text(v, max);
  return (
    text(kind, 20) &&
    text(by, LIMITS.by) &&
    text(reason, LIMITS.reason) &&
    text(at, LIMITS.time) &&
    // A step is null when nothing had failed; a history file written by hand may leave it out.
    optional(step, 40) &&
    optional(identity, LIMITS.identity) &&
    optional(fingerprint, 100)
  );
};

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * An entry made to fit the bounds: long texts cut with "…", only the latest decisions (the detail
 * says how many earlier ones were left out). What senders apply before the entity checks it.
 */
export function fitEntry<E extends HistoryEntry>(entry: E): E {
  const left = entry.decisions.length - LIMITS.decisions;
  const decisions = entry.decisions.slice(Math.max(0, left)).map((d) => ({
    ...d,
    by: clip(d.by, LIMITS.by),
    reason: clip(d.reason, LIMITS.reason),
    ...(d.identity !== undefined && { identity: clip(d.identity, LIMITS.identity) }),
  }));
  const detail = left > 0 ? `${entry.detail} (${left} earlier decisions not kept here)`.trim() : entry.detail;
  return {
    ...entry,
    requestedBy: clip(entry.requestedBy, LIMITS.by),
    reason: clip(entry.reason, LIMITS.reason),
    detail: clip(detail, LIMITS.detail),
    decisions,
  };
}

/** Bytes of a value as UTF-8 JSON, as the server counts a payload. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? (i++, 4) : 3;
  }
  return bytes;
}

const environmentStateSchema = z.enum(ENVIRONMENT_STATES);
const kindSchema = z.enum(['enable', 'disable', 'window']);

/**
 * An operation run as the entity knows it. `lineage` is the run's first execution run ID: a Reset
 * from the Web UI (or a continue-as-new) changes the run ID but not the lineage, and keeps the lock.
 */
const operationRefSchema = z.object({
  workflowId: z
    .string()
    .min(1)
    .max(LIMITS.workflowId, `a workflow ID has at most ${LIMITS.workflowId} characters`),
  runId: z.string().min(1).max(LIMITS.runId, `a run ID has at most ${LIMITS.runId} characters`),
  lineage: z
    .string()
    .min(1)
    .max(LIMITS.runId, `a lineage (first run ID) has at most ${LIMITS.runId} characters`),
});
export type OperationRef = z.infer<typeof operationRefSchema>;

export const lockHolderSchema = operationRefSchema.extend({
  action: kindSchema,
  requestedBy: bounded('requestedBy', LIMITS.by),
  since: bounded('since', LIMITS.time),
  /** A queued operation: the state the environment enters once the lock is granted to it. */
  state: environmentStateSchema.optional(),
});
export type LockHolder = z.infer<typeof lockHolderSchema>;

export const lockRequestSchema = lockHolderSchema
  .extend({
    /** A window's child operation shares its parent's lock. */
    parent: z
      .object({
        workflowId: bounded('parent.workflowId', LIMITS.workflowId),
        runId: bounded('parent.runId', LIMITS.runId),
      })
      .optional(),
    /** Queue behind the holder instead of being refused; the grant comes as `lockGranted`. */
    wait: z.boolean().optional(),
  })
  .strict();
export type LockRequest = z.infer<typeof lockRequestSchema>;

export type LockAnswer =
  | { acquired: true; shared: boolean; takenOverFrom?: string }
  | { acquired: false; holder: LockHolder; position?: number };

/** One line of the environment history ("Environment changes"); every field bounded, so the record is. */
export const historyEntrySchema = z.object({
  operationId: bounded('operationId', LIMITS.workflowId),
  runId: bounded('runId', LIMITS.runId),
  lineage: bounded('lineage', LIMITS.runId).optional(),
  environment: bounded('environment', LIMITS.environment),
  /** `unlock` for a lock released by force. */
  action: z.enum(['enable', 'disable', 'window', 'unlock']),
  requestedBy: bounded('requestedBy', LIMITS.by),
  reason: bounded('reason', LIMITS.reason),
  startedAt: bounded('startedAt', LIMITS.time),
  finishedAt: bounded('finishedAt', LIMITS.time),
  /** `Released`: the lock was released without the operation (forced, or its holder closed). */
  result: z.enum([...RESULTS, 'Released']),
  detail: bounded('detail', LIMITS.detail),
  decisions: z
    .array(
      z.custom<Decision>(isBoundedDecision, {
        message: `a decision is {kind, by (at most ${LIMITS.by} characters), reason (at most ${LIMITS.reason}), at, step, identity (at most ${LIMITS.identity})}`,
      }),
    )
    .max(LIMITS.decisions, `at most ${LIMITS.decisions} decisions an entry (the latest)`),
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
    /**
     * The holder the operator was shown: if the lock changed hands meanwhile, nothing is released.
     * The CLI always sends it; typed in the Web UI without it, whoever holds the lock is released.
     */
    expected: operationRefSchema.pick({ workflowId: true, lineage: true }).strict().optional(),
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
  /** Oldest first; bounded by `history.keep` and LIMITS.historyBytes. */
  history: z.array(historyEntrySchema),
  /** Entries dropped from the start to keep the record bounded. */
  dropped: z.number().int().min(0),
  /**
   * The import requests `maint upgrade` has applied (an ID of each request's content, newest last,
   * bounded): a second run imports none of them again, even once the bound has dropped their entries.
   */
  imports: z.array(z.string().max(LIMITS.importId)).max(LIMITS.imports).optional(),
  /** Left in maintenance by a plain enable, watched against maximumInMaintenance (carried across continue-as-new). */
  maintenance: z
    .object({
      /** When the enable left it in maintenance. */
      since: bounded('since', LIMITS.time),
      operationId: bounded('operationId', LIMITS.workflowId),
      lineage: bounded('lineage', LIMITS.runId),
      requestedBy: bounded('requestedBy', LIMITS.by),
      /** When it became overdue (the event was sent). */
      overdueSince: bounded('overdueSince', LIMITS.time).optional(),
      /** What autoDisable did: the disable it started, or why it did not. */
      autoDisable: bounded('autoDisable', LIMITS.detail).optional(),
    })
    .optional(),
});
export type EnvironmentRecord = z.infer<typeof environmentRecordSchema>;

export const environmentEntityInputSchema = z
  .object({
    environment: environmentNameSchema,
    /** Carried by the entity's own continue-as-new; ignored on any other start. */
    record: environmentRecordSchema.optional(),
    /** The closed run this one replaces (from the client that found it closed): its state is recovered. */
    previousRunId: z.string().min(1).max(LIMITS.runId).optional(),
  })
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
  /** In maintenance since a plain enable, and whether that is overdue (policies.maximumInMaintenance). */
  maintenance?: EnvironmentRecord['maintenance'];
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
  .object({
    entries: z
      .array(historyEntrySchema)
      .max(LIMITS.importBatch, `at most ${LIMITS.importBatch} entries per import: send them in batches`),
    holder: lockHolderSchema.optional(),
    /** An ID of this request's content: one applied before is not applied again. */
    id: z.string().min(1).max(LIMITS.importId).optional(),
  })
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
