import {
  ApplicationFailure,
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { connectionOptions } from '../config/connection';
import { windowInputSchema, type WindowInput, type WindowResult } from '../contract/window';
import type { LoadedConfig } from '../config/load';
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
  type EnvironmentState,
  type OperationKind,
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

/** Exit codes of the CLI, for scripts (listed in the README). */
export const ExitCode = {
  Ok: 0,
  OperationFailed: 1,
  InvalidInput: 2,
  Unreachable: 3,
  Conflict: 4,
  NotFound: 5,
  NeedsDecision: 6,
} as const;

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
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
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
export async function startOperation(
  client: Client,
  config: LoadedConfig,
  kind: OperationKind,
  input: ServicingInput | WindowInput,
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const parsed = (kind === 'window' ? windowInputSchema : servicingInputSchema).safeParse(input);
  if (!parsed.success) {
    throw new OperatorError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
      ExitCode.InvalidInput,
    );
  }
  const { environment, requestedBy, reason } = parsed.data;
  requireEnvironment(config, environment);
  const workflowId = kind === 'window' ? `window-${environment}` : operationWorkflowId(environment);
  try {
    return await client.workflow.start(WORKFLOW_TYPES[kind], {
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
        `${kind === 'window' ? 'A maintenance window is already open' : 'An operation is already running'} on ` +
          `${environment} (workflow ${workflowId}). Follow it with \`maint status ${environment}\`.`,
        ExitCode.Conflict,
      );
    }
    throw err;
  }
}

/**
 * An environment's current operation, whatever its workflow ID (found by search attribute): the
 * newest running one (a window, or its child at work), else the newest of all.
 */
export async function currentOperation(
  client: Client,
  environment: string,
  kind?: OperationKind,
): Promise<WorkflowExecutionInfo | undefined> {
  return (
    (await newestOperation(client, environment, { running: true, kind })) ??
    newestOperation(client, environment, { kind })
  );
}

async function newestOperation(
  client: Client,
  environment: string,
  { running = false, kind }: { running?: boolean; kind?: OperationKind },
): Promise<WorkflowExecutionInfo | undefined> {
  let newest: WorkflowExecutionInfo | undefined;
  const query = [
    `${searchAttributes.environment.name} = '${environment}'`,
    running ? "ExecutionStatus = 'Running'" : '',
    kind ? `${searchAttributes.action.name} = '${kind}'` : '',
  ]
    .filter(Boolean)
    .join(' AND ');
  // Visibility lists newest first; one page is plenty and keeps this fast however long the history.
  let seen = 0;
  for await (const wf of client.workflow.list({ query, pageSize: 50 })) {
    if (!newest || wf.startTime > newest.startTime) newest = wf;
    if (++seen >= 50) break;
  }
  return newest;
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
    const info = await currentOperation(client, target, kind);
    if (!info) throw new OperatorError(`No operation has run on ${target} yet.`, ExitCode.NotFound);
    return client.workflow.getHandle(info.workflowId, info.runId);
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
  state: EnvironmentState;
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

/** The environment as its current operation sees it. */
export async function environmentStatus(client: Client, environment: string): Promise<EnvironmentStatus> {
  const info = await currentOperation(client, environment);
  if (!info) return { environment, state: 'Deployed' };
  const state =
    (info.typedSearchAttributes.get(searchAttributes.state) as EnvironmentState | undefined) ?? 'Deployed';
  const operation: EnvironmentStatus['operation'] = {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.type,
    execution: info.status.name,
    startTime: info.startTime.toISOString(),
  };
  try {
    operation.status = await client.workflow.getHandle(info.workflowId, info.runId).query(statusQuery);
  } catch (err) {
    operation.error = `status query not answered (is a worker running?): ${(err as Error).message.split('\n')[0]}`;
  }
  return { environment, state: operation.status?.state ?? state, operation };
}

export type FollowOutcome =
  | { kind: 'completed'; result: ServicingResult | WindowResult }
  | { kind: 'failed'; message: string; type?: string; result?: ServicingResult | WindowResult }
  | { kind: 'needsDecision'; status: OperationStatus }
  | { kind: 'reached'; status: OperationStatus };

/**
 * Follows an operation until it ends or waits for a decision, calling `onStatus` on each change
 * (polling the status query: cheap, and it works for operations started anywhere).
 */
export async function follow(
  handle: WorkflowHandle,
  onStatus: (s: OperationStatus) => void,
  { until, pollMs = 250 }: { until?: (s: OperationStatus) => boolean; pollMs?: number } = {},
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
  while (!ended) {
    try {
      const s = await handle.query(statusQuery);
      const key = JSON.stringify([s.steps, s.state, s.awaitingDecision]);
      if (key !== last) {
        last = key;
        onStatus(s);
      }
      if (s.awaitingDecision) return { kind: 'needsDecision', status: s };
      if (until?.(s)) return { kind: 'reached', status: s };
    } catch {
      // Not answerable yet (first workflow task still running) or just closed: look again.
    }
    await Promise.race([result, new Promise((r) => setTimeout(r, pollMs))]);
  }
  return result;
}

/** Sends a decision as an update: the answer, or the workflow's reason for refusing it. */
export async function decide(
  handle: WorkflowHandle,
  kind: DecisionKind,
  input: DecisionInput,
): Promise<DecisionAck> {
  try {
    return await handle.executeUpdate(decisionUpdates[kind], { args: [input] });
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
