import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  log,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';
import { WORKFLOW_TYPES, type DecisionAck, type Result } from '../contract/operation';
import {
  EXAMPLE_ROLLOUT_INPUT,
  MAX_ROLLOUT_TARGETS,
  ROLLOUT_COMMANDS,
  ROLLOUT_COMMAND_HELP,
  ROLLOUT_MEMO,
  ROLLOUT_WORKFLOW_TYPE,
  childReportSignal,
  resolveLimit,
  rolloutChildId,
  rolloutInputSchema,
  rolloutSignals,
  rolloutStatusQuery,
  rolloutUpdates,
  type ChildReport,
  type RolloutCommand,
  type RolloutResult,
  type RolloutRow,
  type RolloutState,
  type RolloutStatus,
  type RowResult,
  type ValidRolloutInput,
} from '../contract/rollout';
import { formatDuration } from '../contract/window';
import { setAnswerHandlers } from './answers';
import { Lifecycle, decisionFrom, inputRefusal, parseWorkflowInput } from './lifecycle';
import { causeOf } from './operation';
import { LogBook } from './operation-record';
import { now } from './settings';

const { resolveRolloutTargets } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/** How an environment's operation ended, from its child workflow's failure. */
function rowOutcome(err: unknown): { result: RowResult; error: RolloutRow['error'] } {
  if (!(err instanceof ChildWorkflowFailure)) throw err;
  const { error } = causeOf(err);
  if (error.type === ErrorType.EnvironmentBusy) return { result: 'Skipped', error };
  return { result: error.type === ErrorType.OperationAborted ? 'Aborted' : 'Failed', error };
}

/** Results that count against maxErrors: anything but done or skipped as busy. */
const isError = (r: RowResult) => r !== 'Succeeded' && r !== 'Skipped' && r !== 'NotStarted';

/** Current Details shows at most this many rows (the status query has them all). */
const DETAILS_ROWS = 100;

/**
 * A rollout on top of the shared lifecycle: its rows, its limits, and the operator's pause, resume
 * and abort. It takes no environment lock: each child operation takes its own.
 */
class Rollout extends Lifecycle<RolloutStatus> {
  private paused = false;
  /** By an operator's abort or a cancellation of the rollout. */
  aborted = false;

  constructor(
    status: RolloutStatus,
    private readonly title: string,
  ) {
    const info = workflowInfo();
    super(
      status,
      new LogBook({
        operationId: info.workflowId,
        runId: info.runId,
        environment: status.selection,
        action: 'rollout',
      }),
      'rollout',
      rolloutStatusQuery,
      { continued: false },
    );
    for (const kind of ROLLOUT_COMMANDS) {
      setAnswerHandlers({
        name: kind,
        update: rolloutUpdates[kind],
        signal: rolloutSignals[kind],
        description: `${kind} the rollout: ${ROLLOUT_COMMAND_HELP[kind]}. Input: {"by": "your.name", "reason": "..."}`,
        refusal: (payload) => inputRefusal(payload) ?? this.refusal(kind),
        apply: (payload) => this.command(kind, payload),
        note: (message) => this.note(message),
      });
    }
    setHandler(childReportSignal, (report) => this.childReported(report), {
      description: 'From a child operation: it waits for a decision (an error at once), or got one',
    });
  }

  useSearchAttributes(on: boolean): void {
    this.searchAttributesOn = on;
    this.publishSearchAttributes();
  }

  /** Why no new environment may start, if none may. */
  get stopped(): string | undefined {
    return this.status.stopped;
  }

  get mayStart(): boolean {
    return !this.paused && this.status.stopped === undefined;
  }

  private refusal(kind: RolloutCommand): string | undefined {
    const s = this.status;
    if (s.result) return `the rollout has ended (${s.result})`;
    if (kind === 'abort') return this.aborted ? 'the rollout is aborted already' : undefined;
    if (s.stopped) return `the rollout starts nothing new any more: ${s.stopped}`;
    if (kind === 'pause' && this.paused) return 'the rollout is paused already';
    if (kind === 'resume' && !this.paused) return 'the rollout is not paused';
    return undefined;
  }

  private command(kind: RolloutCommand, payload: unknown): DecisionAck {
    const decision = decisionFrom(kind === 'pause' ? 'pause' : kind, payload, null);
    this.recordDecision(decision);
    if (kind === 'abort')
      this.abort(`aborted by ${decision.by}${decision.reason ? ` (${decision.reason})` : ''}`);
    else {
      this.paused = kind === 'pause';
      this.refreshState();
    }
    return { accepted: true, decision, message: `${kind} accepted: ${ROLLOUT_COMMAND_HELP[kind]}` };
  }

  abort(why: string): void {
    this.aborted = true;
    this.stop(why);
  }

  /** No new environment starts from now on; those in flight finish. */
  stop(why: string): void {
    if (this.status.stopped) return;
    this.status.stopped = why;
    this.note(`no new environment starts: ${why}`);
    this.refreshState();
  }

  private childReported(report: ChildReport): void {
    const row = this.status.environments.find((r) => r.environment === report.environment);
    if (!row || row.state === 'Done') return;
    row.state = report.awaitingDecision ? 'AwaitingDecision' : 'Running';
    if (report.awaitingDecision) {
      row.error = report.error;
      this.note(`${row.environment}: ${report.workflowId} failed and waits for a decision`);
      this.countError(row);
    } else this.refresh();
  }

  /** Counts an environment's error once; over maxErrors, nothing new starts. */
  countError(row: RolloutRow): void {
    if (row.countedAsError) return this.refresh();
    row.countedAsError = true;
    const s = this.status;
    this.refresh();
    if (s.counts.errors > s.maxErrors)
      this.stop(
        `${s.counts.errors} error${s.counts.errors > 1 ? 's' : ''}, more than maxErrors ${s.maxErrors}`,
      );
  }

  /** Counts from the rows, then Current Details. */
  refresh(): void {
    const rows = this.status.environments;
    const count = (f: (r: RolloutRow) => boolean) => rows.filter(f).length;
    this.status.counts = {
      targets: rows.length,
      succeeded: count((r) => r.result === 'Succeeded'),
      failed: count((r) => r.result !== undefined && isError(r.result)),
      skipped: count((r) => r.result === 'Skipped'),
      notStarted: count((r) => r.result === 'NotStarted'),
      inFlight: count((r) => r.state === 'Running' || r.state === 'AwaitingDecision'),
      errors: count((r) => !!r.countedAsError),
    };
    this.publish();
  }

  private refreshState(): void {
    const state: RolloutState = this.status.stopped ? 'Draining' : this.paused ? 'Paused' : 'Running';
    if (state !== this.status.state) this.setState(state);
    else this.refresh();
  }

  finish(result: Result): void {
    this.status.finishedAt = now();
    this.refresh();
    this.conclude(result, 'Finished');
    this.publishResult();
  }

  protected details(): string {
    const s = this.status;
    const c = s.counts;
    const head =
      `**${this.title}**: ${s.result ?? s.state}; ${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ` +
      `${c.inFlight} running, ${c.targets - c.succeeded - c.failed - c.skipped - c.inFlight} not started of ${c.targets}; ` +
      `errors ${c.errors} (max ${s.maxErrors}), concurrency ${s.maxConcurrency}`;
    const why = s.stopped ? `\n\nNo new environment starts: ${s.stopped}` : '';
    const paused =
      s.state === 'Paused' ? '\n\n**Paused**: send the signal `resume` with {"by": "your.name"}' : '';
    const rows = s.environments
      .slice(0, DETAILS_ROWS)
      .map((r) =>
        [
          r.environment,
          r.state,
          r.result ?? '',
          r.durationMs !== undefined ? formatDuration(r.durationMs) : '',
          (r.error?.message ?? '').replace(/\|/g, '/').slice(0, 120),
          r.workflowId ?? '',
        ].join(' | '),
      );
    const more =
      s.environments.length > DETAILS_ROWS
        ? `\n\n(${s.environments.length - DETAILS_ROWS} more: query status)`
        : '';
    return `${head}${why}${paused}\n\n| environment | state | result | duration | error | operation |\n|---|---|---|---|---|---|\n${rows.map((r) => `| ${r} |`).join('\n')}${more}`;
  }
}

/**
 * Runs one operation per environment as a child workflow (enable, disable or a window), at most
 * maxConcurrency at a time; once the errors exceed maxErrors (an operation that ends other than
 * Succeeded, or that waits for a decision, counts at once) or an operator aborts, nothing new starts
 * and the operations in flight finish. A busy environment is skipped, or with onBusy wait its
 * operation queues for it. Operators pause and resume the starts. Cancelling the rollout acts as
 * abort. It takes no lock itself. Up to 1000 targets, so no continue-as-new is needed.
 */
export async function maintenanceRollout(raw: unknown): Promise<RolloutResult> {
  const input: ValidRolloutInput = parseWorkflowInput(rolloutInputSchema, raw, {
    workflowType: ROLLOUT_WORKFLOW_TYPE,
    example: EXAMPLE_ROLLOUT_INPUT,
    nothing: 'Nothing was started.',
  });
  const rolloutId = workflowInfo().workflowId;
  const selection = input.tag ? `tag ${input.tag}` : input.environments!.join(', ');
  const status: RolloutStatus = {
    operationId: rolloutId,
    action: input.action,
    requestedBy: input.requestedBy,
    reason: input.reason,
    state: 'Running',
    selection,
    maxConcurrency: 1,
    maxErrors: 0,
    onBusy: input.onBusy,
    startedAt: now(),
    counts: { targets: 0, succeeded: 0, failed: 0, skipped: 0, notStarted: 0, inFlight: 0, errors: 0 },
    environments: [],
    decisions: [],
  };
  const rollout = new Rollout(status, `Rollout: ${input.action} on ${selection}`);

  const targets = await resolveRolloutTargets({ environments: input.environments, tag: input.tag });
  if (targets.environments.length > MAX_ROLLOUT_TARGETS) {
    throw ApplicationFailure.nonRetryable(
      `${selection} has ${targets.environments.length} environments, more than the ${MAX_ROLLOUT_TARGETS} one rollout takes. ` +
        'Nothing was started. Split it into several rollouts (tags or lists).',
      ErrorType.InvalidInput,
    );
  }
  const n = targets.environments.length;
  status.maxConcurrency = resolveLimit(input.maxConcurrency, n, { atLeastOne: true });
  status.maxErrors = resolveLimit(input.maxErrors, n, { atLeastOne: false });
  status.environments = targets.environments.map((environment) => ({ environment, state: 'Pending' }));
  rollout.useSearchAttributes(targets.searchAttributes);
  rollout.note(
    `${n} environments (${selection}); at most ${status.maxConcurrency} at once (maxConcurrency ${input.maxConcurrency}), ` +
      `new starts stop after ${status.maxErrors} errors (maxErrors ${input.maxErrors}); busy: ${input.onBusy}`,
  );
  log.info('Rollout started', { action: input.action, selection, targets: n });

  const childInput = (environment: string) => ({
    environment,
    requestedBy: input.requestedBy,
    reason: input.reason,
    onBusy: input.onBusy,
    ...(input.action === 'window' && {
      duration: `PT${Math.round(input.duration! / 1000)}S`,
      changes: input.changes,
    }),
  });

  /** One environment's operation, start to end; never cancelled from here (abort lets it finish). */
  const run = async (row: RolloutRow): Promise<void> => {
    Object.assign(row, {
      state: 'Running',
      startedAt: now(),
      workflowId: rolloutChildId(rolloutId, row.environment),
    });
    rollout.refresh();
    try {
      const done = await executeChild(WORKFLOW_TYPES[input.action], {
        workflowId: row.workflowId,
        args: [childInput(row.environment)],
        memo: { [ROLLOUT_MEMO]: rolloutId },
        // Terminating the rollout must not kill an operation halfway through a restart.
        parentClosePolicy: 'ABANDON',
        staticSummary: `${input.action} on ${row.environment} (rollout ${rolloutId})`,
      });
      row.result = (done as { result: Result }).result;
    } catch (err) {
      Object.assign(row, rowOutcome(err));
    }
    row.state = 'Done';
    row.finishedAt = now();
    row.durationMs = Date.parse(row.finishedAt) - Date.parse(row.startedAt!);
    rollout.note(`${row.environment}: ${row.result}${row.error ? ` (${row.error.message})` : ''}`);
    if (isError(row.result!)) rollout.countError(row);
    else rollout.refresh();
  };

  const inFlight: Promise<void>[] = [];
  let cancelled: unknown;
  const running = () =>
    status.environments.filter((r) => r.state === 'Running' || r.state === 'AwaitingDecision').length;
  try {
    for (const row of status.environments) {
      await condition(
        () => rollout.stopped !== undefined || (rollout.mayStart && running() < status.maxConcurrency),
      );
      if (rollout.stopped) break;
      inFlight.push(CancellationScope.nonCancellable(() => run(row)));
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelled = err;
    rollout.abort('the rollout was cancelled (acts as abort)');
  }
  await CancellationScope.nonCancellable(() => Promise.all(inFlight));
  for (const row of status.environments)
    if (row.state === 'Pending') Object.assign(row, { state: 'Done', result: 'NotStarted' });

  const result: Result = rollout.aborted
    ? 'Aborted'
    : status.environments.every((r) => r.result === 'Succeeded' || r.result === 'Skipped')
      ? 'Succeeded'
      : 'Failed';
  rollout.finish(result);
  await CancellationScope.nonCancellable(() => rollout.handlersFinished());
  log.info('Rollout finished', { result, counts: status.counts });
  // Cancelled: recorded as an abort above; the workflow closes Cancelled, as operations do.
  if (cancelled) throw cancelled;
  return {
    operationId: rolloutId,
    action: input.action,
    result,
    startedAt: status.startedAt,
    finishedAt: status.finishedAt,
    stopped: status.stopped,
    counts: status.counts,
    environments: status.environments,
  };
}
