import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure, CancelledFailure, Context, log } from '@temporalio/activity';
import type { Config } from '../config/schema';
import { ErrorType } from '../contract/errors';
import type { AosControl, AosState, EnvironmentDrivers } from '../drivers/capabilities';
import { collectTranscript } from '../drivers/transcript';
import { SETTLE_POLL_MS, SETTLE_TIMEOUT_MS } from './driver-calls';
import { classify } from './errors';

/** What every activity that calls an environment's drivers needs. */
export interface DriverDeps {
  environments: Config['environments'];
  /** The drivers of one environment; the worker builds them once per environment. */
  drivers(environment: string): EnvironmentDrivers;
}

export interface EnvironmentRef {
  environment: string;
}

/** Throws UnknownEnvironment, never retried, for an environment temporal.yaml does not declare. */
export function requireEnvironment(environments: Config['environments'], environment: string): void {
  if (!environments[environment]) {
    const known = Object.keys(environments).join(', ');
    throw ApplicationFailure.nonRetryable(
      `Unknown environment "${environment}". Known environments: ${known}. Declare it in temporal.yaml.`,
      ErrorType.UnknownEnvironment,
    );
  }
}

/** The drivers of a declared environment. */
export function environmentDrivers(deps: DriverDeps, environment: string): EnvironmentDrivers {
  requireEnvironment(deps.environments, environment);
  return deps.drivers(environment);
}

/** Heartbeats while `work` runs, and hands it the activity's cancellation signal. */
export async function heartbeating<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1000);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Runs driver calls, heartbeating (a command can run for minutes) and handing them the activity's
 * cancellation signal; their errors become failures that say whether retrying can help (the driver's
 * verdict).
 */
export async function guarded<T>(
  d: EnvironmentDrivers,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
  unavailable?: ErrorType,
): Promise<T> {
  try {
    return await heartbeating(work);
  } catch (err) {
    // A cancelled activity must say so, or Temporal would take the cancellation for a failure.
    if (err instanceof CancelledFailure) throw err;
    throw classify(err, what, unavailable, (e) => d.classify(e));
  }
}

/**
 * The AOS once none of `ids` (default: all) is starting or stopping, or as they are when the wait is
 * up. With a signal the wait is cancellable; without, it is the wait of an activity already cancelled.
 */
export async function settled(
  aosControl: AosControl,
  signal?: AbortSignal,
  ids?: string[],
): Promise<AosState[]> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const all = await aosControl.list(signal);
    const moving = all.some(
      (a) => (a.status === 'starting' || a.status === 'stopping') && (!ids || ids.includes(a.id)),
    );
    if (!moving || Date.now() >= deadline) return all;
    await (signal ? Context.current().sleep(SETTLE_POLL_MS) : delay(SETTLE_POLL_MS));
  }
}

/**
 * Work that starts or stops the AOS `ids`. Cancelled, it aborts its request, but the control plane
 * finishes the start or stop on its own: the cancellation is thrown only once those AOS are running or
 * stopped (bounded), so the workflow, which waits for its activities to stop, never records the abort
 * and releases the lock with an AOS mid-restart.
 */
export function changingAos<T>(
  aosControl: AosControl,
  ids: string[],
  work: (signal: AbortSignal) => Promise<T>,
): (signal: AbortSignal) => Promise<T> {
  return async (signal) => {
    try {
      return await work(signal);
    } catch (err) {
      // Still heartbeating (guarded) while it waits, so the wait is not taken for a lost worker.
      if (signal.aborted)
        await settled(aosControl, undefined, ids).catch((e: Error) =>
          log.warn('Cancelled: could not see whether the AOS settled', { ids, error: e.message }),
        );
      throw err;
    }
  };
}

/** What drivers ran for a change, for the operation log (`transcript`, absent when nothing was run). */
export async function transcribed<T extends object>(
  work: () => Promise<T>,
): Promise<T & { transcript?: string[] }> {
  const { result, transcript } = await collectTranscript(work);
  return transcript.length > 0 ? { ...result, transcript } : result;
}
