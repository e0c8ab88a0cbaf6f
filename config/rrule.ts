/**
 * The part of iCalendar's RRULE (RFC 5545) that change freezes need, evaluated on local calendar
 * days: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY (negative
 * counts from the month's end), BYDAY (with an ordinal in MONTHLY and in YEARLY with BYMONTH: -1FR is
 * the last Friday) and BYSETPOS (MONTHLY, YEARLY: BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1 is the last working
 * day). Each occurrence starts at DTSTART's local time. Anything else is refused with what to write.
 */
import { DAY_MS } from './zoned-time';

const FREQUENCIES = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const SUPPORTED = [
  'FREQ',
  'INTERVAL',
  'COUNT',
  'UNTIL',
  'BYMONTH',
  'BYMONTHDAY',
  'BYDAY',
  'BYSETPOS',
  'WKST',
];

export interface RecurrenceRule {
  freq: (typeof FREQUENCIES)[number];
  interval: number;
  count?: number;
  /** The last instant an occurrence may start at (UNTIL), in ms since the epoch. */
  until?: number;
  byMonth?: number[];
  byMonthDay?: number[];
  /** Weekday 0 (Sunday) to 6, and an ordinal within the month (1, 2, ..., -1) or none (every one). */
  byDay?: { weekday: number; nth?: number }[];
  bySetPos?: number[];
}

const integers = (name: string, text: string, min: number, max: number, zero = false): number[] =>
  text.split(',').map((item) => {
    const n = /^[+-]?\d+$/.test(item) ? Number(item) : NaN;
    if (Number.isNaN(n) || Math.abs(n) < min || Math.abs(n) > max || (!zero && n === 0))
      throw new Error(
        `${name}=${text}: "${item}" is not a whole number from ${min} to ${max} (or -${max} to -${min})`,
      );
    return n;
  });

/** UNTIL as an instant: 20271231T235959Z (UTC), or a date 20271231 (the end of that day in `zoneEnd`). */
function untilOf(text: string, dayEnd: (wallDay: number) => number): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(text);
  if (!m) throw new Error(`UNTIL=${text}: write a UTC time 20271231T235959Z or a date 20271231`);
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  if (m[4] !== undefined) return Date.UTC(y, mo - 1, d, h, mi, s);
  return dayEnd(Date.UTC(y, mo - 1, d) / DAY_MS);
}

/**
 * Parses an RRULE value ("FREQ=MONTHLY;BYMONTHDAY=-1"); throws an Error naming the part that is
 * wrong. `dayEnd` turns a local day into the instant it ends (for a date-only UNTIL).
 */
export function parseRrule(text: string, dayEnd: (wallDay: number) => number): RecurrenceRule {
  const parts = new Map<string, string>();
  for (const part of text.replace(/^RRULE:/i, '').split(';')) {
    const [key, value, extra] = part.split('=');
    if (!key || value === undefined || value === '' || extra !== undefined)
      throw new Error(`"${part}" is not NAME=VALUE (parts are separated by ";")`);
    const name = key.toUpperCase();
    if (!SUPPORTED.includes(name))
      throw new Error(
        `${name} is not supported; a freeze's rule may use ${SUPPORTED.join(', ')} (the time of day is the start's)`,
      );
    if (parts.has(name)) throw new Error(`${name} is given twice`);
    parts.set(name, value.toUpperCase());
  }
  const freq = parts.get('FREQ') as RecurrenceRule['freq'] | undefined;
  if (!freq || !FREQUENCIES.includes(freq))
    throw new Error(`FREQ must be one of ${FREQUENCIES.join(', ')} (got ${parts.get('FREQ') ?? 'none'})`);
  const wkst = parts.get('WKST');
  if (wkst && wkst !== 'MO') throw new Error('WKST: only MO (weeks start on Monday) is supported');
  const rule: RecurrenceRule = { freq, interval: 1 };
  const get = (name: string) => parts.get(name);
  if (get('INTERVAL')) rule.interval = integers('INTERVAL', get('INTERVAL')!, 1, 1000)[0];
  if (get('INTERVAL') && rule.interval < 1) throw new Error('INTERVAL is at least 1');
  if (get('COUNT')) {
    rule.count = integers('COUNT', get('COUNT')!, 1, 100_000)[0];
    if (rule.count < 1) throw new Error('COUNT is at least 1');
  }
  if (get('UNTIL')) rule.until = untilOf(get('UNTIL')!, dayEnd);
  if (rule.count && rule.until !== undefined) throw new Error('give COUNT or UNTIL, not both');
  if (get('BYMONTH')) {
    rule.byMonth = integers('BYMONTH', get('BYMONTH')!, 1, 12);
    if (rule.byMonth.some((m) => m < 0)) throw new Error('BYMONTH takes months 1 to 12');
  }
  if (get('BYMONTHDAY')) rule.byMonthDay = integers('BYMONTHDAY', get('BYMONTHDAY')!, 1, 31);
  if (get('BYSETPOS')) rule.bySetPos = integers('BYSETPOS', get('BYSETPOS')!, 1, 366);
  if (get('BYDAY'))
    rule.byDay = get('BYDAY')!
      .split(',')
      .map((item) => {
        const m = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/.exec(item);
        if (!m) throw new Error(`BYDAY: "${item}" is not a weekday such as MO, 2TU or -1FR`);
        const nth = m[1] === undefined ? undefined : Number(m[1]);
        if (nth !== undefined && (nth === 0 || Math.abs(nth) > 5))
          throw new Error(`BYDAY: "${item}": the ordinal is 1 to 5 or -1 to -5`);
        return { weekday: WEEKDAYS.indexOf(m[2]), nth };
      });
  const ordinals = rule.byDay?.some((d) => d.nth !== undefined);
  if (ordinals && (freq === 'DAILY' || freq === 'WEEKLY'))
    throw new Error(`BYDAY with an ordinal (such as -1FR) needs FREQ=MONTHLY or YEARLY, not ${freq}`);
  if (ordinals && freq === 'YEARLY' && !rule.byMonth)
    throw new Error(
      'BYDAY with an ordinal in FREQ=YEARLY needs BYMONTH (the ordinal counts within the month)',
    );
  if (rule.bySetPos && freq !== 'MONTHLY' && freq !== 'YEARLY')
    throw new Error('BYSETPOS needs FREQ=MONTHLY or YEARLY');
  if (rule.byMonthDay && freq === 'WEEKLY') throw new Error('BYMONTHDAY does not apply to FREQ=WEEKLY');
  return rule;
}

const dateOf = (day: number) => new Date(day * DAY_MS);
const daysInMonth = (year: number, month0: number) => new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
const dayNumber = (year: number, month0: number, date: number) => Date.UTC(year, month0, date) / DAY_MS;

/** The days of one month that BYMONTHDAY and BYDAY (ordinals within the month) select, in order. */
function monthDays(rule: RecurrenceRule, year: number, month0: number, startDate: number): number[] {
  const last = daysInMonth(year, month0);
  let dates = Array.from({ length: last }, (_, i) => i + 1);
  if (rule.byMonthDay) {
    const wanted = new Set(rule.byMonthDay.map((d) => (d > 0 ? d : last + 1 + d)));
    dates = dates.filter((d) => wanted.has(d));
  }
  if (rule.byDay) {
    const weekdayOf = (d: number) => dateOf(dayNumber(year, month0, d)).getUTCDay();
    dates = dates.filter((d) =>
      rule.byDay!.some(({ weekday, nth }) => {
        if (weekdayOf(d) !== weekday) return false;
        if (nth === undefined) return true;
        const index = Math.floor((d - 1) / 7) + 1;
        const fromEnd = -(Math.floor((last - d) / 7) + 1);
        return nth === index || nth === fromEnd;
      }),
    );
  }
  if (!rule.byMonthDay && !rule.byDay) dates = dates.filter((d) => d === startDate);
  return dates.map((d) => dayNumber(year, month0, d));
}

const setPositions = (days: number[], positions?: number[]): number[] =>
  positions
    ? [
        ...new Set(
          positions.map((p) => days[p > 0 ? p - 1 : days.length + p]).filter((d) => d !== undefined),
        ),
      ].sort((a, b) => a - b)
    : days;

/** The first day of the k-th period (day, week from Monday, month or year) after the one of `startDay`. */
function periodStart(rule: RecurrenceRule, startDay: number, k: number): number {
  const start = dateOf(startDay);
  switch (rule.freq) {
    case 'DAILY':
      return startDay + k * rule.interval;
    case 'WEEKLY':
      return startDay - ((start.getUTCDay() + 6) % 7) + k * 7 * rule.interval;
    case 'MONTHLY':
      return dayNumber(start.getUTCFullYear(), start.getUTCMonth() + k * rule.interval, 1);
    case 'YEARLY':
      return dayNumber(start.getUTCFullYear() + k * rule.interval, 0, 1);
  }
}

/** The days of the period that begins on `first` that the rule selects, in order. */
function periodDays(rule: RecurrenceRule, first: number, startDate: Date): number[] {
  const inMonths = (days: number[]) =>
    rule.byMonth ? days.filter((d) => rule.byMonth!.includes(dateOf(d).getUTCMonth() + 1)) : days;
  const { year, month0 } = { year: dateOf(first).getUTCFullYear(), month0: dateOf(first).getUTCMonth() };
  switch (rule.freq) {
    case 'DAILY': {
      const date = dateOf(first);
      const last = daysInMonth(year, month0);
      const ok =
        (!rule.byMonthDay || rule.byMonthDay.some((d) => (d > 0 ? d : last + 1 + d) === date.getUTCDate())) &&
        (!rule.byDay || rule.byDay.some((d) => d.weekday === date.getUTCDay()));
      return ok ? inMonths([first]) : [];
    }
    case 'WEEKLY': {
      const weekdays = rule.byDay?.map((d) => d.weekday) ?? [startDate.getUTCDay()];
      return inMonths(
        Array.from({ length: 7 }, (_, i) => first + i).filter((d) =>
          weekdays.includes(dateOf(d).getUTCDay()),
        ),
      );
    }
    case 'MONTHLY':
      if (rule.byMonth && !rule.byMonth.includes(month0 + 1)) return [];
      return setPositions(monthDays(rule, year, month0, startDate.getUTCDate()), rule.bySetPos);
    case 'YEARLY': {
      const months = [...(rule.byMonth ?? [startDate.getUTCMonth() + 1])].sort((a, b) => a - b);
      const days = months.flatMap((m) => monthDays(rule, year, m - 1, startDate.getUTCDate()));
      return setPositions(days, rule.bySetPos);
    }
  }
}

/**
 * The local days (days since the epoch, of wall-clock dates) on which the rule has an occurrence,
 * from `startDay` (DTSTART's date; it counts only when it matches the rule) while `more(day, n)` says
 * to go on (`n` occurrences so far), honouring COUNT. UNTIL is the caller's to check on the instant.
 */
export function occurrenceDays(
  rule: RecurrenceRule,
  startDay: number,
  more: (day: number) => boolean,
): number[] {
  const found: number[] = [];
  const startDate = dateOf(startDay);
  for (let k = 0; ; k++) {
    const first = periodStart(rule, startDay, k);
    if (!more(first)) return found;
    for (const day of periodDays(rule, first, startDate)) {
      if (day < startDay) continue;
      if (!more(day) || (rule.count !== undefined && found.length >= rule.count)) return found;
      found.push(day);
    }
  }
  return found;
}
