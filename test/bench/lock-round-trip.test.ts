import Long from 'long';
import { msToTs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { activityRoundTripMs, lockRoundTrips } from '../../bench/lock-round-trip';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A history from [ms, attributes] pairs, numbered from 1. */
const history = (...events: [number, Partial<HistoryEvent>][]): HistoryEvent[] =>
  events.map(
    ([ms, e], i) => ({ eventId: Long.fromNumber(i + 1), eventTime: msToTs(ms), ...e }) as HistoryEvent,
  );

const scheduled = (name: string) => ({ activityTaskScheduledEventAttributes: { activityType: { name } } });
const completed = (scheduledEventId: number) => ({
  activityTaskCompletedEventAttributes: { scheduledEventId: Long.fromNumber(scheduledEventId) },
});
const failed = (scheduledEventId: number) => ({
  activityTaskFailedEventAttributes: { scheduledEventId: Long.fromNumber(scheduledEventId) },
});
const taskStarted = { workflowTaskStartedEventAttributes: {} };

describe('the lock round trip of an operation, from its history', () => {
  it('runs from the activity scheduled to the workflow task that saw it complete, for the take and the release', () => {
    const events = history(
      [1000, taskStarted], // 1: the first task: its own work is not the lock's
      [1030, scheduled('acquireLock')], // 2
      [1048, completed(2)], // 3
      [1051, taskStarted], // 4
      [1060, scheduled('setConfigurationMode')], // 5
      [1070, completed(5)], // 6
      [1072, taskStarted], // 7
      [1400, scheduled('finishOperation')], // 8
      [1415, completed(8)], // 9
      [1419, taskStarted], // 10
    );
    expect(lockRoundTrips(events)).toEqual({ take: 21, release: 19 });
  });

  it('takes the successful attempt of a retried activity, and NaN when none completed', () => {
    const events = history(
      [0, scheduled('acquireLock')], // 1
      [500, failed(1)], // 2
      [510, taskStarted], // 3
      [2000, scheduled('acquireLock')], // 4
      [2010, completed(4)], // 5
      [2013, taskStarted], // 6
    );
    expect(activityRoundTripMs(events, 'acquireLock')).toBe(13);
    expect(activityRoundTripMs(events, 'finishOperation')).toBeNaN();
  });
});
