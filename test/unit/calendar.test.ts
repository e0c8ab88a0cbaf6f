import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ICAL from 'ical.js';
import { maintenanceCalendar, upcomingWindows, zonedInstant } from '../../client/calendar';
import { loadConfig } from '../../config/load';
import { cli } from '../helpers/cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calendar-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const configText = `
environments:
  contoso-sandbox:
    driver: fleet
    supervisorPort: 9000
    database: fleet/contoso.db
    topology: { interactive: 1, batch: 1 }
schedules:
  - id: nightly-berlin
    environment: contoso-sandbox
    cron: '30 1 * * *'
    timezone: Europe/Berlin
    duration: PT2H
    reason: Nightly keys
    changes: { enable: [WHSandTMS], disable: [RetailPOS] }
  - id: monthly-ny
    environment: contoso-sandbox
    calendar: { hour: 22, dayOfMonth: 1 }
    timezone: America/New_York
    duration: 90
  - id: paused-weekly
    environment: contoso-sandbox
    cron: '0 2 * * SUN'
    duration: PT1H
    paused: true
`;

function loadTestConfig() {
  const file = path.join(dir, 'temporal.yaml');
  fs.writeFileSync(file, configText);
  return { file, config: loadConfig(file, {}) };
}

/** The VEVENTs of an .ics text, read by ical.js. */
function parseEvents(ics: string) {
  const component = new ICAL.Component(ICAL.parse(ics));
  return component.getAllSubcomponents('vevent').map((v) => {
    const e = new ICAL.Event(v);
    return {
      uid: e.uid,
      summary: e.summary,
      description: e.description,
      start: e.startDate.toJSDate(),
      end: e.endDate.toJSDate(),
      status: v.getFirstPropertyValue('status'),
    };
  });
}

const berlin = (d: Date) =>
  d.toLocaleString('sv-SE', { timeZone: 'Europe/Berlin', hour12: false }).slice(0, 16);

describe('maintenance calendar', () => {
  it('keeps a 01:30 Europe/Berlin window at 01:30 local across the October DST change (UTC 23:30, then 00:30)', () => {
    const { config } = loadTestConfig();
    // 2025-10-26 03:00 CEST turns into 02:00 CET.
    const windows = upcomingWindows(config, { from: new Date('2025-10-23T12:00:00Z'), days: 7 }).filter(
      (w) => w.scheduleId === 'nightly-berlin',
    );
    const events = parseEvents(maintenanceCalendar(config, windows));
    expect(events.map((e) => e.start.toISOString())).toEqual([
      '2025-10-23T23:30:00.000Z',
      '2025-10-24T23:30:00.000Z',
      '2025-10-25T23:30:00.000Z', // 26 Oct 01:30 is still summer time: the change comes at 03:00
      '2025-10-27T00:30:00.000Z',
      '2025-10-28T00:30:00.000Z',
      '2025-10-29T00:30:00.000Z',
      '2025-10-30T00:30:00.000Z',
    ]);
    expect(events.map((e) => berlin(e.start).slice(11))).toEqual(Array(7).fill('01:30'));
    expect(events.map((e) => e.end.getTime() - e.start.getTime())).toEqual(Array(7).fill(2 * 3600_000));
    expect(events[0]).toMatchObject({
      uid: 'nightly-berlin-20251023T233000000Z@maintenance-orchestrator',
      summary: 'Maintenance window: contoso-sandbox',
      status: 'CONFIRMED',
    });
    expect(events[0].description).toContain('Nightly keys');
    expect(events[0].description).toContain('turns on WHSandTMS; turns off RetailPOS');
    expect(events[0].description).toContain('Starts 2025-10-24 01:30 Europe/Berlin, for 2h');
  });

  it('lists calendar-spec windows in their zone over 30 days, skips paused schedules unless asked, and keeps UIDs stable', () => {
    const { config } = loadTestConfig();
    const from = new Date('2025-02-15T00:00:00Z');
    const windows = upcomingWindows(config, { from, days: 30 });
    const monthly = windows.filter((w) => w.scheduleId === 'monthly-ny');
    // 1 March 22:00 EST (UTC-5); the US DST change (9 March) is after it.
    expect(monthly.map((w) => [w.start.toISOString(), w.end.toISOString()])).toEqual([
      ['2025-03-02T03:00:00.000Z', '2025-03-02T04:30:00.000Z'],
    ]);
    expect(windows.filter((w) => w.scheduleId === 'nightly-berlin')).toHaveLength(30);
    expect(windows.some((w) => w.scheduleId === 'paused-weekly')).toBe(false);
    const withPaused = upcomingWindows(config, { from, days: 30, includePaused: true });
    const sundays = withPaused.filter((w) => w.scheduleId === 'paused-weekly');
    expect(sundays.map((w) => w.start.toISOString())).toEqual([
      '2025-02-16T02:00:00.000Z',
      '2025-02-23T02:00:00.000Z',
      '2025-03-02T02:00:00.000Z',
      '2025-03-09T02:00:00.000Z',
      '2025-03-16T02:00:00.000Z',
    ]);
    const paused = parseEvents(maintenanceCalendar(config, sundays))[0];
    expect(paused).toMatchObject({
      status: 'TENTATIVE',
      summary: 'Maintenance window: contoso-sandbox (schedule paused)',
    });
    const again = upcomingWindows(config, { from: new Date('2025-02-20T00:00:00Z'), days: 30 });
    const uids = (ws: typeof windows) =>
      new Set(parseEvents(maintenanceCalendar(config, ws)).map((e) => e.uid));
    const later = uids(again);
    const shared = [...uids(windows)].filter((u) => later.has(u));
    expect(shared.length).toBeGreaterThan(20);
  });

  it('exports one event per run of a rollout schedule, naming the rollout and the environments it services', () => {
    const file = path.join(dir, 'rollout.yaml');
    const fleet = (name: string, port: number) =>
      `  ${name}:\n    driver: fleet\n    supervisorPort: ${port}\n    database: fleet/${name}.db\n    topology: { interactive: 1, batch: 1 }\n    tags: [sandbox]\n`;
    fs.writeFileSync(
      file,
      `environments:\n${fleet('sbx-a', 9001)}${fleet('sbx-b', 9002)}schedules:\n` +
        `  - id: sandboxes-weekly\n    rollout: { tag: sandbox, maxConcurrency: "25%" }\n    cron: '0 2 * * SUN'\n` +
        `    timezone: Europe/Berlin\n    duration: PT2H\n    changes: { enable: [WHSandTMS] }\n    reason: Weekly window for every sandbox\n`,
    );
    const config = loadConfig(file, {});
    const windows = upcomingWindows(config, { from: new Date('2025-02-15T00:00:00Z'), days: 14 });
    const events = parseEvents(maintenanceCalendar(config, windows));
    // Sundays 16 and 23 February, 02:00 CET: one event per run, not one per environment.
    expect(events.map((e) => [e.start.toISOString(), e.end.toISOString()])).toEqual([
      ['2025-02-16T01:00:00.000Z', '2025-02-16T03:00:00.000Z'],
      ['2025-02-23T01:00:00.000Z', '2025-02-23T03:00:00.000Z'],
    ]);
    expect(events[0]).toMatchObject({
      uid: 'sandboxes-weekly-20250216T010000000Z@maintenance-orchestrator',
      summary: 'Maintenance window: rollout on tag sandbox (sbx-a, sbx-b)',
      status: 'CONFIRMED',
    });
    expect(events[0].description).toContain('Weekly window for every sandbox');
    expect(events[0].description).toContain('turns on WHSandTMS');
    expect(events[0].description).toContain(
      'A rollout: at most 25% of its environments at once, each window for that long, so the last may end later.',
    );
  });

  it('reads a time in the spring gap with the offset before the change, and a repeated time as its first occurrence', () => {
    // 2025-03-30 02:30 does not exist in Berlin: it is 03:30 CEST (01:30 UTC).
    expect(new Date(zonedInstant('Europe/Berlin', Date.UTC(2025, 2, 30, 2, 30))).toISOString()).toBe(
      '2025-03-30T01:30:00.000Z',
    );
    // 2025-10-26 02:30 happens twice; the first is CEST (00:30 UTC).
    expect(new Date(zonedInstant('Europe/Berlin', Date.UTC(2025, 9, 26, 2, 30))).toISOString()).toBe(
      '2025-10-26T00:30:00.000Z',
    );
  });

  it('`maint schedule calendar -o` writes an .ics that parses, and prints it to stdout without -o', async () => {
    const { file } = loadTestConfig();
    const out = path.join(dir, 'windows.ics');
    const written = await cli(file, ['schedule', 'calendar', '--days', '3', '-o', out]);
    expect(written).toMatchObject({ code: 0, stdout: '' });
    expect(written.stderr).toMatch(/^3 windows in the next 3 days written to /);
    const events = parseEvents(fs.readFileSync(out, 'utf8'));
    expect(events.map((e) => berlin(e.start).slice(11))).toEqual(['01:30', '01:30', '01:30']);
    const printed = await cli(file, ['schedule', 'calendar', '--days', '3']);
    expect(printed.code).toBe(0);
    expect(parseEvents(printed.stdout).map((e) => e.summary)).toEqual(
      Array(3).fill('Maintenance window: contoso-sandbox'),
    );
    expect((await cli(file, ['schedule', 'calendar', '--days', 'lots'])).code).toBe(2);
  });
});
