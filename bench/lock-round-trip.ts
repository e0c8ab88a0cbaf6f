/**
 * How long an operation waits on its servicing lock, read from its history: for the activity that takes
 * the lock (acquireLock) and the one that releases it (finishOperation), from the moment the server
 * scheduled it until the operation's next workflow task started with its answer. The operation log's
 * attempt durations start earlier, at the start of the workflow task that asked: for the take, that is
 * the operation's first task, whose own work (starting the workflow, the settings' local activity, the
 * patch markers) is not the lock's.
 */
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The last successful run of `activityType`: scheduled until the next workflow task started, in ms. */
export function activityRoundTripMs(events: HistoryEvent[], activityType: string): number {
  const scheduled = new Map<string, HistoryEvent>();
  let found = NaN;
  events.forEach((e, i) => {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      scheduled.set(String(e.eventId), e);
    const completed = e.activityTaskCompletedEventAttributes;
    const asked = completed && scheduled.get(String(completed.scheduledEventId));
    if (!asked) return;
    const resumed = events.slice(i + 1).find((later) => later.workflowTaskStartedEventAttributes);
    if (resumed) found = tsToMs(resumed.eventTime) - tsToMs(asked.eventTime);
  });
  return found;
}

/** The lock's share of an operation: taking it and releasing it (with the history entry). */
export function lockRoundTrips(events: HistoryEvent[]): { take: number; release: number } {
  return {
    take: activityRoundTripMs(events, 'acquireLock'),
    release: activityRoundTripMs(events, 'finishOperation'),
  };
}
