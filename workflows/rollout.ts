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
import { PRIORITIES } from '../contract/priority';
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
import { Patches, now } from './settings';
import { hasPatch } from './shape';
import { formatDuration } from '../contract/window';

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

const waitingFor = (row: RolloutRow) =>
  row.waiting === 'approval' ? 'approval' : row.waiting === 'lock' ? 'the lock' : 'the lock or approval';

/**
 * How an environment's operation ended, from its child workflow's failure. A child that could not even
 * start (its ID taken, say) is that environment's failure, never the rollout's.
 */
function rowOutcome(err: unknown): { result: RowResult; error: RolloutRow['error'] } {
  const { error } = causeOf(err);
  if (!(err instanceof ChildWorkflowFailure))
    return {
      result: 'Failed',
      error: { ...error, message: `the operation did not start: ${error.message}` },
    };
  // Refused with nothing changed: busy, frozen, or vetoed by the environment's own before hook.
  if (
    error.type === ErrorType.EnvironmentBusy ||
    error.type === ErrorType.EnvironmentFrozen ||
    error.type === ErrorType.HookRefused
  )
    return { result: 'Skipped', error };
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
  // Before the first await (see Operation): the members' IDs, slots, error counts and cancellation.
  const members = hasPatch(Patches.rolloutMembers);
  const cuts = input.cutoff !== undefined && hasPatch(Patches.rolloutCutoff);
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
  const rollout = new Rollout(status, `Rollout: ${input.action} on ${selection}`, {
    // A stop cancels the members that have changed nothing yet (waiting for the lock or approval).
    onStop: members ? () => cancelWaiting() : undefined,
  });

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

  /** The scopes of members in flight, to cancel those that still wait when the rollout stops. */
  const scopes = new Map<string, CancellationScope>();
  const cancelled = new Set<string>();
  const cancelWaiting = () => {
    for (const row of status.environments) {
      if (row.state === 'Done' || !row.waiting || cancelled.has(row.environment)) continue;
      cancelled.add(row.environment);
      rollout.note(`${row.environment}: cancelled while it waited for ${waitingFor(row)}`);
      scopes.get(row.environment)?.cancel();
    }
  };

  /**
   * One environment's operation, start to end. Never cancelled from here once it changes anything (an
   * abort lets it finish); while it still waits for the lock or approval, a stop of the rollout cancels it.
   */
  const run = async (row: RolloutRow): Promise<void> => {
    Object.assign(row, {
      state: 'Running',
      startedAt: now(),
      workflowId: rolloutChildId(rolloutId, row.environment, !members),
    });
    rollout.refresh();
    try {
      const done = await executeChild(WORKFLOW_TYPES[input.action], {
        workflowId: row.workflowId,
        args: [childInput(row.environment)],
        memo: { [ROLLOUT_MEMO]: rolloutId },
        // Terminating the rollout must not kill an operation halfway through a restart.
        parentClosePolicy: 'ABANDON',
        // After hand-started operations on the task queue (contract/priority.ts); the priority is the
        // task's, not a command's or an event's: histories keep their shape.
        priority: { priorityKey: PRIORITIES.rolloutMember },
        staticSummary: `${input.action} on ${row.environment} (rollout ${rolloutId})`,
      });
      row.result = (done as { result: Result }).result;
    } catch (err) {
      if (cancelled.has(row.environment)) {
        Object.assign(row, {
          result: 'NotStarted',
          error: {
            message: `cancelled while it waited for ${waitingFor(row)}: ${status.stopped}`,
          },
        });
      } else Object.assign(row, rowOutcome(err));
    }
    row.state = 'Done';
    row.waiting = undefined;
    // Resumed to success after a decision: no longer an error.
    if (members && row.countedAsError && !isError(row.result!)) row.countedAsError = false;
    row.finishedAt = now();
    row.durationMs = Date.parse(row.finishedAt) - Date.parse(row.startedAt!);
    rollout.note(`${row.environment}: ${row.result}${row.error ? ` (${row.error.message})` : ''}`);
    if (isError(row.result!)) rollout.countError(row);
    else rollout.refresh();
  };

  const inFlight: Promise<void>[] = [];
  let cancellation: unknown;
  // A member awaiting a decision, counted as an error, frees its slot (it may wait for days).
  const running = () =>
    status.environments.filter(
      (r) => r.state === 'Running' || (r.state === 'AwaitingDecision' && !(members && r.countedAsError)),
    ).length;
  /** A member's own scope: not cancelled with the rollout, only by cancelWaiting. */
  const member = (row: RolloutRow) =>
    CancellationScope.nonCancellable(() => {
      if (!members) return run(row);
      const scope = new CancellationScope();
      scopes.set(row.environment, scope);
      return scope.run(() => run(row));
    });
  /** No member starts in the last `cutoff` of the rollout's window (its start plus the windows' duration). */
  const cutoffAt = cuts ? Date.parse(status.startedAt) + input.duration! - input.cutoff! : undefined;
  const free = () => rollout.stopped !== undefined || (rollout.mayStart && running() < status.maxConcurrency);
  try {
    for (const row of status.environments) {
      if (cutoffAt === undefined) await condition(free);
      else if (!(await condition(free, Math.max(1, cutoffAt - Date.now()))) || Date.now() >= cutoffAt)
        rollout.stop(
          `the window's cutoff passed at ${new Date(cutoffAt).toISOString()} (no start in its last ${formatDuration(input.cutoff!)})`,
        );
      if (rollout.stopped) break;
      inFlight.push(member(row));
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancellation = err;
    rollout.abort('the rollout was cancelled (acts as abort)');
  }
  const drained = CancellationScope.nonCancellable(() => Promise.all(inFlight));
  // Cancelled once every member has started: still acts as abort (members still waiting are cancelled).
  if (members && !cancellation) {
    await Promise.race([drained, CancellationScope.current().cancelRequested]).catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
      cancellation = err;
      rollout.abort('the rollout was cancelled (acts as abort)');
    });
  }
  await drained;
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
  if (cancellation) throw cancellation;
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
