import ical, { ICalEventStatus } from 'ical-generator';
import { cronValues } from '../config/cron';
import type { LoadedConfig } from '../config/load';
import { DAYS, MONTHS, type ScheduleConfig } from '../config/schema';
import { durationSchema, formatDuration } from '../contract/window';
import { scheduleIdOnServer } from '../config/schema';
import type { BookedWindow } from './bookings';
import { describeTargets } from './schedules';
import { freezePeriods, frozenEnvironments } from '../config/freezes';
import type { FreezePeriod } from '../contract/freeze';
import { DAY_MS, formatWall, wallClock, zonedInstant } from '../config/zoned-time';

/** Re-exported where callers found it before the zone helpers moved to config/zoned-time.ts. */
export { zonedInstant };

/**
 * The upcoming windows of the declared schedules, computed from their specs in temporal.yaml the way
 * the Temporal server reads them (day of month AND day of week; 7 is Sunday), in each schedule's time
 * zone, so a subscriber sees every window of the horizon, not only the server's next few.
 */

export interface UpcomingWindow {
  /** The schedule's id on the server (with the installation prefix, as `schedule list` shows it). */
  scheduleId: string;
  /** What the run services: an environment, or a rollout and its environments. */
  targets: string;
  /** A rollout's limit, e.g. "25%": its windows may start one after another, past `end`. */
  maxConcurrency?: string;
  start: Date;
  end: Date;
  /** The start as wall-clock time in the schedule's zone, e.g. "2025-10-26 01:30". */
  localStart: string;
  timezone: string;
  paused: boolean;
  reason: string;
  changes: { enable: string[]; disable: string[] };
  /** A window booked ahead (`maint window --at`): `scheduleId` is its workflow ID. */
  booked?: boolean;
}

/** Minute, hour, day of month, month (1-12), day of week (0-6) a schedule matches. */
function matchSets(s: ScheduleConfig): Set<number>[] {
  if (s.cron) return cronValues(s.cron);
  const c = s.calendar ?? {};
  const list = <T>(v: T | T[] | undefined, all: readonly T[]): readonly T[] =>
    v === undefined ? all : Array.isArray(v) ? v : [v];
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  return [
    new Set(list(c.minute, [0])),
    new Set(list(c.hour, [0])),
    new Set(list(c.dayOfMonth, range(1, 31))),
    new Set(list(c.month, MONTHS).map((m) => (typeof m === 'number' ? m : MONTHS.indexOf(m) + 1))),
    new Set(list(c.dayOfWeek, DAYS).map((d) => (typeof d === 'number' ? d : DAYS.indexOf(d)))),
  ];
}

/** The windows booked ahead that start in [from, from + days), as calendar events. */
export function bookedWindows(
  booked: BookedWindow[],
  { from = new Date(), days = 30 }: { from?: Date; days?: number } = {},
): UpcomingWindow[] {
  const end = from.getTime() + days * DAY_MS;
  return booked
    .filter((b) => b.start.getTime() >= from.getTime() && b.start.getTime() < end)
    .map((b) => {
      const timezone = b.timezone ?? 'UTC';
      return {
        scheduleId: b.workflowId,
        targets: b.environment,
        start: b.start,
        end: b.end,
        localStart: formatWall(wallClock(timezone, b.start.getTime())),
        timezone,
        paused: false,
        reason: b.reason,
        changes: b.changes,
        booked: true,
      };
    });
}

/** Every window that starts in [from, from + days), across all declared schedules, in start order. */
export function upcomingWindows(
  config: LoadedConfig,
  {
    from = new Date(),
    days = 30,
    includePaused = false,
  }: { from?: Date; days?: number; includePaused?: boolean } = {},
): UpcomingWindow[] {
  const start = from.getTime();
  const end = start + days * DAY_MS;
  const windows: UpcomingWindow[] = [];
  for (const s of config.schedules) {
    if (s.paused && !includePaused) continue;
    const [minutes, hours, daysOfMonth, months, daysOfWeek] = matchSets(s).map((set) =>
      [...set].sort((a, b) => a - b),
    );
    const length = durationSchema.parse(s.duration);
    // What every window of this schedule shares.
    const common = {
      scheduleId: scheduleIdOnServer(config.installation, s.id),
      targets: describeTargets(config, s),
      ...(s.rollout && { maxConcurrency: String(s.rollout.maxConcurrency) }),
      timezone: s.timezone,
      paused: s.paused,
      reason: s.reason,
      changes: { enable: s.changes.enable, disable: s.changes.disable },
    };
    const seen = new Set<number>();
    // Local calendar days from the day before `from` (in the zone) to the day after the horizon.
    const firstDay = Math.floor(wallClock(s.timezone, start) / DAY_MS) - 1;
    for (let day = firstDay; day <= firstDay + days + 2; day++) {
      const date = new Date(day * DAY_MS);
      if (!daysOfMonth.includes(date.getUTCDate()) || !months.includes(date.getUTCMonth() + 1)) continue;
      if (!daysOfWeek.includes(date.getUTCDay())) continue;
      for (const h of hours)
        for (const m of minutes) {
          const wall = day * DAY_MS + (h * 60 + m) * 60_000;
          const at = zonedInstant(s.timezone, wall);
          if (at < start || at >= end || seen.has(at)) continue;
          seen.add(at);
          windows.push({
            ...common,
            start: new Date(at),
            end: new Date(at + length),
            localStart: formatWall(wallClock(s.timezone, at)),
          });
        }
    }
  }
  return windows.sort(
    (a, b) => a.start.getTime() - b.start.getTime() || a.scheduleId.localeCompare(b.scheduleId),
  );
}

/**
 * The windows as an iCalendar feed. Times are UTC (no VTIMEZONE needed, so every client reads them
 * the same); the description gives the local time in the schedule's zone. UIDs are stable per
 * schedule and start, so a re-exported feed updates events instead of duplicating them.
 */
export function maintenanceCalendar(
  config: LoadedConfig,
  windows: UpcomingWindow[],
  freezes: UpcomingFreeze[] = [],
): string {
  const calendar = ical({
    name: `Maintenance windows (${config.installation})`,
    prodId: { company: 'maintenance-orchestrator', product: 'maint', language: 'EN' },
  });
  for (const w of windows) {
    const keys = [
      w.changes.enable.length > 0 ? `turns on ${w.changes.enable.join(', ')}` : '',
      w.changes.disable.length > 0 ? `turns off ${w.changes.disable.join(', ')}` : '',
    ].filter(Boolean);
    calendar.createEvent({
      id: `${w.scheduleId}-${w.start.toISOString().replace(/[-:.]/g, '')}@maintenance-orchestrator`,
      start: w.start,
      end: w.end,
      stamp: w.start,
      summary: `Maintenance window: ${w.targets}${w.paused ? ' (schedule paused)' : ''}`,
      status: w.paused ? ICalEventStatus.TENTATIVE : ICalEventStatus.CONFIRMED,
      description: [
        w.reason || 'Scheduled maintenance window',
        `Configuration keys: ${keys.length > 0 ? keys.join('; ') : 'no changes'}`,
        `Starts ${w.localStart} ${w.timezone}, for ${formatDuration(w.end.getTime() - w.start.getTime())}. ` +
          `Only System administrators and Maintenance mode users can sign in meanwhile.`,
        ...(w.maxConcurrency
          ? [
              `A rollout: at most ${w.maxConcurrency} of its environments at once, each window for that long, so the last may end later.`,
            ]
          : []),
        w.booked ? `Booked ahead: ${w.scheduleId}` : `Schedule ${w.scheduleId}`,
      ].join('\n'),
    });
  }
  for (const f of freezes) addFreezeEvent(calendar, f);
  return calendar.toString();
}

/** One period of a change freeze, with the environments it freezes. */
export interface UpcomingFreeze extends FreezePeriod {
  environments: string[];
  timezone: string;
}

/** The periods of every declared freeze that overlap [from, from + days), in start order. */
export function upcomingFreezes(
  config: LoadedConfig,
  { from = new Date(), days = 30 }: { from?: Date; days?: number } = {},
): UpcomingFreeze[] {
  const start = from.getTime();
  return config.freezes
    .flatMap((f) =>
      freezePeriods(f, start, start + days * DAY_MS).map((p) => ({
        ...p,
        environments: frozenEnvironments(f, config.environments),
        timezone: f.timezone,
      })),
    )
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.freeze.localeCompare(b.freeze));
}

/** A freeze period as an event: busy time for the environments it names, a UID stable per freeze and start. */
function addFreezeEvent(calendar: ReturnType<typeof ical>, f: UpcomingFreeze): void {
  const start = new Date(f.start);
  const localStart = formatWall(wallClock(f.timezone, start.getTime()));
  calendar.createEvent({
    id: `freeze-${f.freeze}-${f.start.replace(/[-:.]/g, '')}@maintenance-orchestrator`,
    start,
    end: new Date(f.end),
    stamp: start,
    summary: `Change freeze: ${f.freeze} (${f.environments.join(', ')})`,
    status: ICalEventStatus.CONFIRMED,
    description: [
      f.reason || 'Change freeze',
      `No maintenance operation, window, rollout or schedule run starts on ${f.environments.join(', ')} meanwhile; ` +
        'a window already open is not cut, but is not extended into the freeze.',
      `Starts ${localStart} ${f.timezone}, for ${formatDuration(Date.parse(f.end) - start.getTime())}.`,
      `Freeze ${f.freeze}`,
    ].join('\n'),
  });
}
