/**
 * Change-freeze periods from temporal.yaml: RRULE evaluation on local days, time zones and DST, the
 * schema's messages, and `maint freeze list` and the calendar export from the built CLI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ICAL from 'ical.js';
import YAML from 'yaml';
import { buildPlan, type PlanFacts } from '../../activities/plan';
import { freezePeriods, freezeSchema, type FreezeConfig } from '../../config/freezes';
import { ConfigError, loadConfig } from '../../config/load';
import { freezeAt, freezeOverlapping } from '../../contract/freeze';
import { cli } from '../helpers/cli';

const freeze = (f: Record<string, unknown>): FreezeConfig =>
  freezeSchema.parse({ name: 'f', environments: ['contoso-sandbox'], ...f });
const utc = (iso: string) => Date.parse(iso);
/** The periods over [from, to) as "start/end" ISO pairs. */
const periods = (f: FreezeConfig, from: string, to: string) =>
  freezePeriods(f, utc(from), utc(to)).map((p) => `${p.start}/${p.end}`);

describe('freeze periods', () => {
  it('a one-off freeze is read in its zone: Berlin midnight is 23:00 UTC in winter', () => {
    const f = freeze({ start: '2026-12-23', end: '2027-01-04T06:00', timezone: 'Europe/Berlin' });
    expect(periods(f, '2026-12-01T00:00:00Z', '2027-02-01T00:00:00Z')).toEqual([
      '2026-12-22T23:00:00.000Z/2027-01-04T05:00:00.000Z',
    ]);
    expect(periods(f, '2027-01-04T05:00:00Z', '2027-02-01T00:00:00Z')).toEqual([]);
  });

  it('FREQ=MONTHLY;BYMONTHDAY=-1: the last day of each month, at the start time', () => {
    const f = freeze({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=-1', start: '2026-01-31T18:00', duration: 'PT36H' });
    expect(periods(f, '2027-01-15T00:00:00Z', '2027-04-15T00:00:00Z')).toEqual([
      '2027-01-31T18:00:00.000Z/2027-02-02T06:00:00.000Z',
      '2027-02-28T18:00:00.000Z/2027-03-02T06:00:00.000Z',
      '2027-03-31T18:00:00.000Z/2027-04-02T06:00:00.000Z',
    ]);
  });

  it('the last working day of the month (BYDAY=MO..FR;BYSETPOS=-1) and the last Friday (-1FR)', () => {
    const working = freeze({
      rrule: 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1',
      start: '2026-01-30T18:00',
      duration: 'P1D',
    });
    // January 2027 ends on a Sunday, February on a Sunday, May on a Monday.
    expect(
      periods(working, '2027-01-01T00:00:00Z', '2027-06-01T00:00:00Z').map((p) => p.slice(0, 10)),
    ).toEqual(['2026-12-31', '2027-01-29', '2027-02-26', '2027-03-31', '2027-04-30', '2027-05-31']);
    const lastFriday = freeze({
      rrule: 'FREQ=MONTHLY;BYDAY=-1FR',
      start: '2026-01-01T08:00',
      duration: 'PT8H',
    });
    expect(
      periods(lastFriday, '2027-01-01T00:00:00Z', '2027-03-01T00:00:00Z').map((p) => p.slice(0, 10)),
    ).toEqual(['2027-01-29', '2027-02-26']);
  });

  it('WEEKLY with INTERVAL counts weeks from DTSTART; COUNT and UNTIL end the rule', () => {
    const fortnightly = freeze({
      rrule: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU',
      start: '2026-12-01T09:00',
      duration: 'PT2H',
    });
    expect(
      periods(fortnightly, '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z').map((p) => p.slice(0, 10)),
    ).toEqual(['2026-12-01', '2026-12-15', '2026-12-29']);
    const three = freeze({ rrule: 'FREQ=DAILY;COUNT=3', start: '2026-12-01T00:00', duration: 'PT1H' });
    expect(periods(three, '2026-11-01T00:00:00Z', '2027-01-01T00:00:00Z')).toHaveLength(3);
    const until = freeze({ rrule: 'FREQ=DAILY;UNTIL=20261203', start: '2026-12-01T22:00', duration: 'PT1H' });
    expect(periods(until, '2026-11-01T00:00:00Z', '2027-01-01T00:00:00Z').map((p) => p.slice(0, 10))).toEqual(
      ['2026-12-01', '2026-12-02', '2026-12-03'],
    );
  });

  it('YEARLY with BYMONTH and BYMONTHDAY: the fiscal year-end close', () => {
    const f = freeze({
      rrule: 'FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=28,29,30',
      start: '2026-06-28T00:00',
      duration: 'P1D',
    });
    expect(periods(f, '2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z').map((p) => p.slice(0, 10))).toEqual([
      '2027-06-28',
      '2027-06-29',
      '2027-06-30',
    ]);
  });

  it('across DST the start keeps its local time and a duration in days keeps the wall clock', () => {
    // Europe/Berlin leaves summer time on 2026-10-25: 18:00 is 16:00 UTC before, 17:00 UTC after.
    const f = freeze({
      rrule: 'FREQ=DAILY',
      start: '2026-10-24T18:00',
      duration: 'P1D',
      timezone: 'Europe/Berlin',
    });
    expect(periods(f, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toEqual([
      '2026-10-24T16:00:00.000Z/2026-10-25T17:00:00.000Z',
      '2026-10-25T17:00:00.000Z/2026-10-26T17:00:00.000Z',
    ]);
    // New York's spring gap: 02:30 on 2027-03-14 does not exist, it is read as 03:30 daylight time,
    // and PT1H is an exact hour from there.
    const gap = freeze({
      rrule: 'FREQ=DAILY',
      start: '2027-03-13T02:30',
      duration: 'PT1H',
      timezone: 'America/New_York',
    });
    expect(periods(gap, '2027-03-13T00:00:00Z', '2027-03-15T00:00:00Z')).toEqual([
      '2027-03-13T07:30:00.000Z/2027-03-13T08:30:00.000Z',
      '2027-03-14T07:30:00.000Z/2027-03-14T08:30:00.000Z',
    ]);
  });

  it('the period in force and the first one overlapping a span', () => {
    const f = freeze({ start: '2026-12-10T00:00', end: '2026-12-11T00:00' });
    const list = freezePeriods(f, utc('2026-12-01T00:00:00Z'), utc('2027-01-01T00:00:00Z'));
    expect(freezeAt(list, utc('2026-12-10T12:00:00Z'))?.freeze).toBe('f');
    expect(freezeAt(list, utc('2026-12-11T00:00:00Z'))).toBeUndefined();
    expect(freezeOverlapping(list, utc('2026-12-09T20:00:00Z'), utc('2026-12-10T00:00:01Z'))?.freeze).toBe(
      'f',
    );
    expect(freezeOverlapping(list, utc('2026-12-09T20:00:00Z'), utc('2026-12-10T00:00:00Z'))).toBeUndefined();
  });
});

describe('freezes: in temporal.yaml', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freezes-test-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (freezes: unknown[]) => {
    const file = path.join(dir, `t-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(
      file,
      YAML.stringify({
        environments: {
          'contoso-prod': {
            driver: 'fleet',
            supervisorPort: 9000,
            database: 'p.db',
            topology: { interactive: 1, batch: 1 },
            tags: ['production'],
          },
          'contoso-sandbox': {
            driver: 'fleet',
            supervisorPort: 9001,
            database: 's.db',
            topology: { interactive: 1, batch: 1 },
          },
        },
        freezes,
      }),
    );
    return file;
  };
  const problems = (freezes: unknown[]) => {
    try {
      loadConfig(write(freezes), {});
    } catch (e) {
      if (e instanceof ConfigError) return e.message;
      throw e;
    }
    return 'loaded';
  };

  it.each([
    [
      { rrule: 'FREQ=HOURLY', start: '2026-01-01', duration: 'PT1H', tags: ['production'] },
      'FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY',
    ],
    [
      { rrule: 'FREQ=MONTHLY;BYHOUR=3', start: '2026-01-01', duration: 'PT1H', tags: ['production'] },
      'BYHOUR is not supported',
    ],
    [
      { rrule: 'FREQ=WEEKLY;BYDAY=-1FR', start: '2026-01-01', duration: 'PT1H', tags: ['production'] },
      'needs FREQ=MONTHLY or YEARLY',
    ],
    [{ rrule: 'FREQ=DAILY', start: '2026-01-01', tags: ['production'] }, 'a recurring freeze needs duration'],
    [{ start: '2026-01-01', tags: ['production'] }, 'give end (a one-off freeze) or rrule and duration'],
    [
      { start: '2026-01-02', end: '2026-01-01', tags: ['production'] },
      'end 2026-01-01 is not after start 2026-01-02',
    ],
    [{ start: '2026-01-01T25:00', end: '2026-01-02', tags: ['production'] }, 'a local date and time'],
    [
      { start: '2026-01-01', end: '2026-01-02', timezone: 'Mars/Olympus', tags: ['production'] },
      'unknown time zone',
    ],
    [{ start: '2026-01-01', end: '2026-01-02' }, 'name the environments it freezes'],
    [
      { start: '2026-01-01', end: '2026-01-02', environments: ['contoso-uat'] },
      'unknown environment "contoso-uat"',
    ],
    [{ start: '2026-01-01', end: '2026-01-02', tags: ['prod'] }, 'no environment has the tag "prod"'],
  ])('refuses %j with a message that says what to write', (f, message) => {
    expect(problems([{ name: 'close', ...f }])).toContain(message);
  });

  it('refuses two freezes of one name, and takes environments by name and by tag', () => {
    const one = { name: 'close', start: '2026-01-01', end: '2026-01-02', tags: ['production'] };
    expect(problems([one, one])).toContain('"close" is declared twice');
    expect(problems([one, { ...one, name: 'other', tags: [], environments: ['contoso-sandbox'] }])).toBe(
      'loaded',
    );
  });

  it('`maint freeze list` shows which freeze is in force, until when, and the next period', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    const file = write([
      {
        name: 'incident',
        reason: 'P1 incident',
        start: iso(now - 3_600_000),
        end: iso(now + 7_200_000),
        tags: ['production'],
      },
      {
        name: 'later',
        start: iso(now + 86_400_000 * 3),
        end: iso(now + 86_400_000 * 4),
        environments: ['contoso-sandbox'],
      },
    ]);
    const list = await cli(file, ['freeze', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      /^incident {2}FROZEN NOW until \d{4}-\d\d-\d\d \d\d:\d\d UTC \((1h 59m|2h) left\)$/m,
    );
    expect(list.stdout).toContain('  environments: contoso-prod (tags: production)');
    expect(list.stdout).toContain('  reason: P1 incident');
    expect(list.stdout).toMatch(/^later {2}next: .* UTC until .* UTC \(in (2d 23h 59m|3d)\)$/m);
    const json = JSON.parse((await cli(file, ['freeze', 'list', '--json'])).stdout);
    expect(json.map((f: { name: string; current?: unknown }) => [f.name, !!f.current])).toEqual([
      ['incident', true],
      ['later', false],
    ]);

    const ics = await cli(file, ['schedule', 'calendar', '--days', '7']);
    const events = new ICAL.Component(ICAL.parse(ics.stdout))
      .getAllSubcomponents('vevent')
      .map((e) => new ICAL.Event(e));
    expect(events.map((e) => e.summary)).toEqual([
      'Change freeze: incident (contoso-prod)',
      'Change freeze: later (contoso-sandbox)',
    ]);
    expect(events[0].description).toContain('P1 incident');
    expect(events[0].uid).toMatch(/^freeze-incident-.*@maintenance-orchestrator$/);
  });
});

describe('the plan and freezes', () => {
  const facts: PlanFacts = {
    configurationMode: 0,
    aos: [
      { id: 'aos-1', role: 'interactive', running: true, status: 'running' },
      { id: 'aos-2', role: 'batch', running: true, status: 'running' },
    ] as PlanFacts['aos'],
    users: {},
    protected: false,
    approvalTimeout: '24h',
    now: utc('2026-12-10T20:00:00Z'),
    freezes: freezePeriods(
      freeze({ reason: 'Close', start: '2026-12-10T21:00', end: '2026-12-11T06:00' }),
      utc('2026-12-10T20:00:00Z'),
      utc('2027-01-10T00:00:00Z'),
    ),
  };
  const describe = () => 'a call';
  const preflightOf = (plan: ReturnType<typeof buildPlan>) =>
    plan.steps.find((s) => s.step === 'preflight')!.does;

  it('before a freeze: no refusal, the next freeze named, and a window that would run into it warned', () => {
    const plan = buildPlan(
      { environment: 'contoso-sandbox', action: 'window', requestedBy: 'jane', duration: 2 * 3_600_000 },
      facts,
      describe,
    );
    expect(plan.refusal).toBeUndefined();
    expect(preflightOf(plan)).toEqual(
      expect.arrayContaining([
        'not frozen now; next change freeze "f" (Close), from 2026-12-10T21:00:00.000Z until 2026-12-11T06:00:00.000Z: starts are refused then',
        'the change freeze "f" (Close), from 2026-12-10T21:00:00.000Z until 2026-12-11T06:00:00.000Z begins while the window is open: the window is not cut, but extend-window into it is refused',
      ]),
    );
  });

  it('in a freeze: refused, naming it, and whether an exception can be had', () => {
    const plan = buildPlan(
      { environment: 'contoso-sandbox', action: 'enable', requestedBy: 'jane' },
      { ...facts, now: utc('2026-12-10T22:00:00Z') },
      describe,
    );
    expect(plan.refusal).toBe(
      'contoso-sandbox is in the change freeze "f" (Close), from 2026-12-10T21:00:00.000Z until 2026-12-11T06:00:00.000Z: the enable would be refused; the environment is not protected, so no exception can be granted',
    );
  });
});
