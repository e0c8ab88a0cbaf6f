import { metricMeter } from '@temporalio/workflow';
import { METRICS } from '../contract/metrics';

/**
 * The product's metrics from workflow code, through the SDK's replay-safe meter: nothing is recorded
 * while a workflow replays, and no command is emitted. The worker's exporter serves them.
 */

export function operationStarted(action: string): void {
  metricMeter.createCounter(METRICS.started, '', 'Operations started, by action').add(1, { action });
}

export function operationFinished(
  action: string,
  result: string,
  startedAt: string,
  finishedAt: string,
): void {
  metricMeter
    .createCounter(METRICS.finished, '', 'Operations finished, by action and result')
    .add(1, { action, result });
  metricMeter
    .createHistogram(METRICS.duration, 'float', 's', 'Operation duration from start to its record')
    .record((Date.parse(finishedAt) - Date.parse(startedAt)) / 1000, { action, result });
}

/** `awaited`: a `decision` (resume, rollback, abort) or an `approval`; `outcome`: what ended the wait. */
export function awaited(action: string, what: 'decision' | 'approval', outcome: string, ms: number): void {
  metricMeter
    .createHistogram(METRICS.awaiting, 'float', 's', 'Time an operation waited for a decision or an approval')
    .record(ms / 1000, { action, awaited: what, outcome });
}
