import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';
import {
  DECISIONS,
  DECISION_HELP,
  EXAMPLE_INPUT,
  STEP_TITLES,
  WORKFLOW_TYPES,
  decisionInputSchema,
  decisionSignals,
  decisionUpdates,
  logQuery,
  searchAttributes,
  servicingInputSchema,
  statusQuery,
  targetState,
  transitionalState,
  type Action,
  type Decision,
  type DecisionKind,
  type EnvironmentSnapshot,
  type EnvironmentState,
  type ErrorInfo,
  type OperationStatus,
  type Result,
  type ServicingResult,
  type StepName,
} from '../contract/operation';
import { isInTargetMode, planAosSteps } from '../contract/plan';
import { formatIssues } from '../contract/validation';
import { OperationRecord } from './operation-record';

const { resolveEnvironment } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

const now = () => new Date().toISOString(); // workflow time: deterministic on replay

function parseInput(action: Action, raw: unknown) {
  const parsed = servicingInputSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.nonRetryable(
    `Invalid input for ${WORKFLOW_TYPES[action]}:\n${formatIssues(parsed.error)}\n` +
      `Nothing was changed. Start it again with an input like ${JSON.stringify(EXAMPLE_INPUT)}`,
    ErrorType.InvalidInput,
  );
}

/** The error an activity threw, without the wrapping "Activity task failed", and whether retrying can help. */
function causeOf(err: unknown): { error: ErrorInfo; nonRetryable: boolean } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
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

/** Control flow inside the workflow: the operation stops with this result. */
class Stop {
  constructor(readonly result: 'Aborted' | 'Failed') {}
}
class RollbackRequested {}

/**
 * One servicing operation: preflight, flip the flag, restart AOS, verify, record. When a step still
 * fails after its retries, the operation is Failed and waits for an operator: resume, rollback or
 * abort (updates for the CLI, signals of the same names for the Web UI), or ends Failed when no
 * decision comes in time. Cancelling the workflow acts as abort.
 */
export async function runServicing(action: Action, raw: unknown): Promise<ServicingResult> {
  const input = parseInput(action, raw);
  const { environment } = input;
  const info = workflowInfo();

  const status: OperationStatus = {
    operationId: info.workflowId,
    environment,
    action,
    requestedBy: input.requestedBy,
    reason: input.reason,
    state: transitionalState(action),
    phase: 'forward',
    step: null,
    progress: 0,
    steps: [],
    startedAt: now(),
    awaitingDecision: false,
    availableDecisions: [],
    decisions: [],
  };
  const record = new OperationRecord(status, info.runId);
  let snapshot: EnvironmentSnapshot | undefined;
  let pending: Decision | undefined;
  let lockHeld = false;

  const publish = () => {
    const mark = { pending: '○', running: '▶', succeeded: '✓', skipped: '–', failed: '✗' } as const;
    const lines = status.steps.map(
      (s) => `${mark[s.status]} ${STEP_TITLES[s.name]}${s.detail ? ` — ${s.detail}` : ''}`,
    );
    const waiting = status.awaitingDecision
      ? `\n\n**Waiting for a decision** until ${status.decisionDeadline}: send the signal ` +
        `${status.availableDecisions.map((d) => `\`${d}\``).join(', ')} with input {"by": "your.name", "reason": "..."}`
      : '';
    setCurrentDetails(
      `**${action === 'enable' ? 'Enable' : 'Disable'} maintenance mode on ${environment}**: ${status.state}, ` +
        `${status.progress}%${waiting}\n\n${lines.join('\n\n')}`,
    );
  };

  /** The reason a decision does not fit the state now, or undefined when it does. */
  const refusal = (kind: DecisionKind): string | undefined => {
    if (!status.awaitingDecision) {
      return status.result
        ? `the operation has ended (${status.result})`
        : `nothing has failed: the operation is running ${status.step ?? 'its first step'}`;
    }
    if (pending) return `a decision (${pending.kind} by ${pending.by}) is already being applied`;
    if (status.availableDecisions.includes(kind)) return undefined;
    if (kind === 'rollback' && status.phase === 'rollback')
      return 'the operation is rolling back already: resume or abort';
    if (kind === 'rollback' && !snapshot)
      return 'nothing to roll back: it failed before changing anything; resume or abort';
    return `${kind} does not apply to step ${status.step}; available: ${status.availableDecisions.join(', ')}`;
  };
  const accept = (kind: DecisionKind, payload: unknown): Decision => {
    const { by, reason } = decisionInputSchema.parse(payload);
    pending = { kind, by, reason, at: now(), step: status.step };
    return pending;
  };
  const check = (kind: DecisionKind, payload: unknown): string | undefined => {
    const parsed = decisionInputSchema.safeParse(payload);
    if (!parsed.success) return `invalid input: ${parsed.error.issues.map((i) => i.message).join('; ')}`;
    return refusal(kind);
  };

  setHandler(statusQuery, () => status, {
    description: 'State, step, progress, failure and available decisions',
  });
  setHandler(logQuery, () => record.log, {
    description: 'The operation log: steps, attempts, errors, decisions',
  });
  for (const kind of DECISIONS) {
    setHandler(
      decisionUpdates[kind],
      (payload) => {
        const decision = accept(kind, payload);
        return { accepted: true, decision, message: `${kind} accepted: ${DECISION_HELP[kind]}` };
      },
      {
        validator: (payload) => {
          const why = check(kind, payload);
          if (why) throw new Error(`${kind} refused: ${why}`);
        },
        description: `${kind}: ${DECISION_HELP[kind]}. Input: {"by": "your.name", "reason": "..."}`,
      },
    );
    setHandler(
      decisionSignals[kind],
      (payload) => {
        const why = check(kind, payload);
        if (why) {
          record.add({ kind: 'note', message: `Signal ${kind} ignored: ${why}` });
          log.warn('Decision signal ignored', { kind, why });
          return;
        }
        accept(kind, payload);
      },
      { description: `${kind}: ${DECISION_HELP[kind]}. Input: {"by": "your.name", "reason": "..."}` },
    );
  }

  const settings = await resolveEnvironment({ environment });
  const publishSearchAttributes = () => {
    if (!settings.searchAttributes) return;
    upsertSearchAttributes([
      { key: searchAttributes.environment, value: environment },
      { key: searchAttributes.action, value: action },
      { key: searchAttributes.state, value: status.state },
    ]);
  };
  const setState = (state: EnvironmentState) => {
    status.state = state;
    if (lockHeld && settings.searchAttributes)
      upsertSearchAttributes([{ key: searchAttributes.state, value: state }]);
    publish();
  };
  publish();

  const act = proxyActivities<Activities>({
    startToCloseTimeout: settings.activity.startToCloseTimeoutMs,
    heartbeatTimeout: settings.activity.heartbeatTimeoutMs,
    // The workflow retries itself (withRetries) so that every attempt is in the operation log.
    retry: { maximumAttempts: 1 },
  });

  /** Calls an activity with the configured retry policy, logging each attempt. */
  const withRetries = async <T>(
    step: StepName,
    what: string,
    call: () => Promise<T>,
    aos?: string,
  ): Promise<T> => {
    const { initialIntervalMs, backoffCoefficient, maximumIntervalMs, maximumAttempts } = settings.retry;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      try {
        const result = await call();
        record.add({
          kind: 'attempt',
          step,
          aos,
          attempt,
          outcome: 'succeeded',
          durationMs: Date.now() - started,
          message: what,
        });
        return result;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const { error, nonRetryable } = causeOf(err);
        record.add({
          kind: 'attempt',
          step,
          aos,
          attempt,
          outcome: 'failed',
          durationMs: Date.now() - started,
          message: what,
          error,
        });
        if (nonRetryable || attempt >= maximumAttempts) throw err;
        await sleep(Math.min(initialIntervalMs * backoffCoefficient ** (attempt - 1), maximumIntervalMs));
      }
    }
  };

  /** Waits for an operator's decision on the failed step, or for the decision timeout. */
  const awaitDecision = async (step: StepName): Promise<Decision> => {
    if (!lockHeld) publishSearchAttributes();
    status.awaitingDecision = true;
    status.availableDecisions =
      step === 'record'
        ? ['resume']
        : DECISIONS.filter((d) => d !== 'rollback' || (snapshot && status.phase === 'forward'));
    status.decisionDeadline = new Date(Date.now() + settings.decisionTimeoutMs).toISOString();
    setState('Failed');
    log.warn('Operation failed; waiting for a decision', {
      environment,
      step,
      error: status.failure?.error.message,
    });
    const came = await condition(() => pending !== undefined, settings.decisionTimeoutMs);
    const decision: Decision = came
      ? pending!
      : {
          kind: 'timeout',
          by: 'system',
          reason: `no decision by ${status.decisionDeadline}`,
          at: now(),
          step,
        };
    pending = undefined;
    Object.assign(status, { awaitingDecision: false, availableDecisions: [], decisionDeadline: undefined });
    status.decisions.push(decision);
    record.add({
      kind: 'decision',
      step,
      message: `${decision.kind} by ${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`,
    });
    if (decision.kind === 'resume')
      setState(status.phase === 'rollback' ? 'RollingBack' : transitionalState(action));
    return decision;
  };

  /** Runs a step; on failure asks for a decision and resumes, rolls back or stops as told. */
  const step = async <T>(name: StepName, run: () => Promise<T>, describe?: (r: T) => string): Promise<T> => {
    for (;;) {
      record.startStep(name);
      publish();
      try {
        const result = await run();
        record.succeedStep(name, describe?.(result));
        publish();
        return result;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const { error } = causeOf(err);
        if (error.type === ErrorType.EnvironmentBusy) {
          // Refused at once: the environment belongs to another operation, and nothing was changed.
          throw ApplicationFailure.nonRetryable(error.message, ErrorType.EnvironmentBusy);
        }
        record.failStep(name, error);
        const decision = await awaitDecision(name);
        if (decision.kind === 'resume') continue;
        if (decision.kind === 'rollback') throw new RollbackRequested();
        throw new Stop(decision.kind === 'abort' ? 'Aborted' : 'Failed');
      }
    }
  };

  const touched = { flag: false, aos: false };
  const forward = async (): Promise<Result> => {
    snapshot = await step(
      'preflight',
      async () => {
        await withRetries('preflight', 'take the servicing lock', () =>
          act.acquireLock({ environment, action, requestedBy: input.requestedBy }),
        );
        lockHeld = true;
        publishSearchAttributes();
        return withRetries('preflight', 'snapshot the environment', () =>
          act.snapshotEnvironment({ environment }),
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
      return 'Succeeded';
    }
    const before = snapshot;
    touched.flag = true;
    await step(
      'flipFlag',
      () =>
        withRetries('flipFlag', 'set CONFIGURATIONMODE', () =>
          act.setConfigurationMode({ environment, value: action === 'enable' ? 1 : 0 }),
        ),
      (r) => `CONFIGURATIONMODE ${r.previous} → ${action === 'enable' ? 1 : 0}`,
    );
    touched.aos = true;
    const plan = planAosSteps(action, before);
    await step(
      'restartAos',
      async () => {
        // All in parallel; the step fails once every AOS has settled, so nothing runs on unobserved.
        const outcomes = await Promise.allSettled(
          plan.map(({ aosId, action: what }) =>
            withRetries(
              'restartAos',
              what,
              () => (what === 'restart' ? act.restartAos : act.stopAos)({ environment, aosId }),
              aosId,
            ),
          ),
        );
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (failed) throw failed.reason;
      },
      () => plan.map((p) => `${p.action === 'restart' ? '↻' : '■'} ${p.aosId}`).join(' '),
    );
    await step(
      'verify',
      () =>
        withRetries('verify', 'verify', () =>
          act.verifyEnvironment({ environment, expect: action === 'enable' ? 'maintenance' : 'normal' }),
        ),
      (r) => `${r.checks.length} checks passed`,
    );
    return 'Succeeded';
  };

  const rollback = async (before: EnvironmentSnapshot): Promise<Result> => {
    record.beginRollback();
    setState('RollingBack');
    if (touched.flag) {
      await step(
        'restoreFlag',
        () =>
          withRetries('restoreFlag', 'restore CONFIGURATIONMODE', () =>
            act.setConfigurationMode({ environment, value: before.configurationMode }),
          ),
        (r) => `CONFIGURATIONMODE ${r.previous} → ${before.configurationMode}`,
      );
    } else record.skipStep('restoreFlag', 'the flag was not changed');
    if (touched.aos) {
      await step(
        'restoreAos',
        () =>
          withRetries('restoreAos', 'restore AOS', () =>
            act.restoreTopology({ environment, snapshot: before }),
          ),
        (r) => (r.changed.length > 0 ? r.changed.join(' ') : 'nothing to change'),
      );
    } else record.skipStep('restoreAos', 'no AOS was touched');
    await step(
      'verifyRestored',
      () =>
        withRetries('verifyRestored', 'verify as before', () =>
          act.verifySnapshot({ environment, snapshot: before }),
        ),
      (r) => r.checks.join('; '),
    );
    return 'RolledBack';
  };

  const finish = async (result: Result): Promise<void> => {
    status.finishedAt = now();
    const failure = status.failure
      ? ` Last failure at ${status.failure.step}: ${status.failure.error.message}`
      : '';
    try {
      await step('record', () =>
        withRetries('record', 'record history and release the lock', () =>
          act.finishOperation({
            operationId: info.workflowId,
            runId: info.runId,
            environment,
            action,
            requestedBy: input.requestedBy,
            reason: input.reason,
            startedAt: status.startedAt,
            finishedAt: status.finishedAt!,
            result,
            detail: status.alreadyInMode ? 'already in the requested mode; nothing changed' : failure.trim(),
            decisions: status.decisions,
          }),
        ),
      );
    } catch (err) {
      if (!(err instanceof Stop)) throw err;
      record.add({ kind: 'note', message: 'The history entry was not written: no decision came in time' });
    }
    status.result = result;
    const finalState: EnvironmentState =
      result === 'Succeeded'
        ? targetState(action)
        : result === 'RolledBack'
          ? snapshot?.configurationMode === 1
            ? 'InMaintenance'
            : 'Deployed'
          : 'Failed';
    setState(finalState);
    if (settings.searchAttributes) upsertSearchAttributes([{ key: searchAttributes.result, value: result }]);
  };

  let result: Result;
  try {
    try {
      result = await forward();
    } catch (err) {
      if (err instanceof RollbackRequested) result = await rollback(snapshot!).catch(stopped);
      else result = stopped(err);
    }
    await finish(result);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled from the Web UI or the CLI: recorded as an abort, then the workflow closes Cancelled.
    await CancellationScope.nonCancellable(async () => {
      status.decisions.push({
        kind: 'cancel',
        by: 'cancellation request',
        reason: 'workflow cancelled',
        at: now(),
        step: status.step,
      });
      record.add({ kind: 'decision', message: 'cancelled: acting as abort' });
      Object.assign(status, { awaitingDecision: false, availableDecisions: [] });
      await finish('Aborted');
    });
    throw err;
  }

  await condition(allHandlersFinished);
  log.info('Servicing operation finished', { environment, action, result });
  const summary: ServicingResult = {
    operationId: info.workflowId,
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
  if (result === 'Aborted' || result === 'Failed') {
    const last = status.decisions[status.decisions.length - 1];
    const failure = status.failure
      ? `"${STEP_TITLES[status.failure.step]}" failed: ${status.failure.error.message}`
      : '';
    throw ApplicationFailure.create({
      message:
        result === 'Aborted'
          ? `Aborted by ${last.by}${last.reason ? ` (${last.reason})` : ''} after ${failure}. The environment was left as it was.`
          : `No decision came by the deadline after ${failure}. The environment was left as it was.`,
      type: result === 'Aborted' ? ErrorType.OperationAborted : ErrorType.OperationFailed,
      nonRetryable: true,
      details: [summary],
    });
  }
  return summary;
}

/** The result a Stop carries; anything else is not ours to handle. */
function stopped(err: unknown): Result {
  if (err instanceof Stop) return err.result;
  throw err;
}
