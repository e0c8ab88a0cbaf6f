import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { EnvironmentEntities } from '../client/environment-entity';
import { formatHolder } from '../client/format';
import {
  acquireLockUpdate,
  fitEntry,
  leaveQueueUpdate,
  recordEntryUpdate,
  releaseLockUpdate,
  type HistoryEntry,
  type OperationRef,
} from '../contract/environment';
import { ErrorType } from '../contract/errors';
import type { EnvironmentState, OperationKind, Result } from '../contract/operation';
import { classify } from './errors';
import { heartbeating } from './guards';
import { holderStatus } from './holder';
import { createRecoveryActivities } from './recovery';

export interface LockDeps {
  entities: EnvironmentEntities;
  client: Client;
  /** Whether the custom search attributes are registered (visibility queries by environment). */
  searchAttributes: boolean;
  /** Throws UnknownEnvironment for an environment temporal.yaml does not declare. */
  requireEnvironment(environment: string): void;
}

export interface AcquireLockInput {
  environment: string;
  action: OperationKind;
  requestedBy: string;
  parent?: { workflowId: string; runId: string };
  /** The run's first execution run ID; absent from operations of the first release. */
  lineage?: string;
  state?: EnvironmentState;
  wait?: boolean;
}

/** The first release sends the history entry alone; later ones add the lineage and the final state. */
export type FinishInput = HistoryEntry & { action: OperationKind; result: Result } & {
  lineage?: string;
  state?: EnvironmentState;
};

/** The first release's operations did not say where they left the environment: inferred from the result. */
function stateAfter({ action, result }: FinishInput): EnvironmentState {
  if (result === 'Succeeded') return action === 'enable' ? 'InMaintenance' : 'Deployed';
  if (result === 'RolledBack') return action === 'disable' ? 'InMaintenance' : 'Deployed';
  return 'Failed';
}

/**
 * Runs an entity call, heartbeating while the entity holds it (when the workflow gave a heartbeat
 * timeout); a refused update (bad input) is not retried, anything else is.
 */
async function atEntity<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await heartbeating(call);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw ApplicationFailure.nonRetryable(
        `${what}: ${err.cause?.message ?? err.message}`,
        ErrorType.InvalidInput,
      );
    }
    throw classify(err, what);
  }
}

/** The servicing lock and the history entry, kept by the environment's entity workflow. */
export function createLockActivities(deps: LockDeps) {
  const { entities, client, requireEnvironment } = deps;
  return {
    ...createRecoveryActivities(deps),
    /**
     * Takes the environment's servicing lock for this run. A lock held by a run that has closed
     * is taken over; one held by a running operation refuses at once, or queues the caller (`wait`).
     */
    async acquireLock(input: AcquireLockInput) {
      requireEnvironment(input.environment);
      const { workflowId, runId } = Context.current().info.workflowExecution!;
      const answer = await atEntity('take the servicing lock', () =>
        entities.update(input.environment, acquireLockUpdate, {
          workflowId,
          runId,
          lineage: input.lineage ?? runId,
          action: input.action,
          requestedBy: input.requestedBy,
          since: new Date().toISOString(),
          parent: input.parent,
          state: input.state,
          wait: input.wait,
        }),
      );
      if (answer.acquired) return { takenOverFrom: answer.takenOverFrom ?? null };
      if (answer.position !== undefined) {
        return { takenOverFrom: null, queued: answer.position, holder: answer.holder };
      }
      throw ApplicationFailure.nonRetryable(
        `${input.environment} is being serviced by ${formatHolder(answer.holder)}. ` +
          'Wait for it to finish, or decide on it if it has failed.',
        ErrorType.EnvironmentBusy,
      );
    },

    /** A queued operation gives up waiting; says whether the lock was granted to it meanwhile. */
    async leaveQueue({ environment, ...ref }: OperationRef & { environment: string }) {
      return atEntity('leave the queue', () => entities.update(environment, leaveQueueUpdate, ref));
    },

    /** Records the operation in the environment history and releases its lock: once per run, even if retried. */
    async finishOperation(entry: FinishInput): Promise<{ inserted: boolean }> {
      const { inserted } = await atEntity('record history', () =>
        entities.update(entry.environment, releaseLockUpdate, {
          ...fitEntry(entry),
          lineage: entry.lineage ?? entry.runId,
          state: entry.state ?? stateAfter(entry),
        }),
      );
      return { inserted };
    },

    /** The history entry of an operation that never held the lock (rejected): the lock and state are left alone. */
    async recordOperation(entry: HistoryEntry): Promise<{ inserted: boolean }> {
      return atEntity('record history', () =>
        entities.update(entry.environment, recordEntryUpdate, fitEntry(entry)),
      );
    },

    /** Whether a lock holder still runs (see holderStatus). */
    async checkHolder(holder: OperationRef): Promise<{ alive: boolean; status: string; runId?: string }> {
      return holderStatus(client, holder);
    },
  };
}
