import { log } from '@temporalio/activity';
import {
  QueryNotRegisteredError,
  QueryRejectedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import {
  environmentQuery,
  environmentWorkflowId,
  historyQuery,
  type EnvironmentRecord,
  type EnvironmentView,
  type HistoryEntry,
  type LockHolder,
} from '../contract/environment';
import {
  WORKFLOW_TYPES,
  isEnvironmentState,
  searchAttributes,
  type OperationKind,
  type OperationState,
} from '../contract/operation';
import { classify } from './errors';
import { holderState } from './holder';

export interface RecoverEnvironmentInput {
  environment: string;
  /** The entity's own (new) run. */
  runId: string;
  /** The closed run it replaces, when the client that recreated it knew it. */
  previousRunId?: string;
  /** How many history entries to take over (history.keep). */
  keep: number;
}

/** What a recreated entity takes over, and a sentence that says where it came from. */
export type RecoveredRecord = Omit<EnvironmentRecord, 'environment'> & { note: string };

const GRPC_UNIMPLEMENTED = 12;

/** The time-skipping test server has no visibility (list) queries; real servers have. */
function isUnimplemented(err: unknown): boolean {
  const codes = [err, (err as { cause?: unknown })?.cause].map((e) => (e as { code?: unknown })?.code);
  return codes.includes(GRPC_UNIMPLEMENTED);
}

/**
 * How a recreated environment entity learns what its previous run held. The previous run (named by
 * the client that found it closed, else found by visibility) is asked by query: its lock, sharers,
 * queue, state and history, exactly as it had them when it closed; the state is the holder's own
 * when it still runs, since its last state signal may have missed the closed run. The entity's own
 * liveness checks then release a holder that has closed meanwhile (leaving the environment Failed).
 * When no previous run can be read, the operations still running on the environment (visibility)
 * say who holds it. A new environment (no previous run) starts empty, as before.
 */
export function createRecoveryActivities({
  client,
  searchAttributes: visibility,
}: {
  client: Client;
  searchAttributes: boolean;
}) {
  return {
    async recoverEnvironment(input: RecoverEnvironmentInput): Promise<RecoveredRecord | null> {
      const entityId = environmentWorkflowId(input.environment);
      try {
        const previousRunId = input.previousRunId ?? (await previousRun(client, entityId, input.runId));
        if (!previousRunId) return null; // a new environment: nothing to recover
        const previous = await readRun(client, entityId, previousRunId, input.keep);
        if (previous) return previous;
        const open = visibility ? await openOperations(client, input.environment) : [];
        return fromOpenOperations(open, previousRunId);
      } catch (err) {
        throw classify(err, `recover the environment entity of ${input.environment}`);
      }
    },
  };
}

/** The newest other run of the entity's workflow ID, by visibility; none where there is no visibility. */
async function previousRun(client: Client, entityId: string, ownRunId: string): Promise<string | undefined> {
  let newest: WorkflowExecutionInfo | undefined;
  try {
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${entityId}'`, pageSize: 50 })) {
      if (wf.runId !== ownRunId && (!newest || wf.startTime > newest.startTime)) newest = wf;
    }
  } catch (err) {
    if (!isUnimplemented(err)) throw err;
    log.warn('No visibility on this server: the previous run of the entity cannot be looked up', {
      entityId,
    });
    return undefined;
  }
  return newest?.runId;
}

/** The previous run's record through its queries (a worker replays it); undefined when it cannot be read. */
async function readRun(
  client: Client,
  entityId: string,
  runId: string,
  keep: number,
): Promise<RecoveredRecord | undefined> {
  const handle = client.workflow.getHandle(entityId, runId);
  let view: EnvironmentView;
  try {
    view = await handle.query(environmentQuery);
  } catch (err) {
    if (
      err instanceof WorkflowNotFoundError ||
      err instanceof QueryNotRegisteredError ||
      err instanceof QueryRejectedError
    ) {
      log.warn('The previous run of the entity cannot be read', { entityId, runId, error: err.message });
      return undefined;
    }
    throw err;
  }
  // A record too large to answer in one query (older releases did not bound it in bytes): the latest.
  const newestFirst: HistoryEntry[] = await handle
    .query(historyQuery, { limit: keep })
    .catch(() => view.recent);
  const active = view.active && view.holder && view.active.workflowId !== view.holder.workflowId;
  const state = (view.holder && (await holderState(client, view.holder))) ?? view.state;
  const stateSaid = state === view.state ? state : `${state} (its holder's own; the run said ${view.state})`;
  return {
    state,
    holder: view.holder,
    sharers: active ? [view.active!] : [],
    queue: view.queue,
    history: [...newestFirst].reverse(),
    dropped: Math.max(0, view.historyLength - newestFirst.length),
    note:
      `recovered from run ${runId}: ${stateSaid}, ` +
      `${view.holder ? `held by ${view.holder.workflowId}` : 'free'}, ${view.queue.length} waiting`,
  };
}

/** Operations running on the environment (not the entity, not rollouts), by visibility. */
async function openOperations(client: Client, environment: string): Promise<WorkflowExecutionInfo[]> {
  const types = Object.values(WORKFLOW_TYPES)
    .map((t) => `'${t}'`)
    .join(', ');
  const query =
    `${searchAttributes.environment.name} = '${environment}' AND ExecutionStatus = 'Running' ` +
    `AND WorkflowType IN (${types})`;
  const found: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) found.push(wf);
  return found;
}

/**
 * Without a readable previous run, the oldest running operation that is past approval holds the lock
 * (a window for its children): refusing a second operation is safe, granting one is not. The state is
 * that operation's, else Failed: nobody knows what the environment is in.
 */
function fromOpenOperations(open: WorkflowExecutionInfo[], previousRunId: string): RecoveredRecord {
  const state = (wf: WorkflowExecutionInfo) =>
    wf.typedSearchAttributes.get(searchAttributes.state) as OperationState | undefined;
  const ids = new Set(open.map((wf) => wf.workflowId));
  const candidates = open
    .filter((wf) => state(wf) !== 'AwaitingApproval' && state(wf) !== 'Rejected')
    .filter((wf) => !wf.parentExecution?.workflowId || !ids.has(wf.parentExecution.workflowId))
    .sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const first = candidates[0];
  const holder: LockHolder | undefined = first && {
    workflowId: first.workflowId,
    runId: first.runId,
    lineage: first.raw.firstRunId ?? first.runId,
    action: (first.typedSearchAttributes.get(searchAttributes.action) as OperationKind) ?? 'enable',
    requestedBy: 'unknown (recovered from the running operations)',
    since: first.startTime.toISOString(),
  };
  const held = first && state(first);
  return {
    state: held && isEnvironmentState(held) ? held : 'Failed',
    holder,
    sharers: [],
    queue: [],
    history: [],
    dropped: 0,
    note: `the previous run ${previousRunId} could not be read; recovered from ${open.length} running operations`,
  };
}
