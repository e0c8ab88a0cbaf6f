import {
  ApplicationFailure,
  Connection,
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { connectionOptions } from '../config/connection';
import { ENVIRONMENT_WORKFLOW_TYPE, type EnvironmentView, type LockHolder } from '../contract/environment';
import { approvalUpdates, type ApprovalKind } from '../contract/approval';
import { rolloutUpdates } from '../contract/rollout';
import { EnvironmentEntities } from './environment-entity';
import { cliIdentity, createClient } from './identity';
import { windowInputSchema, type WindowInput, type WindowResult } from '../contract/window';
import { bookedWindowId } from '../contract/booking';
import type { LoadedConfig } from '../config/load';
import type { OperationPlan } from '../contract/plan';
import {
  WORKFLOW_TYPES,
  decisionUpdates,
  operationWorkflowId,
  searchAttributes,
  servicingInputSchema,
  statusQuery,
  type DecisionAck,
  type DecisionInput,
  type DecisionKind,
  type OperationKind,
  type OperationState,
  type OperationStatus,
  type ServicingInput,
  type ServicingResult,
} from '../contract/operation';

/** Errors the CLI turns into one-line messages and exit codes. */
export class OperatorError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Exit codes of the CLI, for scripts (listed in docs/cli.md). */
export const ExitCode = {
  Ok: 0,
  OperationFailed: 1,
  InvalidInput: 2,
  Unreachable: 3,
  Conflict: 4,
  NotFound: 5,
  NeedsDecision: 6,
  /** The operation waits for approval on a protected environment (approve or reject). */
  AwaitingApproval: 7,
  /** `status`: the environment is in maintenance, being serviced, or left Failed: not ready for a deployment. */
  NotReady: 8,
  /** Ctrl-C while following: the operation keeps running (128 + SIGINT, as shells report it). */
  Interrupted: 130,
} as const;

/** The gRPC status codes the CLI tells apart (from the gRPC spec). */
const GrpcStatus = { NotFound: 5, Unavailable: 14 } as const;

/**
 * True when a call failed because the server cannot be reached any more (the client has retried
 * UNAVAILABLE for about 20 s by then). The SDK wraps the gRPC error in a ServiceError's cause.
 */
export function isConnectionLost(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (isGrpcServiceError(e)) return e.code === GrpcStatus.Unavailable;
  }
  return false;
}

export async function connect(config: LoadedConfig): Promise<{ client: Client; close(): Promise<void> }> {
  const { address, namespace } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' });
  } catch (err) {
    throw new OperatorError(
      `Cannot reach Temporal at ${address} (namespace ${namespace}): ${(err as Error).message.split('\n')[0]}. ` +
        'Is it running? Start it with `npm start`, or set TEMPORAL_ADDRESS.',
      ExitCode.Unreachable,
    );
  }
  try {
    // Checked once here: otherwise each command fails in its own way on its first call.
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    await connection.close();
    if (isGrpcServiceError(err) && err.code === GrpcStatus.NotFound) {
      throw new OperatorError(
        `Namespace "${namespace}" does not exist at ${address}. Set temporal.namespace in ${config.file} ` +
          `or TEMPORAL_NAMESPACE to an existing one, or create it (\`temporal operator namespace create --namespace ${namespace}\`).`,
        ExitCode.InvalidInput,
      );
    }
    throw err;
  }
  return { client: createClient(connection, namespace, cliIdentity()), close: () => connection.close() };
}

export function requireEnvironment(config: LoadedConfig, environment: string): void {
  if (!config.environments[environment]) {
    throw new OperatorError(
      `Unknown environment "${environment}". Known environments: ${Object.keys(config.environments).join(', ')} (from ${config.file}).`,
      ExitCode.InvalidInput,
    );
  }
}

const SUMMARIES: Record<OperationKind, string> = {
  enable: 'Enable maintenance mode',
  disable: 'Disable maintenance mode',
  window: 'Maintenance window',
};

/**
 * Starts an operation under its business-key workflow ID, so the same kind of operation cannot run
 * twice on an environment. The input is checked here first, for a message without a round trip;
 * the workflow checks it again, as it does for input typed into the Web UI.
 */
function checkedInput(config: LoadedConfig, kind: OperationKind, input: ServicingInput | WindowInput) {
  const parsed = (kind === 'window' ? windowInputSchema : servicingInputSchema).safeParse(input);
  if (!parsed.success) {
    throw new OperatorError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
      ExitCode.InvalidInput,
    );
  }
  requireEnvironment(config, parsed.data.environment);
  return parsed.data;
}

/** Where an operation the CLI starts goes: its business-key workflow ID, and its type. */
export function startTarget(
  kind: OperationKind,
  environment: string,
  /** A window booked ahead: its own ID per start, so that it never blocks a window opened now. */
  at?: string,
): { workflowId: string; workflowType: string } {
  const workflowId =
    kind !== 'window'
      ? operationWorkflowId(environment)
      : at
        ? bookedWindowId(environment, at)
        : `window-${environment}`;
  return { workflowId, workflowType: WORKFLOW_TYPES[kind] };
}

export async function startOperation(
  client: Client,
  config: LoadedConfig,
  kind: OperationKind,
  input: ServicingInput | WindowInput,
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const { environment, requestedBy, reason } = checkedInput(config, kind, input);
  const at = 'at' in input ? input.at : undefined;
  const { workflowId, workflowType } = startTarget(kind, environment, at);
  try {
    return await client.workflow.start(workflowType, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: `${SUMMARIES[kind]} on ${environment}`,
      staticDetails: `Requested by ${requestedBy}${reason ? `: ${reason}` : ''}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new OperatorError(
        `${at ? `A window is already booked at ${at}` : kind === 'window' ? 'A maintenance window is already open' : 'An operation is already running'} on ` +
          `${environment} (workflow ${workflowId}). Follow it with \`maint status ${environment}\`.`,
        ExitCode.Conflict,
      );
    }
    throw err;
  }
}

/**
 * A dry run: the operation's workflow with `"dryRun": true`, on the worker (which has the drivers), under
 * its own workflow ID so that it never collides with the operation it plans. Returns the plan.
 */
export async function planOperation(
  client: Client,
  config: LoadedConfig,
  kind: OperationKind,
  input: ServicingInput | WindowInput,
): Promise<OperationPlan> {
  const { environment } = checkedInput(config, kind, input);
  return client.workflow.execute<(i: unknown) => Promise<OperationPlan>>(WORKFLOW_TYPES[kind], {
    workflowId: `plan-${kind}-${environment}-${Date.now().toString(36)}`,
    taskQueue: config.temporal.taskQueue,
    args: [{ ...input, dryRun: true }],
    staticSummary: `Dry run: ${SUMMARIES[kind].toLowerCase()} on ${environment}`,
  });
}

export const entitiesOf = (client: Client, config: LoadedConfig): EnvironmentEntities =>
  new EnvironmentEntities(client, config.temporal.taskQueue);

/**
 * An environment's current operation: the one at work now by its entity workflow (a window's running
 * child, else the lock holder), else a running one that does not hold the lock (unlocked by force,
 * or started by the first release), else the newest in the entity's history. `kind` narrows it.
 */
export async function currentOperation(
  client: Client,
  config: LoadedConfig,
  environment: string,
  { kind, view }: { kind?: OperationKind; view?: EnvironmentView | null } = {},
): Promise<{ workflowId: string; runId?: string } | undefined> {
  const entities = entitiesOf(client, config);
  if (view === undefined) view = (await entities.view(environment)) ?? null;
  const fits = (action: string) => action !== 'unlock' && (!kind || action === kind);
  // A live operation: its newest run (a Reset from the Web UI makes a new run of the same operation).
  const live = [view?.active, view?.holder].find((h) => h && fits(h.action));
  if (live) return { workflowId: live.workflowId };
  const running = config.temporal.searchAttributes && (await runningOperation(client, environment, kind));
  if (running) return running;
  if (!view) return undefined;
  const recent = view.recent.some((e) => fits(e.action))
    ? view.recent
    : await entities.history(environment, 500);
  const entry = recent.find((e) => fits(e.action));
  return entry && { workflowId: entry.operationId, runId: entry.runId };
}

async function runningOperation(client: Client, environment: string, kind?: OperationKind) {
  const query = [
    `${searchAttributes.environment.name} = '${environment}'`,
    "ExecutionStatus = 'Running'",
    `WorkflowType != '${ENVIRONMENT_WORKFLOW_TYPE}'`,
    kind ? `${searchAttributes.action.name} = '${kind}'` : '',
  ]
    .filter(Boolean)
    .join(' AND ');
  let newest: { workflowId: string; runId: string; startTime: Date } | undefined;
  for await (const wf of client.workflow.list({ query, pageSize: 20 })) {
    if (!newest || wf.startTime > newest.startTime) newest = wf;
  }
  return newest && { workflowId: newest.workflowId, runId: newest.runId };
}

/**
 * The operation an operator names: an environment (its current operation) or a workflow ID.
 */
export async function resolveOperation(
  client: Client,
  config: LoadedConfig,
  target: string,
  kind?: OperationKind,
): Promise<WorkflowHandle> {
  if (config.environments[target]) {
    const found = await currentOperation(client, config, target, { kind });
    if (!found) throw new OperatorError(`No operation has run on ${target} yet.`, ExitCode.NotFound);
    return client.workflow.getHandle(found.workflowId, found.runId);
  }
  const handle = client.workflow.getHandle(target);
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new OperatorError(
        `"${target}" is neither an environment (${Object.keys(config.environments).join(', ')}) nor a workflow ID.`,
        ExitCode.NotFound,
      );
    }
    throw err;
  }
  return handle;
}

export interface EnvironmentStatus {
  environment: string;
  /** The environment's state, or a running operation's own (AwaitingApproval). */
  state: OperationState;
  /** Who holds the servicing lock, and who waits for it. */
  lock?: LockHolder;
  queue: LockHolder[];
  /** In maintenance since a plain enable; `overdueSince` once longer than policies.maximumInMaintenance. */
  maintenance?: EnvironmentView['maintenance'];
  operation?: {
    workflowId: string;
    runId: string;
    workflowType: string;
    execution: string;
    startTime: string;
    status?: OperationStatus;
    error?: string;
  };
}

/** The environment as its entity workflow knows it, with its current operation's status. */
export async function environmentStatus(
  client: Client,
  config: LoadedConfig,
  environment: string,
  /** Show this operation rather than the environment's current one. */
  operation?: { workflowId: string; runId?: string },
): Promise<EnvironmentStatus> {
  const view = await entitiesOf(client, config).view(environment);
  const status: EnvironmentStatus = {
    environment,
    state: view?.state ?? 'Deployed',
    lock: view?.holder,
    queue: view?.queue ?? [],
    ...(view?.maintenance && { maintenance: view.maintenance }),
  };
  const found = operation ?? (await currentOperation(client, config, environment, { view: view ?? null }));
  if (!found) return status;
  const handle = client.workflow.getHandle(found.workflowId, found.runId);
  const info = await handle.describe();
  status.operation = {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.type,
    execution: info.status.name,
    startTime: info.startTime.toISOString(),
  };
  try {
    status.operation.status = await handle.query(statusQuery);
    // A running operation knows best (it may not hold the lock: unlocked by force, or a first-release one).
    if (info.status.name === 'RUNNING') status.state = status.operation.status.state;
  } catch (err) {
    status.operation.error = `status query not answered (is a worker running?): ${(err as Error).message.split('\n')[0]}`;
  }
  return status;
}

/**
 * What `maint status` exits with, so a pipeline can refuse to deploy: 0 only when the environment is
 * Deployed, nothing holds it and no operation runs on it.
 */
export function readinessCode(s: EnvironmentStatus): number {
  if (s.operation?.execution === 'RUNNING' && s.operation.status?.awaitingDecision)
    return ExitCode.NeedsDecision;
  const busy = s.lock !== undefined || s.operation?.execution === 'RUNNING';
  return s.state === 'Deployed' && !busy ? ExitCode.Ok : ExitCode.NotReady;
}

export type FollowOutcome =
  | { kind: 'completed'; result: ServicingResult | WindowResult }
  | { kind: 'failed'; message: string; type?: string; result?: ServicingResult | WindowResult }
  | { kind: 'needsDecision'; status: OperationStatus }
  | { kind: 'awaitingApproval'; status: OperationStatus }
  | { kind: 'reached'; status: OperationStatus };

/** How long an operation may wait for a worker before `follow` says so. */
export const NO_WORKER_AFTER_MS = 10_000;
/** A status query nobody answers (no worker) would hold the follow loop for the server's 30 s. */
const STATUS_QUERY_TIMEOUT_MS = 5_000;
const WORKER_CHECK_MS = 1_000;

/** A query that gives up after STATUS_QUERY_TIMEOUT_MS, for loops that poll and look again. */
export function promptQuery<R>(handle: WorkflowHandle, query: QueryDefinition<R>): Promise<R> {
  return handle.client.withDeadline(Date.now() + STATUS_QUERY_TIMEOUT_MS, () => handle.query(query));
}

export interface FollowOptions {
  /** Stop following once the status satisfies this (a window that is open). */
  until?: (s: OperationStatus) => boolean;
  /** Called once when no worker has picked up the operation for NO_WORKER_AFTER_MS; following goes on. */
  onNoWorker?: (taskQueue: string) => void;
  pollMs?: number;
}

/**
 * Follows an operation until it ends or waits for a decision, calling `onStatus` on each change
 * (polling the status query: cheap, and it works for operations started anywhere). Rejects, rather
 * than polling on, when the server cannot be reached any more.
 */
export async function follow(
  handle: WorkflowHandle,
  onStatus: (s: OperationStatus) => void,
  { until, onNoWorker, pollMs = 250 }: FollowOptions = {},
): Promise<FollowOutcome> {
  let last = '';
  let ended: FollowOutcome | undefined;
  const result = handle.result().then(
    (r: ServicingResult | WindowResult): FollowOutcome => ({ kind: 'completed', result: r }),
    (err: unknown): FollowOutcome => {
      if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
        const details = err.cause.details?.[0] as ServicingResult | WindowResult | undefined;
        return {
          kind: 'failed',
          message: err.cause.message,
          type: err.cause.type ?? undefined,
          result: details,
        };
      }
      if (err instanceof WorkflowFailedError)
        return { kind: 'failed', message: err.cause?.message ?? err.message };
      throw err;
    },
  );
  void result.then(
    (o) => (ended = o),
    () => undefined,
  );
  let following = true;
  if (onNoWorker) void watchForWorker(handle, onNoWorker, () => following);
  try {
    while (!ended) {
      try {
        const s = await promptQuery(handle, statusQuery);
        const key = JSON.stringify([s.steps, s.state, s.awaitingDecision]);
        if (key !== last) {
          last = key;
          onStatus(s);
        }
        if (s.awaitingDecision) return { kind: 'needsDecision', status: s };
        if (s.approval?.awaiting) return { kind: 'awaitingApproval', status: s };
        if (until?.(s)) return { kind: 'reached', status: s };
      } catch (err) {
        if (isConnectionLost(err)) throw err;
        // Not answerable yet (no worker, first workflow task still running) or just closed: look again.
      }
      await Promise.race([result, new Promise((r) => setTimeout(r, pollMs))]);
    }
    return await result;
  } finally {
    following = false;
  }
}

/**
 * Calls `onNoWorker` once when the operation's workflow task has stayed scheduled, not started by
 * any worker, for NO_WORKER_AFTER_MS of our watching (the server's own clock may differ from ours).
 */
async function watchForWorker(
  handle: WorkflowHandle,
  onNoWorker: (taskQueue: string) => void,
  following: () => boolean,
): Promise<void> {
  let waiting: { task: string; since: number } | undefined;
  while (following()) {
    try {
      const { raw, taskQueue } = await handle.describe();
      const task = raw.pendingWorkflowTask;
      if (
        task?.state !== temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
      ) {
        waiting = undefined;
      } else {
        const id = JSON.stringify(task.scheduledTime);
        if (waiting?.task !== id) waiting = { task: id, since: Date.now() };
        if (Date.now() - waiting.since >= NO_WORKER_AFTER_MS) {
          if (following()) onNoWorker(taskQueue);
          return;
        }
      }
    } catch {
      // The follow loop itself reports a server that is gone.
    }
    await new Promise((r) => setTimeout(r, WORKER_CHECK_MS));
  }
}

/** Sends a decision (or an approval) as an update: the answer, or the workflow's reason for refusing it. */
export async function decide(
  handle: WorkflowHandle,
  kind: DecisionKind | ApprovalKind | 'pause',
  input: DecisionInput,
): Promise<DecisionAck> {
  try {
    // A rollout's resume and abort share the wire names (and input) of the decisions.
    const update =
      kind === 'approve' || kind === 'reject'
        ? approvalUpdates[kind]
        : kind === 'pause'
          ? rolloutUpdates.pause
          : decisionUpdates[kind];
    return await handle.executeUpdate(update, { args: [input] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new OperatorError(err.cause?.message ?? err.message, ExitCode.Conflict);
    }
    if (err instanceof WorkflowNotFoundError) {
      throw new OperatorError(
        `Operation ${handle.workflowId} has ended: there is nothing to decide.`,
        ExitCode.Conflict,
      );
    }
    throw err;
  }
}
