import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';

/** Settings come from the worker's configuration, read through a local activity (not carried in inputs). */
export const { resolveEnvironment } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export const now = (): string => new Date().toISOString(); // workflow time: deterministic on replay

/**
 * Names of `patched()` changes, so running operations replay the shape they started with. Operations,
 * windows and rollouts ask them through `hasPatch` (workflows/shape.ts), the environment entity directly.
 */
export const Patches = {
  /** Operations tell the environment entity when its state changes. */
  entityState: 'environment-entity-state',
  /** A window waiting for a busy environment queues at the entity instead of polling. */
  lockQueue: 'window-lock-queue',
  /**
   * Windows check their keys in preflight, leave the mode they found, roll back exactly to what they
   * found, cap extensions and continue as new while open.
   */
  windowKeepsFoundState: 'window-keeps-found-state',
  /** Cancelling waits until in-flight activities have stopped before the abort is recorded. */
  waitCancellation: 'operation-wait-cancellation',
  /** The record step runs to its end whatever cancellation comes, and the workflow closes as recorded. */
  recordNonCancellable: 'record-non-cancellable',
  /** Operations and windows emit CloudEvents to the configured sinks (delivery activities). */
  operationEvents: 'operation-events',
  /** Protected environments wait for approval before anything changes (workflows/approval.ts). */
  approval: 'protected-approval',
  /** Children of a rollout tell it when they wait for a decision (only children of rollouts check it). */
  rolloutReport: 'rollout-report',
  /**
   * The environment entity never fails on a worker's settings, bounds its record in bytes, takes a
   * carried record only from its own continue-as-new, recovers its lock and state from the previous
   * run when recreated, reports the state of a queued operation it grants the lock to, marks a holder
   * that closed without releasing Failed, and checks the holder an operator unlocks by force.
   */
  entityRecovers: 'environment-entity-recovers',
  /** A window carries an end requested while it hands over to its next run, and checks it after settling. */
  windowCarriesEnd: 'window-carries-end',
  /** A window keeps maintenance on by the flag it found (not by the exact maintenance topology). */
  windowKeepsFlag: 'window-keeps-flag',
  /** A window's `continued` input is taken only from its own continue-as-new (checked only when present). */
  windowVerifiesContinuation: 'window-verifies-continuation',
  /**
   * Rollouts: collision-free member IDs; a member awaiting a decision frees its slot once counted as an
   * error, and is no longer counted once it succeeds; a stop cancels members that still wait for the
   * lock or approval. Their children tell them when they wait so (checked only in a rollout's children).
   */
  rolloutMembers: 'rollout-members',
  /**
   * Change freezes: an operation, window or rollout member refuses to start while a freeze covers its
   * environment (unless an approver signed an exception for the run), and an open window refuses an
   * extension into a freeze (workflows/freeze.ts).
   */
  changeFreezes: 'change-freezes',
  /**
   * Windows booked ahead (`at`) wait for their time (approval may come meanwhile, checked again at the
   * start) and can be cancelled; windows with a cutoff do not open in the last minutes of their slot.
   */
  windowBooking: 'window-booking',
  /** A rollout of windows with a cutoff starts no member in the last minutes of its window (checked only with one). */
  rolloutCutoff: 'rollout-cutoff',
  /** The environment entity watches how long a plain enable leaves maintenance on (maximumInMaintenance). */
  environmentOverdue: 'environment-overdue',
  /** Servicing operations run their environment's hooks (temporal.yaml `hooks`) as steps; a failed `before` hook refuses. */
  hooks: 'operation-hooks',
  /** A protected environment's approval request carries who the operation would affect (the impact preview). */
  approvalImpact: 'approval-impact',
  /** The environment entity's own activities (recovery, liveness checks) run on a task queue of their own. */
  entityQueue: 'environment-entity-queue',
  /**
   * A workflow publishes its final state and its result in one search-attribute upsert, not two: each
   * upsert is an event the server stores and indexes (about 3 ms of a dev server's CPU).
   */
  oneFinalUpsert: 'one-final-upsert',
  /**
   * An operation that fails before it holds the lock shows `Failed` in its search attributes (the
   * runbook's Web UI view) and every state after; ended without the lock (aborted, timed out or
   * cancelled), it records its history entry alone (before, the entity took its `Failed` for the
   * environment's state). Asked only on those paths, on its own (in no release).
   */
  failedBeforeLock: 'failed-before-lock-shown',
  /**
   * An operation or window approved before it holds the lock shows its state from then on (before, the
   * Web UI kept `AwaitingApproval` until the lock: for days, for a window booked ahead). Asked only at
   * an approval, on its own (in no release).
   */
  approvedStateShown: 'approved-state-shown',
} as const;
