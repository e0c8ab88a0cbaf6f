import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time';
import type { EventSinkConfig } from '../config/events';
import type { Config } from '../config/schema';
import type { Secrets } from '../config/secrets';
import {
  EventErrorType,
  eventSource,
  type DeliverEventInput,
  type DeliverEventResult,
  type EventSettings,
} from '../contract/events';
import { deliverTo, SinkError } from './event-sinks';

export interface EventDeps {
  sinks: EventSinkConfig[];
  /** Where `${env:NAME}` in a sink's url and headers is read, at delivery (the worker's process.env). */
  env: NodeJS.ProcessEnv;
  /** Every secret the worker holds: masked in an event before it leaves (a reason may quote one). */
  secrets: Secrets;
}

/** The settings an operation emits with (part of the recorded OperationSettings). */
export function eventSettings(
  events: Config['events'],
  installation: string,
  environment: string,
): EventSettings {
  return {
    source: eventSource(installation, environment),
    sinks: events.sinks.map((s) => s.name),
    timeoutMs: msToNumber(events.timeout),
    retry: {
      initialIntervalMs: msToNumber(events.retry.initialInterval),
      backoffCoefficient: events.retry.backoffCoefficient,
      maximumIntervalMs: msToNumber(events.retry.maximumInterval),
      maximumAttempts: events.retry.maximumAttempts,
    },
  };
}

/** How long one attempt may wait for its sink: a little less than the activity's own timeout. */
function attemptSignal(): AbortSignal {
  const { info, cancellationSignal } = Context.current();
  const timeout = Math.max(1000, (info.startToCloseTimeoutMs ?? 10_000) - 500);
  return AbortSignal.any([cancellationSignal, AbortSignal.timeout(timeout)]);
}

export function createEventActivities({ sinks, env, secrets }: EventDeps) {
  return {
    /**
     * Delivers one event to one sink. The workflow runs one activity per event and sink, so a sink that
     * fails is retried (the retry policy's backoff) without sending the event again to those that took it.
     */
    async deliverEvent({ event, sink: name }: DeliverEventInput): Promise<DeliverEventResult> {
      const { attempt } = Context.current().info;
      const sink = sinks.find((s) => s.name === name);
      if (!sink) {
        throw ApplicationFailure.create({
          message: `no event sink "${name}" in this worker's configuration`,
          type: EventErrorType.unknownSink,
          nonRetryable: true,
          details: [{ attempt }],
        });
      }
      try {
        await deliverTo(sink, secrets.maskValue(event), { env, signal: attemptSignal() });
      } catch (err) {
        const e = err instanceof SinkError ? err : new SinkError((err as Error).message, true);
        log.warn('Event delivery failed', {
          sink: name,
          type: event.type,
          id: event.id,
          attempt,
          error: e.message,
        });
        throw ApplicationFailure.create({
          message: e.message,
          type: e.retryable ? EventErrorType.failed : EventErrorType.rejected,
          nonRetryable: !e.retryable,
          details: [{ attempt }],
        });
      }
      return { sink: name, attempt };
    },
  };
}
