/**
 * Change freezes (`freezes:` in temporal.yaml): named periods, one-off (start and end) or recurring
 * (an RRULE and a duration), in an IANA time zone, during which nothing may start on the environments
 * they name (by name or tag). Here: the schema, and the periods of a freeze over a span of time, as
 * the worker hands them to workflows (activities/settings.ts) and the CLI shows them.
 */
import { z } from 'zod';
import type { FreezePeriod } from '../contract/freeze';
import { tagSchema } from '../contract/rollout';
import { parseIsoDuration } from '../contract/window';
import { parseRrule, occurrenceDays, type RecurrenceRule } from './rrule';
import { DAY_MS, isTimeZone, zonedInstant } from './zoned-time';

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/;

/** A local date and time "2026-12-31T18:00" (or a date, from midnight) as wall-clock ms (UTC fields). */
export function parseLocalTime(text: string): number | undefined {
  const m = LOCAL_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map((x) => Number(x ?? 0));
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const back = new Date(wall);
  const valid = back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60;
  return valid ? wall : undefined;
}

const localTime = z.string().refine((t) => parseLocalTime(t) !== undefined, {
  message:
    'a local date and time in the freeze\'s timezone, "2026-12-31T18:00" (or a date "2026-12-31", from midnight), no offset',
});

export const freezeSchema = z
  .object({
    /** Shown in every refusal, in `maint freeze list` and the calendar. */
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]{0,62}$/,
        'a freeze name is lower-case letters, digits and dashes, e.g. month-end-close',
      ),
    reason: z.string().max(500).default(''),
    timezone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'unknown time zone: use an IANA name such as "Europe/Berlin"'),
    /** The environments it applies to, by name and/or by tag. */
    environments: z.array(z.string()).default([]),
    tags: z.array(tagSchema).default([]),
    /** A one-off freeze's first minute, or a recurring one's DTSTART (its first occurrence and time of day). */
    start: localTime,
    /** A one-off freeze: when it ends (local time). */
    end: localTime.optional(),
    /** A recurring freeze: an iCalendar RRULE such as "FREQ=MONTHLY;BYMONTHDAY=-1". */
    rrule: z.string().min(1).optional(),
    /** A recurring freeze: how long each occurrence lasts (ISO 8601, "P3D", "PT36H"), on local wall-clock time. */
    duration: z.string().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (f.environments.length === 0 && f.tags.length === 0)
      issue(
        'environments',
        'name the environments it freezes: environments: [contoso-prod] and/or tags: [production]',
      );
    if (f.rrule === undefined && f.end === undefined)
      issue('end', 'give end (a one-off freeze) or rrule and duration (a recurring one)');
    if (f.rrule !== undefined && f.end !== undefined)
      issue('end', 'a freeze is one-off (start, end) or recurring (start, rrule, duration), not both');
    if (f.end !== undefined && (parseLocalTime(f.end) ?? 0) <= (parseLocalTime(f.start) ?? 0))
      issue('end', `end ${f.end} is not after start ${f.start}`);
    if (f.rrule !== undefined) {
      if (f.duration === undefined)
        issue('duration', 'a recurring freeze needs duration, e.g. "P3D" or "PT36H"');
      try {
        parseRrule(f.rrule, () => 0);
      } catch (err) {
        issue('rrule', `${(err as Error).message} (in "${f.rrule}")`);
      }
    }
    if (f.duration !== undefined && !parseIsoDuration(f.duration))
      issue('duration', `"${f.duration}" is not an ISO 8601 duration such as "P3D", "PT36H" or "P1DT12H"`);
    if (f.duration !== undefined && f.rrule === undefined)
      issue('duration', 'duration goes with rrule; a one-off freeze gives end');
  });
export type FreezeConfig = z.infer<typeof freezeSchema>;

/** The environments a freeze applies to, given each environment's tags. */
export function frozenEnvironments(
  f: FreezeConfig,
  environments: Record<string, { tags?: string[] }>,
): string[] {
  return Object.entries(environments)
    .filter(([name, e]) => f.environments.includes(name) || (e.tags ?? []).some((t) => f.tags.includes(t)))
    .map(([name]) => name);
}

/**
 * A duration as RFC 5545 adds it: weeks and days on the local calendar (a day is 23 or 25 hours across
 * DST), then hours, minutes and seconds exactly.
 */
function durationParts(text: string): { days: number; exactMs: number } {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(T.*)?$/.exec(text);
  const days = Number(m?.[1] ?? 0) * 7 + Number(m?.[2] ?? 0);
  return { days, exactMs: m?.[3] ? parseIsoDuration(`P${m[3]}`)! : 0 };
}

/** The rule of a recurring freeze, parsed (its UNTIL date read in the freeze's zone). */
function ruleOf(f: FreezeConfig): RecurrenceRule {
  return parseRrule(f.rrule!, (day) => zonedInstant(f.timezone, (day + 1) * DAY_MS) - 1);
}

/**
 * The periods of a freeze that overlap [from, to), in order, as instants. A recurring freeze's
 * occurrence starts at DTSTART's local time on each day the rule selects and lasts `duration` as
 * RFC 5545 counts it: days on the local calendar (a P1D freeze from 18:00 ends at 18:00 the next day,
 * across a DST change too), hours exactly.
 */
export function freezePeriods(f: FreezeConfig, from: number, to: number): FreezePeriod[] {
  const start = parseLocalTime(f.start)!;
  const period = (startMs: number, endMs: number): FreezePeriod => ({
    freeze: f.name,
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    ...(f.reason && { reason: f.reason }),
  });
  const overlaps = (p: FreezePeriod) => Date.parse(p.start) < to && Date.parse(p.end) > from;
  const at = (wall: number) => zonedInstant(f.timezone, wall);
  if (f.rrule === undefined) return [period(at(start), at(parseLocalTime(f.end!)!))].filter(overlaps);
  const rule = ruleOf(f);
  const { days: lengthDays, exactMs } = durationParts(f.duration!);
  const timeOfDay = start % DAY_MS;
  const startDay = Math.floor(start / DAY_MS);
  const startsBy = (day: number) => zonedInstant(f.timezone, day * DAY_MS + timeOfDay);
  const days = occurrenceDays(rule, startDay, (day) => startsBy(day) < to);
  return days
    .filter((day) => rule.until === undefined || startsBy(day) <= rule.until)
    .map((day) => {
      const wall = day * DAY_MS + timeOfDay;
      return period(at(wall), at(wall + lengthDays * DAY_MS) + exactMs);
    })
    .filter(overlaps);
}

/** Every period of the freezes that apply to `environment` overlapping [from, to), in start order. */
export function environmentFreezePeriods(
  freezes: FreezeConfig[],
  environments: Record<string, { tags?: string[] }>,
  environment: string,
  from: number,
  to: number,
): FreezePeriod[] {
  return freezes
    .filter((f) => frozenEnvironments(f, environments).includes(environment))
    .flatMap((f) => freezePeriods(f, from, to))
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.freeze.localeCompare(b.freeze));
}
