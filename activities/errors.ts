import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import { FleetHttpError, FleetUnreachableError } from '../fleet/client';

/**
 * Turns a driver error into an ApplicationFailure whose type says whether retrying can help:
 * an unreachable database or control plane and a failed AOS start are transient; a request the
 * environment rejects (unknown instance, bad request) is not.
 */
export function classify(
  err: unknown,
  what: string,
  unavailable: ErrorType = ErrorType.AosUnavailable,
): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof FleetUnreachableError) {
    return ApplicationFailure.retryable(
      `${what}: AOS control plane unreachable: ${message}`,
      ErrorType.ControlPlaneUnreachable,
    );
  }
  if (err instanceof FleetHttpError) {
    if (err.status === 404)
      return ApplicationFailure.nonRetryable(`${what}: ${message}`, ErrorType.UnknownAos);
    if (err.status >= 500) return ApplicationFailure.retryable(`${what}: ${message}`, unavailable);
    return ApplicationFailure.nonRetryable(`${what}: ${message}`, ErrorType.RequestRejected);
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR)/.test(code)) {
    return ApplicationFailure.retryable(
      `${what}: database unreachable (${code}): ${message}`,
      ErrorType.DatabaseUnreachable,
    );
  }
  return ApplicationFailure.retryable(`${what}: ${message}`, err instanceof Error ? err.name : 'Error');
}
