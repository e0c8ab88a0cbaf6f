import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { DecisionAck, Result } from '../contract/operation';
import {
  ROLLOUT_COMMANDS,
  ROLLOUT_COMMAND_HELP,
  childReportSignal,
  rolloutSignals,
  rolloutStatusQuery,
  rolloutUpdates,
  type ChildReport,
  type RolloutCommand,
  type RolloutRow,
  type RolloutState,
  type RolloutStatus,
  type RowResult,
} from '../contract/rollout';
import { formatDuration } from '../contract/window';
import { setAnswerHandlers } from './answers';
import { Lifecycle, decisionFrom, inputRefusal } from './lifecycle';
import { LogBook } from './operation-record';
import { now } from './settings';

/** Results that count against maxErrors: anything but done or skipped as busy. */
export const isError = (r: RowResult) => r !== 'Succeeded' && r !== 'Skipped' && r !== 'NotStarted';

/** Current Details shows at most this many rows (the status query has them all). */
const DETAILS_ROWS = 100;

/**
 * A rollout on top of the shared lifecycle: its rows, its limits, and the operator's pause, resume
 * and abort. It takes no environment lock: each child operation takes its own.
 */
export class Rollout extends Lifecycle<RolloutStatus> {
  private paused = false;
  /** By an operator's abort or a cancellation of the rollout. */
  aborted = false;

  constructor(
    status: RolloutStatus,
    private readonly title: string,
    /** `onStop`: once nothing new may start (and again for a member that waits after that). */
    private readonly hooks: { onStop?: () => void } = {},
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
        ignored: (message) => this.signalIgnored(message),
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
    const decision = decisionFrom(kind, payload, null);
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
    this.hooks.onStop?.();
    this.refreshState();
  }

  private childReported(report: ChildReport): void {
    const row = this.status.environments.find((r) => r.environment === report.environment);
    if (!row || row.state === 'Done') return;
    if (report.waiting !== undefined) {
      row.waiting = report.waiting || undefined;
      if (row.waiting && this.status.stopped) this.hooks.onStop?.();
      return this.refresh();
    }
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
