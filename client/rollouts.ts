import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { LoadedConfig } from '../config/load';
import { taggedEnvironments } from '../config/schema';
import {
  ROLLOUT_WORKFLOW_TYPE,
  rolloutInputSchema,
  rolloutStatusQuery,
  type RolloutInput,
  type RolloutResult,
  type RolloutStatus,
  type ValidRolloutInput,
} from '../contract/rollout';
import { ExitCode, OperatorError, isConnectionLost, promptQuery, requireEnvironment } from './operations';

/** `rollout-enable-sandbox-20261126t0442z`: the action, what it covers, and when it was asked for. */
export function rolloutWorkflowId(input: RolloutInput, at = new Date()): string {
  const what = input.tag ?? `${input.environments?.length ?? 0}-environments`;
  const when = at.toISOString().replace(/[-:]/g, '').slice(0, 15).toLowerCase();
  return `rollout-${input.action}-${what}-${when}z`;
}

/** Checks the input and the targets against temporal.yaml, before connecting: a bad one starts nothing. */
export function checkRollout(config: LoadedConfig, input: RolloutInput): ValidRolloutInput {
  const parsed = rolloutInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new OperatorError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
      ExitCode.InvalidInput,
    );
  }
  const { tag, environments = [] } = parsed.data;
  for (const e of environments) requireEnvironment(config, e);
  if (tag && !Object.values(config.environments).some((e) => e.tags?.includes(tag))) {
    throw new OperatorError(
      `No environment in ${config.file} has the tag "${tag}". Add \`tags: [${tag}]\` to the environments, or name them with --environments.`,
      ExitCode.InvalidInput,
    );
  }
  return parsed.data;
}

/** The environments a checked rollout services, as temporal.yaml declares them now. */
export function rolloutTargets(config: LoadedConfig, input: ValidRolloutInput): string[] {
  return input.environments ?? taggedEnvironments(config.environments, input.tag!);
}

/** Starts a checked rollout under a new ID (see rolloutWorkflowId). */
export async function startRollout(
  client: Client,
  config: LoadedConfig,
  input: RolloutInput,
  workflowId = rolloutWorkflowId(input),
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const { tag, environments = [], action, requestedBy, reason } = checkRollout(config, input);
  try {
    return await client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: `Rollout: ${action} on ${tag ? `tag ${tag}` : environments.join(', ')}`.slice(0, 200),
      staticDetails: `Requested by ${requestedBy}${reason ? `: ${reason}` : ''}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new OperatorError(`Rollout ${workflowId} is already running.`, ExitCode.Conflict);
    throw err;
  }
}

export async function isRollout(handle: WorkflowHandle): Promise<boolean> {
  return (await handle.describe()).type === ROLLOUT_WORKFLOW_TYPE;
}

/** Follows a rollout to its end, calling `onStatus` whenever a row or the state changes. */
export async function followRollout(
  handle: WorkflowHandle,
  onStatus: (s: RolloutStatus) => void,
  pollMs = 500,
): Promise<RolloutResult> {
  let ended = false;
  const result = handle.result().then((r: RolloutResult) => r);
  void result.finally(() => (ended = true)).catch(() => undefined);
  let last = '';
  while (!ended) {
    try {
      const s = await promptQuery(handle, rolloutStatusQuery);
      const key = JSON.stringify([s.state, s.environments.map((r) => [r.state, r.result])]);
      if (key !== last) {
        last = key;
        onStatus(s);
      }
    } catch (err) {
      if (isConnectionLost(err)) throw err;
      // Not answerable yet (no worker yet) or just closed: look again.
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  return result;
}
