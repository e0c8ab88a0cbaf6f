import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery, type OperationStatus } from '../../contract/operation';

/** Polls an operation's status query (real time: the fleet's processes do not skip time) until `done`. */
export async function waitForStatus(
  handle: WorkflowHandle,
  done: (s: OperationStatus) => boolean,
): Promise<OperationStatus> {
  for (;;) {
    const s = await handle.query(statusQuery);
    if (done(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}
