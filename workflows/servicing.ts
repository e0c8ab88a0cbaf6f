import { CancellationScope, isCancellation, log } from '@temporalio/workflow';
import {
  EXAMPLE_INPUT,
  FORWARD_STEPS,
  ROLLBACK_STEPS,
  WORKFLOW_TYPES,
  servicingInputSchema,
  targetState,
  transitionalState,
  type Action,
  type EnvironmentSnapshot,
  type OperationState,
  type Result,
  type ServicingResult,
} from '../contract/operation';
import { isInTargetMode, planAosSteps, type OperationPlan } from '../contract/plan';
import { ApprovalGate } from './approval';
import { FreezeGuard } from './freeze';
import { HookVeto, Hooks } from './hooks';
import { Operation, RollbackRequested, refusedUnlessAdmitted, stopped } from './operation';
import { parseWorkflowInput } from './lifecycle';
import { dryRun } from './plan';
import { restoreSnapshot } from './restore';

/**
 * One servicing operation: preflight, flip the flag, restart AOS, verify, record. When a step still
 * fails after its retries, the operation is Failed and waits for an operator: resume, rollback or
 * abort (updates for the CLI, signals of the same names for the Web UI), or ends Failed when no
 * decision comes in time. Cancelling the workflow acts as abort.
 */
export async function runServicing(action: Action, raw: unknown): Promise<ServicingResult | OperationPlan> {
  const input = parseWorkflowInput(servicingInputSchema, raw, {
    workflowType: WORKFLOW_TYPES[action],
    example: EXAMPLE_INPUT,
  });
  const { environment } = input;
  if (input.dryRun) return dryRun({ environment, action, requestedBy: input.requestedBy });
  let snapshot: EnvironmentSnapshot | undefined;
  /** What the operation changed so far: a rollback restores only that. */
  const touched = { flag: false, aos: false };
  const op = new Operation({
    kind: action,
    environment,
    requestedBy: input.requestedBy,
    reason: input.reason,
    title: `${action === 'enable' ? 'Enable' : 'Disable'} maintenance mode on ${environment}`,
    initialState: transitionalState(action),
    forwardSteps: FORWARD_STEPS,
    rollbackSteps: ROLLBACK_STEPS,
    // Not before the flag is touched: a failed before hook has nothing to roll back.
    canRollback: () => snapshot !== undefined && touched.flag,
  });
  const { status, record } = op;
  const approval = new ApprovalGate(op);
  const freeze = new FreezeGuard(op, input.freezeException);
  const hooks = new Hooks(op, action);
  await op.init();
  hooks.addSteps();
  await refusedUnlessAdmitted(op, () => approval.admit(raw));
  await freeze.refuseIfFrozen();
  op.events.started();
  log.info('Servicing operation started', { environment, action, requestedBy: input.requestedBy });

  const forward = async (): Promise<Result> => {
    snapshot = await op.step(
      'preflight',
      async () => {
        // Again after approval: a freeze may have begun while the operation waited.
        const frozen = freeze.refusal();
        if (frozen) throw frozen;
        await op.lockOrQueue('preflight', input.onBusy === 'wait');
        return op.withRetries('preflight', 'snapshot the environment', () =>
          op.act.snapshotEnvironment({ environment }),
        );
      },
      (s) =>
        `flag ${s.configurationMode}, running: ${
          s.instances
            .filter((i) => i.running)
            .map((i) => i.id)
            .join(', ') || 'none'
        }`,
    );
    if (isInTargetMode(action, snapshot)) {
      status.alreadyInMode = true;
      for (const name of ['flipFlag', 'restartAos', 'verify'] as const)
        record.skipStep(name, 'already in the requested mode');
      hooks.skip('already in the requested mode');
      return 'Succeeded';
    }
    await hooks.run('before');
    const before = snapshot;
    touched.flag = true;
    const value = action === 'enable' ? 1 : 0;
    await op.step(
      'flipFlag',
      () =>
        op.withRetries('flipFlag', 'set CONFIGURATIONMODE', () =>
          op.act.setConfigurationMode({ environment, value }),
        ),
      (r) => `CONFIGURATIONMODE ${r.previous} → ${value}`,
    );
    touched.aos = true;
    const plan = planAosSteps(action, before);
    await op.step(
      'restartAos',
      async () => {
        // All in parallel; the step fails once every AOS has settled, so nothing runs on unobserved.
        const outcomes = await Promise.allSettled(
          plan.map(({ aosId, action: what }) =>
            op.withRetries(
              'restartAos',
              what,
              async () => {
                const state = await (
                  what === 'restart' ? op.act.restartAos : op.act.stopAos
                ).executeWithOptions({ ...op.activityOptions, summary: `${what} ${aosId}` }, [
                  { environment, aosId },
                ]);
                // A resumed step leaves an AOS already in the target mode alone; the log says so.
                if ('note' in state && state.note) op.note(`${aosId}: ${state.note}, not restarted`);
                return state;
              },
              aosId,
            ),
          ),
        );
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (failed) throw failed.reason;
      },
      () => plan.map((p) => `${p.action === 'restart' ? '↻' : '■'} ${p.aosId}`).join(' '),
    );
    const expect = action === 'enable' ? 'maintenance' : 'normal';
    await op.step(
      'verify',
      () => op.withRetries('verify', 'verify', () => op.act.verifyEnvironment({ environment, expect })),
      (r) => `${r.checks.length} checks passed`,
    );
    await hooks.run('after');
    return 'Succeeded';
  };

  const rollback = async (before: EnvironmentSnapshot): Promise<Result> => {
    op.beginRollback();
    await restoreSnapshot(op, before, touched);
    return 'RolledBack';
  };

  /** A before hook's veto: the operation ends Rejected with the lock given back and the environment as found. */
  let veto: HookVeto | undefined;
  const asFound = (): OperationState => (snapshot?.configurationMode === 1 ? 'InMaintenance' : 'Deployed');
  const finalState = (result: Result): OperationState =>
    result === 'Rejected'
      ? veto
        ? asFound()
        : 'Rejected'
      : result === 'Succeeded'
        ? targetState(action)
        : result === 'RolledBack'
          ? asFound()
          : 'Failed';
  const detail = (result: Result) =>
    result === 'Rejected'
      ? (veto?.message(environment, action) ?? approval.describe())
      : status.alreadyInMode
        ? 'already in the requested mode; nothing changed'
        : '';

  let result: Result;
  try {
    try {
      result = (await approval.pass()) ? await forward() : 'Rejected';
    } catch (err) {
      if (err instanceof RollbackRequested) result = await rollback(snapshot!).catch(stopped);
      else if (err instanceof HookVeto) {
        veto = err;
        result = 'Rejected';
      } else result = stopped(err);
    }
    await op.finish(result, finalState(result), detail(result));
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled from the Web UI or the CLI: recorded as an abort, then the workflow closes Cancelled.
    await CancellationScope.nonCancellable(async () => {
      op.recordCancellation();
      const ended = approval.undecided ? 'Rejected' : 'Aborted';
      await op.finish(ended, finalState(ended), detail(ended));
    });
    throw err;
  }

  await op.handlersFinished();
  log.info('Servicing operation finished', { environment, action, result });
  const summary: ServicingResult = {
    operationId: status.operationId,
    environment,
    action,
    result,
    alreadyInMode: !!status.alreadyInMode,
    state: status.state,
    startedAt: status.startedAt,
    finishedAt: status.finishedAt!,
    before: snapshot,
    steps: status.steps,
    decisions: status.decisions,
    failure: status.failure,
  };
  if (result === 'Aborted' || result === 'Failed') throw op.ended(result, summary);
  // Refused like a busy environment: the caller (CLI, window, rollout) sees a refusal, not a result.
  if (veto) throw veto.failure(environment, action, summary);
  return summary;
}
