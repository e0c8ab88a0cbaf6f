import type { Client } from '@temporalio/client';
import { bookingRefusal, isTimeZone } from '../contract/booking';
import { WORKFLOW_TYPES, statusQuery } from '../contract/operation';
import { zonedInstant } from './calendar';
import { ExitCode, OperatorError } from './operations';
import type { ScheduleRow } from './schedules';

/** A local time as `--at` takes it without an offset: 2026-12-31T22:00 (seconds optional). */
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const WITH_OFFSET = /(?:Z|[+-]\d{2}:\d{2})$/;

/** This machine's zone, the default of `--tz`. */
export const localTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * `--at` and `--tz` as the window's `at` (UTC): a local time read in the zone (across a DST change as
 * the calendar reads schedules), or a time with its own offset. Refuses an unknown zone, a time it
 * cannot read, or one in the past, saying how to fix it.
 */
export function bookedInstant(at: string, timezone: string, nowMs = Date.now()): string {
  if (!isTimeZone(timezone))
    throw new OperatorError(
      `--tz: unknown time zone "${timezone}": give an IANA name such as Europe/Berlin, America/New_York or UTC.`,
      ExitCode.InvalidInput,
    );
  const local = LOCAL_TIME.exec(at);
  let ms: number;
  if (local) {
    const [y, mo, d, h, mi, s] = local.slice(1).map((v) => Number(v ?? 0));
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    if (new Date(wall).getUTCDate() !== d || h > 23 || mi > 59)
      throw new OperatorError(`--at: "${at}" is not a date and time that exists.`, ExitCode.InvalidInput);
    ms = zonedInstant(timezone, wall);
  } else if (WITH_OFFSET.test(at) && !Number.isNaN(Date.parse(at))) ms = Date.parse(at);
  else
    throw new OperatorError(
      `--at: "${at}" is not a time: give it as 2026-12-31T22:00 (local time in --tz) or with an offset, 2026-12-31T22:00+01:00.`,
      ExitCode.InvalidInput,
    );
  const iso = new Date(ms).toISOString();
  const past = bookingRefusal(iso, nowMs);
  if (past) throw new OperatorError(`--${past}.`, ExitCode.InvalidInput);
  return iso;
}

/** A window booked ahead that still waits for its time, as `schedule list` and the calendar show it. */
export interface BookedWindow {
  workflowId: string;
  environment: string;
  start: Date;
  end: Date;
  timezone?: string;
  state: string;
  requestedBy: string;
  reason: string;
  changes: { enable: string[]; disable: string[] };
}

/** A booked window as a row of `schedule list`: a one-off run of its own. */
export function bookedRow(b: BookedWindow): ScheduleRow {
  return {
    id: b.workflowId,
    environment: b.environment,
    managed: true,
    paused: false,
    nextRuns: [b.start.toISOString()],
    recentRuns: [],
    booked: {
      state: b.state,
      ...(b.timezone && { timezone: b.timezone }),
      endsAt: b.end.toISOString(),
      requestedBy: b.requestedBy,
    },
  };
}

/**
 * The windows booked ahead: the running maintenance windows whose status says they still wait for
 * their time (asked of each; a worker must be running to answer).
 */
export async function listBookings(client: Client): Promise<BookedWindow[]> {
  const rows: BookedWindow[] = [];
  const query = `WorkflowType = '${WORKFLOW_TYPES.window}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) {
    const s = await client.workflow
      .getHandle(wf.workflowId, wf.runId)
      .query(statusQuery)
      .catch(() => undefined);
    const b = s?.booking;
    if (!s || !b?.waiting) continue;
    rows.push({
      workflowId: wf.workflowId,
      environment: s.environment,
      start: new Date(b.startsAt),
      end: new Date(b.endsAt ?? b.startsAt),
      ...(b.timezone && { timezone: b.timezone }),
      state: s.state,
      requestedBy: s.requestedBy,
      reason: s.reason,
      changes: b.changes ?? { enable: [], disable: [] },
    });
  }
  return rows.sort((a, b) => a.start.getTime() - b.start.getTime());
}
