/**
 * What the server did during a benchmark phase, counted from the histories of every workflow run that
 * was open then (the operations, the environment entities they talk to, the floor's workflows):
 * events, workflow and activity tasks, local activities, updates, signals, markers and search-attribute
 * upserts recorded between the phase's start and end, divided by the phase's operations.
 */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The SDK's marker name for a local activity's result (the other markers are patches and versions). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface ServerWork {
  events: number;
  workflowTasks: number;
  activityTasks: number;
  localActivities: number;
  updates: number;
  signals: number;
  markers: number;
  searchAttributeUpserts: number;
}

const EMPTY: ServerWork = {
  events: 0,
  workflowTasks: 0,
  activityTasks: 0,
  localActivities: 0,
  updates: 0,
  signals: 0,
  markers: 0,
  searchAttributeUpserts: 0,
};

/** One event's share of the work; a workflow task counts once, when it completes. */
export function workOf(e: HistoryEvent): ServerWork {
  return {
    events: 1,
    workflowTasks: e.workflowTaskCompletedEventAttributes ? 1 : 0,
    activityTasks: e.activityTaskScheduledEventAttributes ? 1 : 0,
    localActivities: e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER ? 1 : 0,
    updates: e.workflowExecutionUpdateAcceptedEventAttributes ? 1 : 0,
    signals: e.workflowExecutionSignaledEventAttributes ? 1 : 0,
    markers: e.markerRecordedEventAttributes ? 1 : 0,
    searchAttributeUpserts: e.upsertWorkflowSearchAttributesEventAttributes ? 1 : 0,
  };
}

export function addWork(a: ServerWork, b: ServerWork): ServerWork {
  return Object.fromEntries(
    Object.entries(a).map(([k, v]) => [k, v + b[k as keyof ServerWork]]),
  ) as unknown as ServerWork;
}

/** Each count divided by `operations`, to two decimals. */
export function perOperation(total: ServerWork, operations: number): ServerWork {
  return Object.fromEntries(
    Object.entries(total).map(([k, v]) => [k, Number((v / operations).toFixed(2))]),
  ) as unknown as ServerWork;
}

/** The work recorded in `events` between `fromMs` and `toMs` (epoch ms). */
export function workBetween(events: HistoryEvent[], fromMs: number, toMs: number): ServerWork {
  return events
    .filter((e) => {
      const at = tsToMs(e.eventTime);
      return at >= fromMs && at <= toMs;
    })
    .reduce((sum, e) => addWork(sum, workOf(e)), EMPTY);
}

/**
 * The work of every run open at some time between `fromMs` and `toMs`, in total. Fetched after the
 * phase, so that the fetching does not count in what the phase measured.
 */
export async function serverWorkBetween(client: Client, fromMs: number, toMs: number): Promise<ServerWork> {
  const since = new Date(fromMs).toISOString();
  let total = EMPTY;
  for await (const run of client.workflow.list({
    query: `ExecutionStatus = "Running" OR CloseTime >= "${since}"`,
  })) {
    const { events } = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    total = addWork(total, workBetween(events ?? [], fromMs, toMs));
  }
  return total;
}
