import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { OperationRef } from '../contract/environment';
import { isEnvironmentState, statusQuery, type EnvironmentState } from '../contract/operation';
import { promptQuery } from '../client/operations';
import { classify } from './errors';

/**
 * Whether a lock holder still runs: its workflow's newest run is open and of the same lineage (a Reset
 * from the Web UI makes a new run of the same operation); `runId` is that newest run.
 */
export async function holderStatus(
  client: Client,
  holder: OperationRef,
): Promise<{ alive: boolean; status: string; runId?: string }> {
  try {
    const latest = await client.workflow.getHandle(holder.workflowId).describe();
    const sameOperation =
      latest.runId === holder.runId || latest.raw.workflowExecutionInfo?.firstRunId === holder.lineage;
    if (sameOperation)
      return { alive: latest.status.name === 'RUNNING', status: latest.status.name, runId: latest.runId };
    const own = await client.workflow.getHandle(holder.workflowId, holder.runId).describe();
    return { alive: own.status.name === 'RUNNING', status: own.status.name, runId: own.runId };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { alive: false, status: 'NOT_FOUND' };
    throw classify(err, `describe ${holder.workflowId}`);
  }
}

/**
 * The state a running holder reports itself, for an entity recreated from a run that may have closed
 * before the holder's last state signal reached it (an operator terminated it meanwhile). Undefined
 * when the holder has ended, cannot answer, or is in a state the entity does not keep.
 */
export async function holderState(
  client: Client,
  holder: OperationRef,
): Promise<EnvironmentState | undefined> {
  const { alive, runId } = await holderStatus(client, holder);
  if (!alive) return undefined;
  const status = await promptQuery(client.workflow.getHandle(holder.workflowId, runId), statusQuery).catch(
    () => undefined,
  );
  return status && isEnvironmentState(status.state) ? status.state : undefined;
}
