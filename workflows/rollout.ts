import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  log,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';
import { WORKFLOW_TYPES, type Result } from '../contract/operation';
import {
  EXAMPLE_ROLLOUT_INPUT,
  MAX_ROLLOUT_TARGETS,
  ROLLOUT_MEMO,
  ROLLOUT_WORKFLOW_TYPE,
  resolveLimit,
  rolloutChildId,
  rolloutInputSchema,
  type RolloutResult,
  type RolloutRow,
  type RolloutStatus,
  type RowResult,
  type ValidRolloutInput,
} from '../contract/rollout';
import type { RolloutSettings } from '../activities/rollout';
import type { RequesterProof } from '../contract/approval';
import { provedRequester } from './approval';
import { parseWorkflowInput } from './lifecycle';
import { causeOf } from './operation';
import { Rollout, isError } from './rollout-lifecycle';
import { now } from './settings';

const { resolveRolloutTargets } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/**
 * A rollout that services protected environments proves who asked for it (its schedule, or a signed
 * start), so that each protected environment's operation knows its requester for the approval.
 */
async function provedRollout(
  raw: unknown,
  signing: NonNullable<RolloutSettings['signing']>,
  rollout: Rollout,
): Promise<RequesterProof> {
  const proof = await provedRequester(raw, ROLLOUT_WORKFLOW_TYPE, signing, (m) => rollout.note(m));
  if (typeof proof !== 'string') return proof;
  throw ApplicationFailure.nonRetryable(
    `The rollout services protected environments (${signing.protectedTargets.join(', ')}) and ${proof}. Nothing was started. ` +
      'Start it with `maint rollout ...`, which signs the request with your SSH key, or from the Web UI with the input that `maint rollout ... --print-input` prints.',
    ErrorType.NotTrusted,
  );
}

/** How an environment's operation ended, from its child workflow's failure. */
function rowOutcome(err: unknown): { result: RowResult; error: RolloutRow['error'] } {
  if (!(err instanceof ChildWorkflowFailure)) throw err;
  const { error } = causeOf(err);
  if (error.type === ErrorType.EnvironmentBusy) return { result: 'Skipped', error };
  return { result: error.type === ErrorType.OperationAborted ? 'Aborted' : 'Failed', error };
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
  if (targets.signing) status.requester = await provedRollout(raw, targets.signing, rollout);
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
