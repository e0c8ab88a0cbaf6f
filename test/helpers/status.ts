import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery, type OperationStatus } from '../../contract/operation';
import { until, type Patience } from './until';

/**
 * Polls an operation's status query in real time (time skipping stays locked while we only query,
 * and the fleet's processes do not skip time) until `done`.
 */
export function waitForStatus(
  handle: WorkflowHandle,
  done: (s: OperationStatus) => boolean,
  patience?: Patience,
): Promise<OperationStatus> {
  return until(
    () => handle.query(statusQuery),
    done,
    () => `a status of ${handle.workflowId} that fits`,
    patience,
  );
}

/** Until the workflow has closed, however it ended (polled: awaiting its result lets time skip). */
export const waitForClose = (handle: WorkflowHandle) =>
  until(
    () => handle.describe(),
    (d) => d.status.name !== 'RUNNING',
    `${handle.workflowId} to close`,
  );

/** Until the operation has failed and waits for a decision. */
export const waitForDecision = (handle: WorkflowHandle) => waitForStatus(handle, (s) => s.awaitingDecision);
