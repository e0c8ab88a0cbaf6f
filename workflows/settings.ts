import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';

/** Settings come from the worker's configuration, read through a local activity (not carried in inputs). */
export const { resolveEnvironment } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export const now = (): string => new Date().toISOString(); // workflow time: deterministic on replay

/** Names of `patched()` changes, so running operations replay the shape they started with. */
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
} as const;
