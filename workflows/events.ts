import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  EVENT_TYPES,
  EventErrorType,
  eventId,
  type EventSettings,
  type EventType,
  type OperationEvent,
  type OperationEventData,
} from '../contract/events';
import type { ErrorInfo, OperationStatus } from '../contract/operation';
import { now } from './settings';

/**
 * An operation's CloudEvents. Each occurrence gets an id from the workflow, its lineage and the
 * occurrence itself, so a replay or a redelivery carries the same id and receivers can de-duplicate.
 * Delivery never holds the operation up: one activity per event and sink is started and not awaited
 * (retried with backoff by its own policy); `settle` waits for them before the workflow closes, and a
 * delivery that finally fails is a note in the operation log. Without sinks nothing is scheduled, nor
 * for operations that started before events (the Operation hands no settings then).
 */
export class OperationEvents {
  private readonly deliveries: Promise<void>[] = [];
  private readonly deliver?: Activities['deliverEvent'];

  constructor(
    private readonly status: OperationStatus,
    private readonly settings: EventSettings | undefined,
    private readonly note: (message: string) => void,
  ) {
    // Undefined settings: no sinks, or a run from before events (the caller checked the patch).
    if (!settings || settings.sinks.length === 0) return;
    const { timeoutMs, retry } = settings;
    this.deliver = proxyActivities<Activities>({
      startToCloseTimeout: timeoutMs,
      retry: {
        initialInterval: retry.initialIntervalMs,
        backoffCoefficient: retry.backoffCoefficient,
        maximumInterval: retry.maximumIntervalMs,
        maximumAttempts: retry.maximumAttempts,
        nonRetryableErrorTypes: [EventErrorType.rejected, EventErrorType.unknownSink],
      },
    }).deliverEvent;
  }

  /** Emits one occurrence (`occurrence` names it within the operation: `started`, `decided-2`, ...). */
  emit(type: EventType, occurrence: string, data: Partial<OperationEventData> = {}): void {
    if (!this.deliver || !this.settings) return;
    const info = workflowInfo();
    const s = this.status;
    const event: OperationEvent = {
      specversion: '1.0',
      id: eventId(info.workflowId, info.firstExecutionRunId, occurrence),
      source: this.settings.source,
      type,
      subject: s.operationId,
      time: now(),
      datacontenttype: 'application/json',
      data: {
        operationId: s.operationId,
        environment: s.environment,
        action: s.action,
        requestedBy: s.requestedBy,
        reason: s.reason,
        state: s.state,
        step: s.step,
        ...(s.freezeException && { freezeException: s.freezeException }),
        ...data,
      },
    };
    for (const sink of this.settings.sinks) {
      // Not cancellable: an operation cancelled meanwhile still reports what happened.
      const delivery = CancellationScope.nonCancellable(() => this.deliver!({ event, sink })).then(
        () => undefined,
        (err: unknown) =>
          this.note(`event ${type} ${event.id} to ${sink} dropped after ${this.attempts(err)}`),
      );
      this.deliveries.push(delivery);
    }
  }

  started(): void {
    this.emit(EVENT_TYPES.started, 'started');
  }

  decisionRequired(): void {
    const s = this.status;
    this.emit(EVENT_TYPES.decisionRequired, `decision_required-${s.decisions.length + 1}`, {
      error: s.failure?.error,
      availableDecisions: s.availableDecisions,
      decisionDeadline: s.decisionDeadline,
    });
  }

  /** A protected environment's operation waits for approve or reject until `deadline`. */
  approvalRequired(deadline: string): void {
    this.emit(EVENT_TYPES.decisionRequired, `decision_required-${this.status.decisions.length + 1}`, {
      availableDecisions: ['approve', 'reject'],
      decisionDeadline: deadline,
      ...(this.status.approval?.impact && { impact: this.status.approval.impact }),
    });
  }

  decided(): void {
    const s = this.status;
    const d = s.decisions[s.decisions.length - 1];
    this.emit(EVENT_TYPES.decided, `decided-${s.decisions.length}`, {
      step: d.step,
      decision: {
        kind: d.kind,
        by: d.by,
        reason: d.reason,
        ...(d.identity && { identity: d.identity }),
        ...(d.fingerprint && { fingerprint: d.fingerprint }),
      },
    });
  }

  finished(): void {
    const s = this.status;
    this.emit(EVENT_TYPES.finished, 'finished', { result: s.result, error: s.failure?.error });
  }

  /** Refused in preflight (busy environment, unknown key): nothing changed, the workflow fails at once. */
  async refused(error: ErrorInfo): Promise<void> {
    this.emit(EVENT_TYPES.finished, 'finished', { result: 'Failed', error });
    await this.settle();
  }

  window(type: typeof EVENT_TYPES.windowOpened | typeof EVENT_TYPES.windowClosing): void {
    this.emit(type, type === EVENT_TYPES.windowOpened ? 'window.opened' : 'window.closing', {
      window: this.status.window,
    });
  }

  /** The environment stayed in maintenance past policies.maximumInMaintenance (the entity sends it). */
  overdue(overdue: NonNullable<OperationEventData['overdue']>): void {
    this.emit(EVENT_TYPES.environmentOverdue, `overdue-${this.status.operationId}`, { overdue });
  }

  /** Waits for every delivery started so far (each bounded by its retry policy), whatever cancellation comes. */
  async settle(): Promise<void> {
    if (this.deliveries.length === 0) return;
    await CancellationScope.nonCancellable(() => Promise.all(this.deliveries.splice(0)));
  }

  private attempts(err: unknown): string {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const reported =
      cause instanceof ApplicationFailure ? (cause.details?.[0] as { attempt?: number }) : undefined;
    const attempts =
      reported?.attempt ??
      (err instanceof ActivityFailure && err.retryState === 'MAXIMUM_ATTEMPTS_REACHED'
        ? this.settings?.retry.maximumAttempts
        : undefined);
    const message = cause instanceof Error ? cause.message : String(cause);
    return `${attempts ?? 'its'} attempt${attempts === 1 ? '' : 's'}: ${message}`;
  }
}
