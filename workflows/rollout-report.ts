import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import type { OperationStatus } from '../contract/operation';
import { ROLLOUT_MEMO, childReportSignal, type ChildReport, type ChildWaiting } from '../contract/rollout';
import { Patches } from './settings';
import { hasPatch } from './shape';

/** The rollout that started this operation (or the window around it), from the memo it set; undefined otherwise. */
export function rolloutOf(): string | undefined {
  const id = workflowInfo().memo?.[ROLLOUT_MEMO];
  return typeof id === 'string' ? id : undefined;
}

/**
 * Tells the rollout that started this operation when it waits for a decision, and when it got one, so
 * that the rollout counts the error at once (the decision is still taken here). One signal each way:
 * cheap, and deterministic on both sides. Operations outside a rollout send nothing and check no patch.
 */
export class RolloutReport {
  // Checked on construction, before the first await (see Operation), and only in a rollout's children.
  private readonly rollout = rolloutOf() && hasPatch(Patches.rolloutReport) ? rolloutOf() : undefined;
  /** Also says when it waits for the lock or approval (`Patches.rolloutMembers`). */
  private readonly reportsWaiting = !!this.rollout && hasPatch(Patches.rolloutMembers);
  private waitingFor: ChildWaiting | false = false;

  report(s: OperationStatus, awaitingDecision: boolean): void {
    this.send({
      environment: s.environment,
      workflowId: s.operationId,
      awaitingDecision,
      ...(awaitingDecision && s.failure && { error: s.failure.error }),
    });
  }

  /** It waits for the lock or approval (nothing changed yet), or not any more: told once per change. */
  waiting(s: OperationStatus, what: ChildWaiting | false): void {
    if (!this.reportsWaiting || what === this.waitingFor) return;
    this.waitingFor = what;
    this.send({
      environment: s.environment,
      workflowId: s.operationId,
      awaitingDecision: false,
      waiting: what,
    });
  }

  private send(report: ChildReport): void {
    if (!this.rollout) return;
    void getExternalWorkflowHandle(this.rollout)
      .signal(childReportSignal, report)
      .catch((err: Error) => log.warn('Could not tell the rollout', { error: err.message }));
  }
}
