import type { Decision, ErrorInfo, OperationStatus, Result, WindowStatus } from './operation';
import type { FreezeExceptionRecord } from './freeze';

/** CloudEvents `type` of each occurrence in an operation's life. */
export const EVENT_TYPES = {
  started: 'maintenance.operation.started',
  decisionRequired: 'maintenance.operation.decision_required',
  decided: 'maintenance.operation.decided',
  finished: 'maintenance.operation.finished',
  windowOpened: 'maintenance.window.opened',
  windowClosing: 'maintenance.window.closing',
  environmentOverdue: 'maintenance.environment.overdue',
} as const;
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** What every event says about its operation, plus what the occurrence adds. */
export interface OperationEventData extends Pick<
  OperationStatus,
  'operationId' | 'environment' | 'action' | 'requestedBy' | 'reason' | 'state' | 'step'
> {
  /** decision_required: the step's error; finished: the last failure, if any. */
  error?: ErrorInfo;
  /** The decisions that fit: resume, rollback, abort after a failure; approve, reject for an approval. */
  availableDecisions?: Decision['kind'][];
  decisionDeadline?: string;
  /** `fingerprint`: the key that signed it, on a protected environment. */
  decision?: Pick<Decision, 'kind' | 'by' | 'reason' | 'identity' | 'fingerprint'>;
  result?: Result;
  window?: WindowStatus;
  /** Every event of an operation started during a change freeze by an approver's signed exception. */
  freezeException?: FreezeExceptionRecord;
  /** environment.overdue: since when maintenance is on, the limit, and what autoDisable did. */
  overdue?: { since: string; maximum: string; autoDisable: string };
}

/**
 * A CloudEvent 1.0 as plain JSON, built deterministically in workflow code: `id` is the same for one
 * occurrence however often it is replayed or redelivered, `time` is workflow time.
 */
export interface OperationEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: EventType;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: OperationEventData;
}

/** What a workflow needs to emit (from the worker's settings): sink names only, never URLs or headers. */
export interface EventSettings {
  source: string;
  sinks: string[];
  timeoutMs: number;
  retry: {
    initialIntervalMs: number;
    backoffCoefficient: number;
    maximumIntervalMs: number;
    maximumAttempts: number;
  };
}

/** One event to one sink (a sink is named as in the worker's settings, never by its URL or secrets). */
export interface DeliverEventInput {
  event: OperationEvent;
  sink: string;
}
export interface DeliverEventResult {
  sink: string;
  attempt: number;
}

/** `ApplicationFailure.type` of a delivery that failed; `details[0]` carries `{ attempt }`. */
export const EventErrorType = {
  /** The receiver refused the event (HTTP 4xx other than 429): retrying cannot help. */
  rejected: 'EventRejected',
  /** Network error, timeout, HTTP 5xx or 429, a file that cannot be written: retried. */
  failed: 'EventDeliveryFailed',
  /** The worker's configuration has no sink of that name (it changed since the operation started). */
  unknownSink: 'UnknownEventSink',
} as const;

/** The occurrence's stable id: the workflow, its lineage (first run, kept across continue-as-new and reset), the occurrence. */
export function eventId(workflowId: string, lineage: string, occurrence: string): string {
  return `${workflowId}/${lineage}/${occurrence}`;
}

/** The `source` of every event of an environment in an installation. */
export function eventSource(installation: string, environment: string): string {
  return `/maintenance/${installation}/${environment}`;
}
