/**
 * Wall-clock time in an IANA zone, for what temporal.yaml declares in local time (schedules,
 * freezes): pure functions over Intl, so the CLI and the worker read a declaration the same way.
 */

export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Wall-clock fields of an instant in a zone, as if they were UTC (so differences are offsets). */
export function wallClock(zone: string, ms: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/**
 * The instant a wall-clock time (given as UTC fields) names in a zone. Across a DST change: a time
 * that occurs twice is its first occurrence; one that does not exist (the spring gap) is read with
 * the offset before the change, so 02:30 becomes 03:30 summer time.
 */
export function zonedInstant(zone: string, wall: number): number {
  const offsets = [wall - DAY_MS, wall + DAY_MS].map((t) => wallClock(zone, t) - t);
  const candidates = offsets.map((o) => wall - o).filter((t) => wallClock(zone, t) === wall);
  return candidates.length > 0 ? Math.min(...candidates) : wall - offsets[0];
}

const pad = (n: number) => String(n).padStart(2, '0');
/** "2025-10-26 01:30" for a wall-clock time given as UTC fields. */
export function formatWall(wall: number): string {
  const d = new Date(wall);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Whether Intl knows the zone (an IANA name such as "Europe/Berlin"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
