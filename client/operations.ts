import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { connectionOptions } from '../config/connection';
import type { LoadedConfig } from '../config/load';
import {
  WORKFLOW_TYPES,
  operationWorkflowId,
  searchAttributes,
  servicingInputSchema,
  statusQuery,
  type Action,
  type EnvironmentState,
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

export const ExitCode = {
  Ok: 0,
  OperationFailed: 1,
  InvalidInput: 2,
  Unreachable: 3,
  Conflict: 4,
  NotFound: 5,
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

export async function startOperation(
  client: Client,
  config: LoadedConfig,
  action: Action,
  input: ServicingInput,
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const parsed = servicingInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new OperatorError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      ExitCode.InvalidInput,
    );
  }
  requireEnvironment(config, input.environment);
  const workflowId = operationWorkflowId(input.environment);
  try {
    return await client.workflow.start(WORKFLOW_TYPES[action], {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [parsed.data],
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: `${action === 'enable' ? 'Enable' : 'Disable'} maintenance mode on ${input.environment}`,
      staticDetails: `Requested by ${parsed.data.requestedBy}${parsed.data.reason ? `: ${parsed.data.reason}` : ''}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new OperatorError(
        `An operation is already running on ${input.environment} (workflow ${workflowId}). ` +
          `Follow it with \`maint status ${input.environment}\`.`,
        ExitCode.Conflict,
      );
    }
    throw err;
  }
}

/** The newest operation of an environment, whatever its workflow ID (found by search attribute). */
export async function latestOperation(
  client: Client,
  environment: string,
): Promise<WorkflowExecutionInfo | undefined> {
  let newest: WorkflowExecutionInfo | undefined;
  const query = `${searchAttributes.environment.name} = '${environment}'`;
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    if (!newest || wf.startTime > newest.startTime) newest = wf;
  }
  return newest;
}

export interface EnvironmentStatus {
  environment: string;
  state: EnvironmentState;
  operation?: {
    workflowId: string;
    runId: string;
    workflowType: string;
    execution: string;
    status?: OperationStatus;
    error?: string;
  };
}

export async function environmentStatus(client: Client, environment: string): Promise<EnvironmentStatus> {
  const info = await latestOperation(client, environment);
  if (!info) return { environment, state: 'Deployed' };
  const state =
    (info.typedSearchAttributes.get(searchAttributes.state) as EnvironmentState | undefined) ?? 'Deployed';
  const handle = client.workflow.getHandle(info.workflowId, info.runId);
  const operation: EnvironmentStatus['operation'] = {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.type,
    execution: info.status.name,
  };
  try {
    operation.status = await handle.query(statusQuery);
  } catch (err) {
    operation.error = `status query not answered: ${(err as Error).message}`;
  }
  return { environment, state: operation.status?.state ?? state, operation };
}

/** Polls the status query until the workflow ends, calling `onStatus` when it changes. */
export async function waitForResult(
  handle: WorkflowHandle,
  onStatus: (s: OperationStatus) => void,
  pollMs = 250,
): Promise<ServicingResult> {
  let last = '';
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  const poll = async () => {
    while (!done) {
      try {
        const s = await handle.query(statusQuery);
        const key = JSON.stringify(s.steps) + s.state;
        if (key !== last) {
          last = key;
          onStatus(s);
        }
      } catch {
        // Not answerable yet (first workflow task still running): try again.
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  const [value] = await Promise.all([result, poll()]);
  return value as ServicingResult;
}

export function failureMessage(err: unknown): string | undefined {
  if (err instanceof WorkflowFailedError) return err.cause?.message ?? err.message;
  return undefined;
}
