/** `ApplicationFailure.type` values. Listed once so activities, workflows and retry policies agree. */
export const ErrorType = {
  InvalidInput: 'InvalidInput',
  UnknownEnvironment: 'UnknownEnvironment',
  UnknownAos: 'UnknownAos',
  RequestRejected: 'RequestRejected',
  DatabaseUnreachable: 'DatabaseUnreachable',
  ControlPlaneUnreachable: 'ControlPlaneUnreachable',
  AosStartFailed: 'AosStartFailed',
  VerificationFailed: 'VerificationFailed',
  AosUnavailable: 'AosUnavailable',
  EnvironmentBusy: 'EnvironmentBusy',
  /** A change freeze (temporal.yaml `freezes:`) covers the environment now: refused, nothing changed. */
  EnvironmentFrozen: 'EnvironmentFrozen',
  UnknownConfigurationKey: 'UnknownConfigurationKey',
  /**
   * A protected environment's operation whose requester cannot be proved (an unsigned start, a
   * signature that does not verify, a parent or schedule the server does not confirm): refused, nothing changed.
   */
  NotTrusted: 'NotTrusted',
  /** A window (or rollout member) that would open in the last minutes of its slot (its cutoff): refused, nothing changed. */
  CutoffPassed: 'CutoffPassed',
  /** A hook (temporal.yaml `hooks`) failed: its step fails, and retries when its exit code says so. */
  HookFailed: 'HookFailed',
  /** A `before` hook failed and vetoed the operation (hooks.onFailure: refuse): refused, nothing changed. */
  HookRefused: 'HookRefused',
  /** The operation ended Aborted (by a decision or a cancellation) or Failed (no decision in time). */
  OperationAborted: 'OperationAborted',
  OperationFailed: 'OperationFailed',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Errors that retrying cannot fix: the retry policy stops at once on these. */
export const NON_RETRYABLE_ERROR_TYPES: ErrorType[] = [
  ErrorType.InvalidInput,
  ErrorType.UnknownEnvironment,
  ErrorType.UnknownAos,
  ErrorType.RequestRejected,
  ErrorType.EnvironmentBusy,
  ErrorType.EnvironmentFrozen,
  ErrorType.UnknownConfigurationKey,
  ErrorType.NotTrusted,
  ErrorType.CutoffPassed,
  ErrorType.HookRefused,
];
