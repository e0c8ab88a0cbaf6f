import {
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';
import {
  EXAMPLE_INPUT,
  STEPS,
  STEP_TITLES,
  WORKFLOW_TYPES,
  searchAttributes,
  servicingInputSchema,
  statusQuery,
  targetState,
  transitionalState,
  type Action,
  type EnvironmentSnapshot,
  type EnvironmentState,
  type OperationStatus,
  type ServicingResult,
  type StepName,
} from '../contract/operation';
import { isInTargetMode, planAosSteps } from '../contract/plan';
import { formatIssues } from '../contract/validation';

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

/** The message of the error an activity threw, without the wrapping "Activity task failed". */
function causeOf(err: unknown): { message: string; type?: string } {
  if (err instanceof ActivityFailure && err.cause) {
    const cause = err.cause;
    return {
      message: cause.message,
      type: cause instanceof ApplicationFailure ? (cause.type ?? undefined) : cause.name,
    };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

/**
 * One servicing operation: preflight, flip the flag, restart AOS, verify, record. Shared by
 * `enableMaintenanceMode` and `disableMaintenanceMode`, which differ only in their target.
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
    step: null,
    progress: 0,
    steps: STEPS.map((name) => ({ name, status: 'pending' })),
    startedAt: now(),
  };
  setHandler(statusQuery, () => status, {
    description: 'State, current step, progress and steps of this operation',
  });

  const publish = () => {
    const lines = status.steps.map((s) => {
      const mark = { pending: '○', running: '▶', succeeded: '✓', skipped: '–', failed: '✗' }[s.status];
      return `${mark} ${STEP_TITLES[s.name]}${s.detail ? ` — ${s.detail}` : ''}`;
    });
    setCurrentDetails(
      `**${action === 'enable' ? 'Enable' : 'Disable'} maintenance mode on ${environment}**: ${status.state}, ` +
        `${status.progress}%\n\n${lines.join('\n\n')}`,
    );
  };
  const settings = await resolveEnvironment({ environment });
  const setState = (state: EnvironmentState) => {
    status.state = state;
    if (settings.searchAttributes) upsertSearchAttributes([{ key: searchAttributes.state, value: state }]);
    publish();
  };
  if (settings.searchAttributes) {
    upsertSearchAttributes([
      { key: searchAttributes.environment, value: environment },
      { key: searchAttributes.action, value: action },
    ]);
  }
  setState(transitionalState(action));
  log.info('Servicing operation started', { environment, action, requestedBy: input.requestedBy });

  const { policy } = settings;
  const options: ActivityOptions = {
    startToCloseTimeout: policy.startToCloseTimeout,
    heartbeatTimeout: policy.heartbeatTimeout,
    retry: { ...policy.retry, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
  };
  const act = proxyActivities<Activities>(options);

  const step = async <T>(name: StepName, run: () => Promise<T>, describe?: (r: T) => string): Promise<T> => {
    const record = status.steps.find((s) => s.name === name)!;
    Object.assign(record, { status: 'running', startedAt: now() });
    status.step = name;
    publish();
    try {
      const result = await run();
      Object.assign(record, { status: 'succeeded', finishedAt: now(), detail: describe?.(result) });
      return result;
    } catch (err) {
      const cause = causeOf(err);
      Object.assign(record, { status: 'failed', finishedAt: now(), detail: cause.message });
      status.failure = { step: name, ...cause };
      setState('Failed');
      log.error('Step failed', { environment, step: name, error: cause.message });
      throw ApplicationFailure.nonRetryable(
        `${STEP_TITLES[name]} failed on ${environment}: ${cause.message}`,
        ErrorType.StepFailed,
        { step: name, cause },
      );
    } finally {
      status.progress = Math.round(
        (100 * status.steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length) /
          STEPS.length,
      );
      publish();
    }
  };

  const before: EnvironmentSnapshot = await step(
    'preflight',
    () => act.snapshotEnvironment({ environment }),
    (s) =>
      `flag ${s.configurationMode}, running: ${
        s.instances
          .filter((i) => i.running)
          .map((i) => i.id)
          .join(', ') || 'none'
      }`,
  );

  const alreadyThere = isInTargetMode(action, before);
  if (alreadyThere) {
    for (const s of status.steps) {
      if (s.status === 'pending' && s.name !== 'record')
        Object.assign(s, { status: 'skipped', detail: 'already in the requested mode' });
    }
  } else {
    await step(
      'flipFlag',
      () => act.setConfigurationMode({ environment, value: action === 'enable' ? 1 : 0 }),
      (r) => `CONFIGURATIONMODE ${r.previous} → ${action === 'enable' ? 1 : 0}`,
    );
    const plan = planAosSteps(action, before);
    await step(
      'restartAos',
      () =>
        Promise.all(
          plan.map(({ aosId, action: what }) =>
            (what === 'restart' ? act.restartAos : act.stopAos).executeWithOptions(
              { ...options, summary: `${what} ${aosId}` },
              [{ environment, aosId }],
            ),
          ),
        ),
      () => plan.map((p) => `${p.action === 'restart' ? '↻' : '■'} ${p.aosId}`).join(' '),
    );
    await step(
      'verify',
      () => act.verifyEnvironment({ environment, expect: action === 'enable' ? 'maintenance' : 'normal' }),
      (r) => `${r.checks.length} checks passed`,
    );
  }

  const outcome = alreadyThere ? 'AlreadyInMode' : 'Succeeded';
  const finishedAt = now();
  await step('record', () =>
    act.recordHistory({
      operationId: info.workflowId,
      runId: info.runId,
      environment,
      action,
      requestedBy: input.requestedBy,
      reason: input.reason,
      startedAt: status.startedAt,
      finishedAt,
      result: outcome,
      detail: alreadyThere ? 'already in the requested mode; nothing changed' : '',
    }),
  );

  status.outcome = outcome;
  status.finishedAt = finishedAt;
  setState(targetState(action));
  log.info('Servicing operation finished', { environment, action, outcome });
  return {
    operationId: info.workflowId,
    environment,
    action,
    outcome,
    state: status.state,
    startedAt: status.startedAt,
    finishedAt,
    before,
    steps: status.steps,
  };
}
