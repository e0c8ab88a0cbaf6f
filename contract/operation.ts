/**
 * The contract shared by workflows, activities, the worker and the CLI: names, schemas, message
 * definitions and search attributes. Import-safe in workflow code (no Node APIs, no I/O).
 */
import { defineSearchAttributeKey, type SignalDefinition, type UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { RequesterProof } from './approval';
import { freezeExceptionSchema, type FreezeExceptionRecord } from './freeze';
import type { BookingStatus } from './booking';
import { HOOKS } from './hooks';
import type { ImpactPreview } from './impact';
import { signedAnswerFields, signedStartFields } from './signing';
import { matches } from './validation';

export const TASK_QUEUE_DEFAULT = 'maintenance';

export const ACTIONS = ['enable', 'disable'] as const;
export type Action = (typeof ACTIONS)[number];
/** What an operation does: a servicing operation, or a maintenance window around two of them. */
export type OperationKind = Action | 'window';
/** What a workflow of the product does: an operation, or a rollout of operations over many environments. */
export type LifecycleKind = OperationKind | 'rollout';

export const WORKFLOW_TYPES = {
  enable: 'enableMaintenanceMode',
  disable: 'disableMaintenanceMode',
  window: 'maintenanceWindow',
} as const satisfies Record<OperationKind, string>;

/** Environment states of the source article's servicing model, as shown in queries and the UI. */
export const ENVIRONMENT_STATES = [
  'Deployed',
  'EnablingMaintenance',
  'InMaintenance',
  'DisablingMaintenance',
  'Failed',
  'RollingBack',
] as const;
export type EnvironmentState = (typeof ENVIRONMENT_STATES)[number];
/**
 * An operation's own states besides the environment's: waiting for approval on a protected
 * environment, rejected (nothing changed), booked (a window waiting for its time). The environment
 * entity never takes these.
 */
export const OPERATION_STATES = [...ENVIRONMENT_STATES, 'AwaitingApproval', 'Rejected', 'Booked'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];
export const isEnvironmentState = (s: OperationState): s is EnvironmentState =>
  (ENVIRONMENT_STATES as readonly string[]).includes(s);

/** Custom search attributes (registered on the dev server by `npm start` and the tests). */
export const searchAttributes = {
  environment: defineSearchAttributeKey('MaintenanceEnvironment', 'KEYWORD'),
  action: defineSearchAttributeKey('MaintenanceAction', 'KEYWORD'),
  state: defineSearchAttributeKey('MaintenanceState', 'KEYWORD'),
  result: defineSearchAttributeKey('MaintenanceResult', 'KEYWORD'),
};
export const SEARCH_ATTRIBUTE_KEYS = Object.values(searchAttributes);

export const environmentNameSchema = z
  .string({ required_error: 'name the environment, e.g. "contoso-sandbox"' })
  .refine(
    matches(/^[a-z0-9][a-z0-9-]{0,62}$/),
    'environment names are lower-case letters, digits and dashes',
  );

export const BUSY_POLICIES = ['skip', 'wait'] as const;
export type BusyPolicy = (typeof BUSY_POLICIES)[number];

export const servicingInputSchema = z
  .object({
    environment: environmentNameSchema,
    requestedBy: z
      .string({ required_error: 'say who asks for it, e.g. "jane.doe"' })
      .trim()
      .min(1, 'say who asks for it, e.g. "jane.doe"')
      .max(100),
    reason: z.string().trim().max(500).default(''),
    /** Return the plan of what it would do, from read-only calls, and change nothing. */
    dryRun: z.boolean().optional(),
    /**
     * A busy environment: `skip` refuses at once (an operation's default), `wait` queues at its entity
     * for up to policies.windows.busyTimeout (a window's default). Rollouts set it.
     */
    onBusy: z
      .enum(BUSY_POLICIES, {
        errorMap: () => ({
          message: 'onBusy is "skip" (a busy environment is skipped) or "wait" (the operation queues for it)',
        }),
      })
      .optional(),
    /** On a protected environment: the requester's signature over this input (contract/signing.ts). */
    ...signedStartFields,
    /** During a change freeze: an approver's signed exception for this run (contract/freeze.ts). */
    freezeException: freezeExceptionSchema.optional(),
  })
  .strict();
export type ServicingInput = z.input<typeof servicingInputSchema>;
export type ValidServicingInput = z.infer<typeof servicingInputSchema>;

/** What an operator can paste into the Web UI's Start Workflow form. */
export const EXAMPLE_INPUT: ServicingInput = {
  environment: 'contoso-sandbox',
  requestedBy: 'jane.doe',
  reason: 'Enable configuration keys for the new warehouse',
};

export const FORWARD_STEPS = ['preflight', 'flipFlag', 'restartAos', 'verify'] as const;
export const ROLLBACK_STEPS = ['restoreFlag', 'restoreAos', 'verifyRestored'] as const;
export const WINDOW_STEPS = ['preflight', 'enable', 'applyChanges', 'window', 'disable'] as const;
/** Windows of earlier releases: restore the keys, then leave maintenance. */
export const WINDOW_ROLLBACK_STEPS = ['restoreKeys', 'disable'] as const;
/** Windows now: restore the keys, then the flag and AOS exactly as the window found them. */
export const WINDOW_EXACT_ROLLBACK_STEPS = ['restoreKeys', ...ROLLBACK_STEPS] as const;
export const STEPS = [
  ...FORWARD_STEPS,
  ...ROLLBACK_STEPS,
  'enable',
  'applyChanges',
  'window',
  'disable',
  'restoreKeys',
  ...HOOKS,
  'record',
] as const;
export type StepName = (typeof STEPS)[number];
export const STEP_TITLES: Record<StepName, string> = {
  preflight: 'Preflight: take the lock, snapshot state',
  flipFlag: 'Set CONFIGURATIONMODE',
  restartAos: 'Restart AOS instances',
  verify: 'Verify topology and sign-in rules',
  restoreFlag: 'Rollback: restore CONFIGURATIONMODE',
  restoreAos: 'Rollback: restore the AOS that ran before',
  verifyRestored: 'Rollback: verify the environment is as before',
  enable: 'Enable maintenance mode (child operation)',
  applyChanges: 'Apply configuration key changes',
  window: 'Maintenance window open',
  disable: 'Disable maintenance mode (child operation)',
  restoreKeys: 'Rollback: restore the configuration keys',
  beforeEnable: 'Hook beforeEnable (temporal.yaml hooks)',
  afterEnable: 'Hook afterEnable (temporal.yaml hooks)',
  beforeDisable: 'Hook beforeDisable (temporal.yaml hooks)',
  afterDisable: 'Hook afterDisable (temporal.yaml hooks)',
  record: 'Record in history, release the lock',
};

/** How an operation ended, in the environment history and the MaintenanceResult search attribute. */
export const RESULTS = ['Succeeded', 'RolledBack', 'Aborted', 'Failed', 'Rejected'] as const;
export type Result = (typeof RESULTS)[number];

export const DECISIONS = ['resume', 'rollback', 'abort'] as const;
export type DecisionKind = (typeof DECISIONS)[number];
export const DECISION_HELP: Record<DecisionKind, string> = {
  resume: 'run the failed step again from its start and continue',
  rollback: 'undo the completed steps and put the environment back where it was',
  abort: 'stop now and leave the environment as it is',
};

/** What an operator sends with a decision (also typed as JSON in the Web UI's signal form). */
export const decisionInputSchema = z
  .object({
    by: z
      .string({ required_error: 'say who decides, e.g. {"by": "jane.doe"}' })
      .trim()
      .min(1, 'say who decides, e.g. {"by": "jane.doe"}')
      .max(100),
    reason: z.string().trim().max(500).default(''),
    /** On a protected environment: the sender's signature over this answer (contract/signing.ts). */
    ...signedAnswerFields,
  })
  .strict();
export type DecisionInput = z.input<typeof decisionInputSchema>;

export interface Decision {
  /** `approve` and `reject` answer a protected environment's approval (contract/approval.ts). */
  kind: DecisionKind | 'approve' | 'reject' | 'cancel' | 'timeout' | 'pause';
  by: string;
  reason: string;
  at: string;
  /** The step that had failed when the decision came. */
  step: StepName | null;
  /**
   * The Temporal client identity of the sender (`maint-cli jane@host`, a worker's `pid@host`), from
   * the header our clients add. Absent when the sender did not say: the Web UI, the `temporal` CLI,
   * or a client without the interceptor; and for cancellations and timeouts.
   */
  identity?: string;
  /** On a protected environment: the fingerprint of the key that signed it (`by` is its owner). */
  fingerprint?: string;
}

/** The header in which the product's clients send their identity with signals and updates. */
export const CLIENT_IDENTITY_HEADER = 'maintenance-client-identity';

/**
 * "resume by jane (client maint-cli jane@host)"; an operator's decision from a client that did not say
 * is "client unknown"; a signed one names its key: "approve by bob (signed, key SHA256:…)".
 */
export function describeDecision(d: Decision): string {
  if (d.fingerprint) return `${d.kind} by ${d.by} (signed, key ${d.fingerprint})`;
  // Every kind but the system's own (a cancellation request, a deadline) is an operator's answer.
  const operator = d.kind !== 'cancel' && d.kind !== 'timeout';
  const client = d.identity ? ` (client ${d.identity})` : operator ? ' (client unknown)' : '';
  return `${d.kind} by ${d.by}${client}`;
}

export interface DecisionAck {
  accepted: true;
  decision: Decision;
  message: string;
}

export const aosRoleSchema = z.enum(['interactive', 'batch']);
export type AosRole = z.infer<typeof aosRoleSchema>;

/** What preflight captures for rollback and for "already in the requested mode". */
export const environmentSnapshotSchema = z.object({
  configurationMode: z.union([z.literal(0), z.literal(1)]),
  instances: z.array(
    z.object({
      id: z.string(),
      role: aosRoleSchema,
      running: z.boolean(),
      maintenanceMode: z.boolean().nullable(),
    }),
  ),
});
export type EnvironmentSnapshot = z.infer<typeof environmentSnapshotSchema>;

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'skipped' | 'failed';
export interface StepRecord {
  name: StepName;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  detail?: string;
}

export interface ErrorInfo {
  message: string;
  type?: string;
}

/** One line of the operation log: a step, an attempt of an activity, a decision, a note. */
export interface KeyChange {
  name: string;
  from: boolean;
  to: boolean;
}

export interface WindowStatus {
  /** When the window closes now (extensions move it, endWindow brings it forward). */
  endsAt?: string;
  /** The latest it may close: opened plus the configured maximum duration. */
  latestEndsAt?: string;
  openedAt?: string;
  closedAt?: string;
  /** Maintenance mode was already on when the window opened: it stays on when the window closes. */
  keepsMaintenanceOn?: boolean;
  changes: KeyChange[];
  /** Who extended or ended it, with the client identity they sent or the key that signed (as for decisions). */
  extensions: {
    by: string;
    duration: string;
    reason: string;
    at: string;
    identity?: string;
    fingerprint?: string;
  }[];
  endedEarly?: { by: string; reason: string; at: string; identity?: string; fingerprint?: string };
}

export interface LogEntry {
  at: string;
  kind: 'step' | 'attempt' | 'decision' | 'note';
  step?: StepName;
  /** The AOS instance an attempt acted on. */
  aos?: string;
  attempt?: number;
  outcome?: 'started' | 'succeeded' | 'failed' | 'skipped';
  durationMs?: number;
  message: string;
  error?: ErrorInfo;
}

export interface OperationLog {
  operationId: string;
  runId: string;
  /** A rollout's: the tag or list of its environments. */
  environment: string;
  action: LifecycleKind;
  entries: LogEntry[];
  /** Entries dropped from the start to keep the workflow's state bounded. */
  dropped: number;
}

export interface OperationStatus {
  operationId: string;
  environment: string;
  action: OperationKind;
  requestedBy: string;
  reason: string;
  state: OperationState;
  phase: 'forward' | 'rollback';
  /** The step running now, or the last one when the operation has ended. */
  step: StepName | null;
  /** Percentage of the steps of the current phase done, 0 to 100. */
  progress: number;
  steps: StepRecord[];
  startedAt: string;
  finishedAt?: string;
  result?: Result;
  alreadyInMode?: boolean;
  failure?: { step: StepName; error: ErrorInfo; at: string };
  awaitingDecision: boolean;
  /** When an operation that waits for a decision gives up and ends Failed. */
  decisionDeadline?: string;
  availableDecisions: DecisionKind[];
  decisions: Decision[];
  /** Only for maintenance windows. */
  window?: WindowStatus;
  /** Only for a window booked ahead: when it opens, and whether it still waits or was cancelled. */
  booking?: BookingStatus;
  /** Only on a protected environment: who must approve, until when, and who did. */
  approval?: ApprovalStatus;
  /** Only on a protected environment: who asked for it, as proved (a signed start, a schedule, a parent). */
  requester?: RequesterProof;
  /** How many answers (decisions, approvals, window changes) it has taken: a signed answer names the next. */
  answers?: number;
  /** Started during a change freeze by an approver's signed exception. */
  freezeException?: FreezeExceptionRecord;
}

export interface ApprovalStatus {
  /** Waiting now for approve or reject. */
  awaiting: boolean;
  /** When an unanswered request ends Rejected. */
  deadline?: string;
  /** Who may approve (where approvals are signed), as the worker's temporal.yaml names them. */
  approvers?: string[];
  /** approve, reject, or timeout (by `system`), with the sender's client identity. */
  decision?: Decision;
  /** The schedule whose standing approval (`approvedBy` in temporal.yaml) covered this window. */
  standing?: string;
  /** The approval as verified: a signed approve (its key), a standing approval, or the parent window's. */
  verified?: { by: string; fingerprint?: string; standing?: string; parent?: string };
  /** Who the operation would affect, as read when the request was made (absent in earlier releases). */
  impact?: ImpactPreview;
}

export interface ServicingResult {
  operationId: string;
  environment: string;
  action: Action;
  result: Result;
  alreadyInMode: boolean;
  state: OperationState;
  startedAt: string;
  finishedAt: string;
  before?: EnvironmentSnapshot;
  steps: StepRecord[];
  decisions: Decision[];
  failure?: OperationStatus['failure'];
}

export const statusQuery = defineQuery<OperationStatus>('status');
export const logQuery = defineQuery<OperationLog>('log');

/**
 * An operator's answers (decisions, approvals, rollout commands), each an update (the CLI gets an
 * answer or a refusal) and a signal of the same name (the Web UI), with input `{"by", "reason"}`.
 */
export function answerDefinitions<K extends string>(
  names: readonly K[],
): {
  updates: Record<K, UpdateDefinition<DecisionAck, [DecisionInput]>>;
  signals: Record<K, SignalDefinition<[DecisionInput]>>;
} {
  const each = <T>(define: (name: K) => T) =>
    Object.fromEntries(names.map((n) => [n, define(n)])) as Record<K, T>;
  return {
    updates: each((n) => defineUpdate<DecisionAck, [DecisionInput]>(n)),
    signals: each((n) => defineSignal<[DecisionInput]>(n)),
  };
}

export const { updates: decisionUpdates, signals: decisionSignals } = answerDefinitions(DECISIONS);

/** Workflow IDs are business keys: one per environment for operations started by the CLI. */
export function operationWorkflowId(environment: string): string {
  return `maintenance-${environment}`;
}

export function targetState(action: Action): EnvironmentState {
  return action === 'enable' ? 'InMaintenance' : 'Deployed';
}

export function transitionalState(action: Action): EnvironmentState {
  return action === 'enable' ? 'EnablingMaintenance' : 'DisablingMaintenance';
}
