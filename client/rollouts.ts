import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowClient,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { LoadedConfig } from '../config/load';
import { taggedEnvironments } from '../config/schema';
import { environmentQuery, environmentWorkflowId } from '../contract/environment';
import { statusQuery, type OperationStatus } from '../contract/operation';
import {
  ROLLOUT_WORKFLOW_TYPE,
  rolloutInputSchema,
  rolloutStatusQuery,
  type RolloutInput,
  type RolloutResult,
  type RolloutRow,
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

/**
 * The environments a rollout waits on when it cannot go on without a decision: some wait for one,
 * none runs (one queued for its busy environment runs), and none may start (the rollout is paused,
 * its new starts stopped by maxErrors or an abort, or every slot taken by environments that wait).
 * Undefined while it can go on by itself.
 */
export function awaitingDecisions(s: RolloutStatus): RolloutRow[] | undefined {
  if (s.result) return undefined;
  const awaiting = s.environments.filter((r) => r.state === 'AwaitingDecision');
  if (awaiting.length === 0 || s.environments.some((r) => r.state === 'Running')) return undefined;
  const startable =
    s.state === 'Running' &&
    awaiting.length < s.maxConcurrency &&
    s.environments.some((r) => r.state === 'Pending');
  return startable ? undefined : awaiting;
}

export type RolloutOutcome =
  | { kind: 'ended'; result: RolloutResult }
  | { kind: 'needsDecision'; status: RolloutStatus; awaiting: RolloutRow[] };

/**
 * Follows a rollout, calling `onStatus` whenever a row or the state changes, to its end, or until it
 * cannot go on without a decision (see awaitingDecisions) unless `waitDecisions`.
 */
export async function followRollout(
  handle: WorkflowHandle,
  onStatus: (s: RolloutStatus) => void,
  { waitDecisions = false, pollMs = 500 } = {},
): Promise<RolloutOutcome> {
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
      const awaiting = waitDecisions ? undefined : awaitingDecisions(s);
      if (awaiting) return { kind: 'needsDecision', status: s, awaiting };
    } catch (err) {
      if (isConnectionLost(err)) throw err;
      // Not answerable yet (no worker yet) or just closed: look again.
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  return { kind: 'ended', result: await result };
}

/**
 * The operation that waits for a decision for an environment of a rollout: its own operation, or for
 * a window the child operation the environment's entity names as the one at work. Undefined when
 * neither answers so.
 */
export async function waitingOperation(
  client: WorkflowClient,
  row: RolloutRow,
): Promise<OperationStatus | undefined> {
  const statusOf = (id: string) => promptQuery(client.getHandle(id), statusQuery).catch(() => undefined);
  const own = row.workflowId ? await statusOf(row.workflowId) : undefined;
  if (own?.awaitingDecision) return own;
  const entity = client.getHandle(environmentWorkflowId(row.environment));
  const view = await promptQuery(entity, environmentQuery).catch(() => undefined);
  const atWork = view?.active ?? view?.holder;
  const child = atWork && (await statusOf(atWork.workflowId));
  return child?.awaitingDecision ? child : undefined;
}
