import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** With RECORD_HISTORY_DIR set, saves a replay fixture (test/replay/histories/<commit>/). */
export function recordHistory(file: string, workflowId: string, history: HistoryEvent[]): void {
  const dir = process.env.RECORD_HISTORY_DIR;
  if (!dir) return;
  // The time-skipping server leaves out the workflow ID, which replay needs.
  const json = JSON.parse(historyToJSON({ events: history }));
  json.events[0].workflowExecutionStartedEventAttributes.workflowId = workflowId;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, file), JSON.stringify(json, null, 2));
}
