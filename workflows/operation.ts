import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities, OperationSettings } from '../activities';
import {
  environmentWorkflowId,
  lockGrantedSignal,
  operationStateSignal,
  type LockHolder,
} from '../contract/environment';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';
import {
  DECISIONS,
  DECISION_HELP,
  STEP_TITLES,
  decisionSignals,
  decisionUpdates,
  statusQuery,
  type Decision,
  type DecisionKind,
  type EnvironmentState,
  type ErrorInfo,
  isEnvironmentState,
  type OperationKind,
  type OperationState,
  type OperationLog,
  type OperationStatus,
  type Result,
  type StepName,
} from '../contract/operation';
import { formatDuration } from '../contract/window';
import { approvalDetails, unsignedHint } from './approval';
import { awaited } from './metrics';
import { OperationEvents } from './events';
import { setAnswerHandlers } from './answers';
import { Lifecycle, decisionFrom, inputRefusal } from './lifecycle';
import { OperationRecord } from './operation-record';
import { RolloutReport } from './rollout-report';
import { PRIORITIES } from '../contract/priority';
import { Patches, now, resolveEnvironment } from './settings';
import { hasPatch } from './shape';
import { answerSigner, type Signer } from './signed';

/** The error an activity or child threw, without Temporal's wrapping, and whether retrying can help. */
export function causeOf(err: unknown): { error: ErrorInfo; nonRetryable: boolean } {
  const cause =
    (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? undefined;
    const listed = !!type && (NON_RETRYABLE_ERROR_TYPES as string[]).includes(type);
    return { error: { message: cause.message, type }, nonRetryable: !!cause.nonRetryable || listed };
  }
  if (cause instanceof TimeoutFailure) {
    return { error: { message: `timed out (${cause.timeoutType})`, type: 'Timeout' }, nonRetryable: false };
  }
  return { error: { message: cause instanceof Error ? cause.message : String(cause) }, nonRetryable: false };
}

/** The commands a driver ran for an activity (`transcript` of its result), bounded and masked by the driver. */
function transcriptOf(result: unknown): string[] {
  const lines = (result as { transcript?: unknown } | undefined)?.transcript;
  return Array.isArray(lines) ? lines.filter((l): l is string => typeof l === 'string') : [];
}

/** Preflight errors that end an operation at once: busy or frozen environment, a window naming an unknown key or past its cutoff. */
const PREFLIGHT_REFUSALS: string[] = [
  ErrorType.EnvironmentBusy,
  ErrorType.EnvironmentFrozen,
  ErrorType.UnknownConfigurationKey,
  ErrorType.CutoffPassed,
];

/** A window waiting for the lock stops waiting at its cutoff, refused with the window's own words. */
export interface WaitCutoff {
  atMs: number;
  refusal: (why: string) => ApplicationFailure;
}

/** Control flow inside a workflow: the operation stops with this result. */
export class Stop {
  constructor(readonly result: 'Aborted' | 'Failed') {}
}
export class RollbackRequested {}

/** The result a Stop carries; anything else is not ours to handle. */
export function stopped(err: unknown): Result {
  if (err instanceof Stop) return err.result;
  throw err;
}

/**
 * Runs the admission of a protected environment's operation (ApprovalGate.admit); refused, it tells
 * the event sinks (the audit trail of who tried what) and fails the workflow: nothing was changed.
 */
export async function refusedUnlessAdmitted(op: Operation, admit: () => Promise<void>): Promise<void> {
  try {
    await admit();
  } catch (err) {
    const { error, nonRetryable } = causeOf(err);
    if (!nonRetryable) throw err;
    log.warn('Operation refused: its requester is not proved', {
      environment: op.status.environment,
      error: error.message,
    });
    await op.events.refused(error);
    throw err instanceof ApplicationFailure
      ? err
      : ApplicationFailure.nonRetryable(error.message, error.type);
  }
}

export interface OperationSpec {
  kind: OperationKind;
  environment: string;
  requestedBy: string;
  reason: string;
  /** The headline of the Web UI's Current Details. */
  title: string;
  initialState: EnvironmentState;
  forwardSteps: readonly StepName[];
  rollbackSteps: readonly StepName[];
  /** Whether rollback is possible now (for example: a snapshot was taken). */
  canRollback(): boolean;
}

/**
 * What every operation on one environment shares, on top of the lifecycle: operator decisions on a
 * failed step (updates and signals), activity calls retried and logged attempt by attempt, the
 * servicing lock and the history entry at the end.
 */
export class Operation extends Lifecycle<OperationStatus> {
  readonly record: OperationRecord;
  settings!: OperationSettings;
  act!: ReturnType<typeof proxyActivities<Activities>>;
  /** For calls that add a summary the Web UI shows next to the activity (`executeWithOptions`). */
  activityOptions!: ActivityOptions;
  /** CloudEvents to the configured sinks, delivered without holding the operation up. */
  events!: OperationEvents;
  private pending?: Decision;
  private lockHeld = false;
  /**
   * Failed before it held the lock, in a run of Patches.failedBeforeLock: its states are published
   * since, and ended without the lock, it records its history entry alone.
   */
  private failedUnheld = false;
  /** Approved before it held the lock, in a run of Patches.approvedStateShown: its states are published since. */
  private approvedUnheld = false;
  /** The state the environment entity has from this operation. */
  private reportedState?: OperationState;
  /** The entity granted the lock to this operation, which was waiting in its queue. */
  private granted = false;
  /** Waiting in the entity's queue for the lock. */
  private queued = false;
  /** The history entry is written and the lock given back: the entity no longer hears from us. */
  private released = false;
  // The shapes this run has, checked on construction, before the first await: a patch checked right
  // after the settings' local activity can be recorded in a later workflow task than a replay on
  // another worker looks for it in, and that replay fails.
  /** Activities report cancellation only once they have stopped (`Patches.waitCancellation`). */
  private readonly waitsForCancellation = hasPatch(Patches.waitCancellation);
  /** Events go to the configured sinks (`Patches.operationEvents`). */
  private readonly sendsEvents = hasPatch(Patches.operationEvents);
  /** The record step ran whole, whatever cancellation came meanwhile (patch recordNonCancellable). */
  private recordProtected = false;
  // Runs of releases that checked these two late (after awaits) recorded them where they checked:
  // evaluated here first, they are checked again there only for those runs' replay.
  /** Tells the environment entity of state changes (`Patches.entityState`). */
  private readonly reportsState = hasPatch(Patches.entityState);
  /** Runs the record step whole whatever cancellation comes (`Patches.recordNonCancellable`). */
  private readonly protectsRecord = hasPatch(Patches.recordNonCancellable);
  /** Started by a rollout: tells it when this operation waits for a decision. */
  private readonly rollout = new RolloutReport();

  constructor(private readonly spec: OperationSpec) {
    const info = workflowInfo();
    const status: OperationStatus = {
      operationId: info.workflowId,
      environment: spec.environment,
      action: spec.kind,
      requestedBy: spec.requestedBy,
      reason: spec.reason,
      state: spec.initialState,
      phase: 'forward',
      step: null,
      progress: 0,
      steps: [],
      startedAt: now(),
      awaitingDecision: false,
      availableDecisions: [],
      decisions: [],
    };
    const record = new OperationRecord(status, info.runId, spec.forwardSteps, spec.rollbackSteps);
    super(status, record, spec.kind, statusQuery, { continued: !!info.continuedFromExecutionRunId });
    this.record = record;
    setHandler(lockGrantedSignal, () => void (this.granted = true), {
      description: 'From the environment entity: the servicing lock this operation waited for is granted',
    });
    for (const kind of DECISIONS) {
      setAnswerHandlers({
        name: kind,
        update: decisionUpdates[kind],
        signal: decisionSignals[kind],
        description: `${kind}: ${DECISION_HELP[kind]}. Input: {"by": "your.name", "reason": "..."}; on a protected environment, signed: paste what \`maint ${kind} <workflow id> --print-signal\` prints`,
        refusal: (payload) => this.check(kind, payload),
        apply: (payload) => ({
          accepted: true as const,
          decision: this.accept(kind, payload),
          message: `${kind} accepted: ${DECISION_HELP[kind]}`,
        }),
        ignored: (message) => this.signalIgnored(message),
      });
    }
  }

  /** Reads the environment's settings (which also checks it is declared) and sets up activities. */
  async init(): Promise<void> {
    this.settings = await resolveEnvironment({ environment: this.spec.environment });
    this.searchAttributesOn = this.settings.searchAttributes;
    this.activityOptions = {
      startToCloseTimeout: this.settings.activity.startToCloseTimeoutMs,
      // The workflow retries itself (withRetries) so that every attempt is in the operation log.
      retry: { maximumAttempts: 1 },
      // Unset, the SDK sends TRY_CANCEL: a cancelled operation would record its abort and release the
      // lock while an AOS it was restarting is still starting. Waiting, the abort comes once the
      // activity has stopped, and the AOS activities stop only once their AOS has settled.
      ...(this.waitsForCancellation && {
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      }),
      // Every activity an operation runs heartbeats: the environment's (activities/guards.ts `guarded`),
      // the calls to its entity, which may wait long there, and the hooks. A worker that dies in any of
      // them is noticed after the heartbeat timeout, not the start-to-close one, and the call is retried
      // (each is idempotent; the entity answers a retried request as it answered the first).
      heartbeatTimeout: this.settings.activity.heartbeatTimeoutMs,
    };
    this.act = proxyActivities<Activities>(this.activityOptions);
    this.events = new OperationEvents(this.status, this.sendsEvents ? this.settings.events : undefined, (m) =>
      this.note(m),
    );
    this.publish();
  }

  /** Reads the settings again (a booked window at its start: the configuration may have changed meanwhile). */
  async refreshSettings(): Promise<void> {
    this.settings = await resolveEnvironment({ environment: this.spec.environment });
  }

  /** Current Details in the Web UI: headline, decisions awaited, steps. */
  protected details(): string {
    const s = this.status;
    const mark = { pending: '○', running: '▶', succeeded: '✓', skipped: '–', failed: '✗' } as const;
    const lines = s.steps.map(
      (x) => `${mark[x.status]} ${STEP_TITLES[x.name]}${x.detail ? ` — ${x.detail}` : ''}`,
    );
    const waiting = s.awaitingDecision
      ? `\n\n**Waiting for a decision** until ${s.decisionDeadline}: send the signal ` +
        `${s.availableDecisions.map((d) => `\`${d}\``).join(', ')} with ${this.inputHint('<decision>')}`
      : '';
    const ignored = this.lastIgnored ? `\n\n**${this.lastIgnored}**` : '';
    const window = s.window?.endsAt && !s.window.closedAt ? `\n\nWindow closes at ${s.window.endsAt}` : '';
    return `**${this.spec.title}**: ${s.state}, ${s.progress}%${waiting}${approvalDetails(s)}${ignored}${window}\n\n${lines.join('\n\n')}`;
  }

  /** The input an answer takes, as Current Details tell it: signed where answers are signed. */
  inputHint(answer: string): string {
    return this.settings?.approval?.protected && this.settings.approval.keys
      ? `the input that \`maint ${answer} ${this.status.operationId} --print-signal\` prints (signed)`
      : 'input {"by": "your.name", "reason": "..."}';
  }

  /**
   * The state is published once the operation holds the lock, or has failed or been approved before
   * it (waiting for approval, it publishes its identification: see ApprovalGate).
   */
  protected statePublished(): boolean {
    return (this.lockHeld || this.failedUnheld || this.approvedUnheld) && this.searchAttributesOn;
  }

  /** Approved (ApprovalGate): its states are published from now on, in runs that know it. */
  approved(): void {
    this.approvedUnheld = !this.lockHeld && hasPatch(Patches.approvedStateShown);
  }

  /** Tells the environment entity, while this operation holds (or shares) its lock. */
  protected stateChanged(state: OperationState): void {
    if (state === 'AwaitingApproval') this.rollout.waiting(this.status, 'approval');
    else if (!this.queued) this.rollout.waiting(this.status, false);
    if (
      !this.lockHeld ||
      this.released ||
      state === this.reportedState ||
      !isEnvironmentState(state) ||
      !(this.reportsState || hasPatch(Patches.entityState))
    )
      return;
    this.reportedState = state;
    const info = workflowInfo();
    void getExternalWorkflowHandle(environmentWorkflowId(this.spec.environment))
      .signal(operationStateSignal, { workflowId: info.workflowId, lineage: info.firstExecutionRunId, state })
      .catch((err: Error) =>
        log.warn('Could not tell the environment entity', { state, error: err.message }),
      );
  }

  /** MaintenanceEnvironment: the environment the operation services. */
  protected environment(): string {
    return this.spec.environment;
  }

  /** The reason a decision does not fit the state now, or undefined when it does. */
  private refusal(kind: DecisionKind): string | undefined {
    const s = this.status;
    if (!s.awaitingDecision) {
      return s.result
        ? `the operation has ended (${s.result})`
        : `nothing has failed: the operation is running ${s.step ?? 'its first step'}`;
    }
    if (this.pending)
      return `a decision (${this.pending.kind} by ${this.pending.by}) is already being applied`;
    if (s.availableDecisions.includes(kind)) return undefined;
    if (kind === 'rollback' && s.phase === 'rollback')
      return 'the operation is rolling back already: resume or abort';
    if (kind === 'rollback' && !this.spec.canRollback()) {
      return 'nothing to roll back: it failed before changing anything; resume or abort';
    }
    return `${kind} does not apply to step ${s.step}; available: ${s.availableDecisions.join(', ')}`;
  }

  private check(kind: DecisionKind, payload: unknown): string | undefined {
    const signer = inputRefusal(payload) ?? this.refusal(kind) ?? this.signerOf(kind, payload);
    return typeof signer === 'string' ? signer : undefined;
  }

  private accept(kind: DecisionKind, payload: unknown): Decision {
    this.pending = this.answerFrom(kind, payload, this.status.step);
    this.goAhead();
    return this.pending;
  }

  /**
   * Once an operator has answered, the rest of the operation's activities go ahead of the routine
   * work on the task queue (contract/priority.ts). Only the tasks' priority changes, not the
   * commands or the events of the history.
   */
  private goAhead(): void {
    const priority = { priorityKey: PRIORITIES.decided };
    this.activityOptions = { ...this.activityOptions, priority };
    this.act = proxyActivities<Activities>(this.activityOptions);
  }

  /**
   * Who signed an answer, or why it is refused, where answers are signed (a protected environment,
   * from this release on); undefined where they are not.
   */
  signerOf(answer: string, payload: unknown): Signer | string | undefined {
    const approval = this.settings?.approval;
    if (!approval?.protected || !approval.keys) return undefined;
    return answerSigner(answer, payload, {
      keys: approval.keys,
      answers: this.status.answers ?? 0,
      unsignedHint: unsignedHint(answer, this.status.operationId),
    });
  }

  /** Counts an accepted answer; returns who signed it, where answers are signed. */
  answered(answer: string, payload: unknown): Signer | undefined {
    const signer = this.signerOf(answer, payload);
    this.status.answers = (this.status.answers ?? 0) + 1;
    this.lastIgnored = undefined;
    return typeof signer === 'object' ? signer : undefined;
  }

  /** An accepted answer as the decision to record (its signer's, where signed). */
  answerFrom(kind: Decision['kind'], payload: unknown, step: StepName | null): Decision {
    return decisionFrom(kind, payload, step, this.answered(kind, payload));
  }

  /** Calls an activity with the configured retry policy, logging each attempt. */
  async withRetries<T>(step: StepName, what: string, call: () => Promise<T>, aos?: string): Promise<T> {
    const { initialIntervalMs, backoffCoefficient, maximumIntervalMs, maximumAttempts } = this.settings.retry;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      const entry = { kind: 'attempt', step, aos, attempt, message: what } as const;
      try {
        const result = await call();
        this.record.add({ ...entry, outcome: 'succeeded', durationMs: Date.now() - started });
        for (const ran of transcriptOf(result))
          this.record.add({ kind: 'note', step, aos, message: `ran ${ran}` });
        return result;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const { error, nonRetryable } = causeOf(err);
        this.record.add({ ...entry, outcome: 'failed', durationMs: Date.now() - started, error });
        if (nonRetryable || attempt >= maximumAttempts) throw err;
        await sleep(Math.min(initialIntervalMs * backoffCoefficient ** (attempt - 1), maximumIntervalMs));
      }
    }
  }

  /**
   * Takes the environment's servicing lock at its entity (shared with a parent window, if any), then
   * shows the operation. With `wait`, a busy environment queues this operation instead of refusing it.
   */
  async takeLock(step: StepName, { wait = false } = {}): Promise<{ queued?: number; holder?: LockHolder }> {
    const info = workflowInfo();
    const { environment, kind, requestedBy } = this.spec;
    const answer = await this.withRetries(step, 'take the servicing lock', () =>
      this.act.acquireLock({
        environment,
        action: kind,
        requestedBy,
        parent: info.parent ? { workflowId: info.parent.workflowId, runId: info.parent.runId } : undefined,
        lineage: info.firstExecutionRunId,
        state: isEnvironmentState(this.status.state) ? this.status.state : undefined,
        wait,
      }),
    );
    if (answer.queued === undefined) this.lockTaken();
    return answer;
  }

  /**
   * Takes the lock. A busy environment refuses the operation at once or, with `wait`, queues it at the
   * entity for up to policies.windows.busyTimeout, then refuses it; either way nothing was changed.
   */
  async lockOrQueue(step: StepName, wait: boolean, cutoff?: WaitCutoff): Promise<void> {
    const { queued, holder } = await this.takeLock(step, { wait });
    if (queued === undefined) return;
    this.queued = true;
    this.rollout.waiting(this.status, 'lock');
    this.note(
      `waiting for ${this.spec.environment}, number ${queued} in line: it is held by ${holder?.workflowId}`,
    );
    const { busyTimeoutMs } = this.settings.windows;
    const cut = cutoff !== undefined && cutoff.atMs - Date.now() < busyTimeoutMs;
    const held = await this.awaitGrant(step, cut ? Math.max(1, cutoff.atMs - Date.now()) : busyTimeoutMs);
    this.queued = false;
    if (!held && cut) throw cutoff.refusal(`It was held by workflow ${holder?.workflowId}.`);
    if (!held)
      throw this.busyRefusal(
        `It was held by workflow ${holder?.workflowId} (${holder?.action} requested by ${holder?.requestedBy}).`,
      );
  }

  /** The refusal of an operation whose environment stayed busy for the whole busyTimeout. */
  busyRefusal(why: string): ApplicationFailure {
    const what =
      this.spec.kind === 'window' ? 'The window did not open' : `The ${this.spec.kind} did not start`;
    return ApplicationFailure.nonRetryable(
      `${what}: ${this.spec.environment} stayed busy for ${formatDuration(this.settings.windows.busyTimeoutMs)} ` +
        `(policies.windows.busyTimeout). Nothing was changed. ${why}`,
      ErrorType.EnvironmentBusy,
    );
  }

  /** After `takeLock` queued this operation: waits for the grant, then leaves the queue if none came. */
  async awaitGrant(step: StepName, timeoutMs: number): Promise<boolean> {
    let held = await condition(() => this.granted, timeoutMs);
    if (!held) {
      const info = workflowInfo();
      const ref = { workflowId: info.workflowId, runId: info.runId, lineage: info.firstExecutionRunId };
      ({ held } = await this.withRetries(step, 'leave the queue', () =>
        this.act.leaveQueue({ environment: this.spec.environment, ...ref }),
      ));
    }
    if (held) this.lockTaken();
    return held;
  }

  /** A run that continued as new takes over its previous run's status, log and lock. */
  continueFrom({ status, log }: { status: OperationStatus; log: OperationLog }): void {
    Object.assign(this.status, status);
    Object.assign(this.record.log, { entries: log.entries, dropped: log.dropped });
    this.lockTaken();
    this.publish();
  }

  private lockTaken(): void {
    this.lockHeld = true;
    this.queued = false;
    this.rollout.waiting(this.status, false);
    this.reportedState = isEnvironmentState(this.status.state) ? this.status.state : undefined;
    this.publishSearchAttributes();
  }

  /** Waits for an operator's decision on the failed step, or for the decision timeout. */
  private async awaitDecision(step: StepName): Promise<Decision> {
    const s = this.status;
    const unheld = !this.lockHeld && !this.failedUnheld;
    // Runs of earlier releases identified themselves with the state before the failure, and kept it.
    const identify = unheld && hasPatch(Patches.failedBeforeLock);
    if (unheld && !identify) this.publishSearchAttributes();
    this.failedUnheld ||= identify;
    s.awaitingDecision = true;
    s.availableDecisions =
      step === 'record'
        ? ['resume']
        : DECISIONS.filter((d) => d !== 'rollback' || (this.spec.canRollback() && s.phase === 'forward'));
    s.decisionDeadline = new Date(Date.now() + this.settings.decisionTimeoutMs).toISOString();
    this.setState('Failed', identify);
    this.events.decisionRequired();
    this.rollout.report(s, true);
    log.warn('Operation failed; waiting for a decision', {
      environment: s.environment,
      step,
      error: s.failure?.error.message,
    });
    const waitStarted = Date.now();
    const came = await condition(() => this.pending !== undefined, this.settings.decisionTimeoutMs);
    const decision: Decision = came
      ? this.pending!
      : { kind: 'timeout', by: 'system', reason: `no decision by ${s.decisionDeadline}`, at: now(), step };
    awaited(s.action, 'decision', decision.kind, Date.now() - waitStarted);
    this.pending = undefined;
    Object.assign(s, { awaitingDecision: false, availableDecisions: [], decisionDeadline: undefined });
    this.recordDecision(decision, step);
    this.events.decided();
    this.rollout.report(s, false);
    return decision;
  }

  /**
   * Runs a step; on failure asks for a decision and resumes (in the state it failed in), rolls back
   * (throws RollbackRequested) or stops (throws Stop), as the operator says.
   */
  async step<T>(name: StepName, run: () => Promise<T>, describe?: (r: T) => string): Promise<T> {
    for (;;) {
      this.record.startStep(name);
      this.publish();
      try {
        const result = await run();
        this.record.succeedStep(name, describe?.(result));
        this.publish();
        return result;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const { error } = causeOf(err);
        if (name === 'preflight' && error.type && PREFLIGHT_REFUSALS.includes(error.type)) {
          // Refused at once: nothing was changed, and no decision can make it work.
          await this.events.refused(error);
          throw ApplicationFailure.nonRetryable(error.message, error.type);
        }
        const stateBefore = this.status.state;
        this.record.failStep(name, error);
        const decision = await this.awaitDecision(name);
        if (decision.kind === 'resume') {
          this.setState(stateBefore);
          continue;
        }
        if (decision.kind === 'rollback') throw new RollbackRequested();
        throw new Stop(decision.kind === 'abort' ? 'Aborted' : 'Failed');
      }
    }
  }

  beginRollback(): void {
    this.record.beginRollback();
    this.setState('RollingBack');
  }

  /** Records the operation in the history and releases the lock (the `record` step), then shows how it ended. */
  async finish(result: Result, finalState: OperationState, detail = ''): Promise<void> {
    const s = this.status;
    s.finishedAt = now();
    const failure = s.failure ? `Last failure at ${s.failure.step}: ${s.failure.error.message}` : '';
    const f = s.freezeException;
    const excepted = f
      ? `Started during change freeze "${f.freeze}" by the exception of ${f.by} (signed, key ${f.fingerprint}): ${f.reason}.`
      : '';
    const info = workflowInfo();
    const entry = {
      operationId: info.workflowId,
      runId: info.runId,
      environment: s.environment,
      action: s.action,
      requestedBy: s.requestedBy,
      reason: s.reason,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      result,
      detail: [detail, excepted, failure].filter(Boolean).join(' '),
      decisions: s.decisions,
      lineage: info.firstExecutionRunId,
    };
    const entryOnly = !this.lockHeld && (result === 'Rejected' || this.endsUnheld());
    try {
      await this.protectRecord(result, () =>
        this.step('record', () =>
          entryOnly
            ? this.withRetries('record', 'record history', () => this.act.recordOperation(entry))
            : this.withRetries('record', 'record history and release the lock', () =>
                this.act.finishOperation({
                  ...entry,
                  state: isEnvironmentState(finalState) ? finalState : undefined,
                }),
              ),
        ),
      );
      this.released = true;
    } catch (err) {
      if (!(err instanceof Stop)) throw err;
      this.record.add({
        kind: 'note',
        message: 'The history entry was not written: no decision came in time',
      });
    }
    this.conclude(result, finalState, entryOnly);
    this.events.finished();
    await this.events.settle();
  }

  /**
   * Whether an operation that ends without the lock (refused, failed or cancelled before it took it)
   * writes its history entry alone: the lock and the environment's state are not its own. Runs of
   * earlier releases released the lock they never held, and the entity, holding none, took their
   * final state (Failed) for the environment's. One still in the entity's queue releases, to leave it.
   */
  private endsUnheld(): boolean {
    return !this.queued && (this.failedUnheld || hasPatch(Patches.failedBeforeLock));
  }

  /**
   * Runs the record step so that the history entry and the workflow's result cannot disagree: once it
   * starts, a cancellation no longer interrupts it (the log notes the request as too late) and the
   * workflow closes with the result recorded. Cancelled before it starts, it throws the cancellation,
   * and the caller records the operation as aborted. Histories from before the patch keep their shape.
   */
  private async protectRecord(result: Result, record: () => Promise<unknown>): Promise<void> {
    const scope = CancellationScope.current();
    if (scope.consideredCancelled) await scope.cancelRequested;
    if (!(this.protectsRecord || hasPatch(Patches.recordNonCancellable))) {
      await record();
      return;
    }
    this.recordProtected = true;
    // A non-cancellable scope here is the cancellation path's own record: nothing comes late to it.
    if (scope.cancellable)
      void scope.cancelRequested.catch(() =>
        this.note(
          `Cancellation requested after the record step started: too late, the operation ends ${result}`,
        ),
      );
    await CancellationScope.nonCancellable(record);
  }

  /**
   * Waits for running handlers before the workflow returns. After a protected record step this wait
   * is not cancellable either, so that a late cancellation cannot change how the workflow closes.
   */
  async handlersFinished(): Promise<void> {
    if (this.recordProtected) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    else await super.handlersFinished();
  }

  /** Cancellation acts as abort: recorded as a decision; the caller finishes and rethrows. */
  recordCancellation(): void {
    this.status.decisions.push({
      kind: 'cancel',
      by: 'cancellation request',
      reason: 'workflow cancelled',
      at: now(),
      step: this.status.step,
    });
    this.record.add({ kind: 'decision', message: 'cancelled: acting as abort' });
    this.events.decided();
    if (this.waitsForCancellation)
      this.record.add({ kind: 'note', message: 'cancel: waited for in-flight activities to stop' });
    Object.assign(this.status, { awaitingDecision: false, availableDecisions: [] });
  }

  /** An operation that ended Aborted or Failed closes as a failed workflow that says why, with its summary. */
  ended(result: 'Aborted' | 'Failed', summary: unknown): ApplicationFailure {
    const s = this.status;
    const last = s.decisions[s.decisions.length - 1];
    const failure = s.failure
      ? `"${STEP_TITLES[s.failure.step]}" failed: ${s.failure.error.message}`
      : 'a failure';
    return ApplicationFailure.create({
      message:
        result === 'Aborted'
          ? `Aborted by ${last?.by ?? 'an operator'}${last?.reason ? ` (${last.reason})` : ''} after ${failure}. The environment was left as it was.`
          : `No decision came by the deadline after ${failure}. The environment was left as it was.`,
      type: result === 'Aborted' ? ErrorType.OperationAborted : ErrorType.OperationFailed,
      nonRetryable: true,
      details: [summary],
    });
  }
}
