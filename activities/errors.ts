import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import type { DriverErrorKind } from '../drivers/capabilities';

/**
 * Turns an error into an ApplicationFailure whose type says whether retrying can help, from what the
 * environment's driver says of it (`kindOf`): an unreachable database or control plane and an
 * unavailable AOS are transient; a request the environment rejects (unknown instance, bad request) is
 * not. Errors no driver claims are retried.
 */
export function classify(
  err: unknown,
  what: string,
  unavailable: ErrorType = ErrorType.AosUnavailable,
  kindOf: (err: unknown) => DriverErrorKind | undefined = () => undefined,
): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  switch (kindOf(err)) {
    case 'controlPlaneUnreachable':
      return ApplicationFailure.retryable(
        `${what}: AOS control plane unreachable: ${message}`,
        ErrorType.ControlPlaneUnreachable,
      );
    case 'databaseUnreachable': {
      const code = (err as { code?: unknown }).code;
      return ApplicationFailure.retryable(
        `${what}: database unreachable${typeof code === 'string' ? ` (${code})` : ''}: ${message}`,
        ErrorType.DatabaseUnreachable,
      );
    }
    case 'unavailable':
      return ApplicationFailure.retryable(`${what}: ${message}`, unavailable);
    case 'unknownAos':
      return ApplicationFailure.nonRetryable(`${what}: ${message}`, ErrorType.UnknownAos);
    case 'rejected':
      return ApplicationFailure.nonRetryable(`${what}: ${message}`, ErrorType.RequestRejected);
    default:
      return ApplicationFailure.retryable(`${what}: ${message}`, err instanceof Error ? err.name : 'Error');
  }
}
