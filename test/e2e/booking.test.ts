import ICAL from 'ical.js';
import fs from 'node:fs';
import path from 'node:path';
import type { OperationEvent } from '../../contract/events';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { recordHistory } from '../helpers/record-history';
import { until } from '../helpers/until';

let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({
    maximumInMaintenance: '3s',
    autoDisable: false,
    events: { sinks: [{ type: 'file', path: 'events.jsonl' }] },
  });
});
afterAll(() => e2e?.stop());

/** 22:00 in Berlin on 1 July 2027 is 20:00 UTC (summer time). */
const BOOKED_ID = 'window-contoso-sandbox-at-20270701T2000Z';

describe('a window booked ahead, from the CLI (dev server)', () => {
  it('books it, lists it as booked, leaves the environment ready, and cancels it', async () => {
    const booked = await e2e.maint(
      'window',
      'contoso-sandbox',
      '--at',
      '2027-07-01T22:00',
      '--tz',
      'Europe/Berlin',
      '-d',
      'PT2H',
      '--enable',
      'WHSandTMS',
    );
    expect(booked.stderr).toBe('');
    expect(booked.code).toBe(0);
    expect(booked.stdout).toBe(
      `Booked ${BOOKED_ID}: a maintenance window on contoso-sandbox opens at 2027-07-01T20:00:00.000Z ` +
        `(2027-07-01T22:00 Europe/Berlin). Cancel it with \`maint cancel-window ${BOOKED_ID}\`.\n`,
    );
    const handle = e2e.temporal.client.workflow.getHandle(BOOKED_ID);
    // Listed through the server's visibility, which follows a start within a moment.
    const list = await until(
      () => e2e.maint('schedule', 'list'),
      (listed) => listed.stdout.includes(BOOKED_ID),
      `schedule list to show ${BOOKED_ID}`,
      { everyMs: 300, timeoutMs: 15_000 },
    );
    expect(list.stdout).toMatch(
      new RegExp(`^${BOOKED_ID}\\s+contoso-sandbox\\s+booked\\s+2027-07-01 20:00`, 'm'),
    );
    const rows = JSON.parse((await e2e.maint('schedule', 'list', '--json')).stdout);
    expect(rows).toEqual([
      expect.objectContaining({
        id: BOOKED_ID,
        environment: 'contoso-sandbox',
        nextRuns: ['2027-07-01T20:00:00.000Z'],
        booked: expect.objectContaining({
          state: 'Booked',
          timezone: 'Europe/Berlin',
          endsAt: '2027-07-01T22:00:00.000Z',
        }),
      }),
    ]);
    const ics = await e2e.maint('schedule', 'calendar', '--booked', '--days', '366');
    expect(ics.code).toBe(0);
    const [event] = new ICAL.Component(ICAL.parse(ics.stdout))
      .getAllSubcomponents('vevent')
      .map((v) => new ICAL.Event(v));
    expect(event.startDate.toJSDate().toISOString()).toBe('2027-07-01T20:00:00.000Z');
    expect(event.endDate.toJSDate().toISOString()).toBe('2027-07-01T22:00:00.000Z');
    expect(event.summary).toBe('Maintenance window: contoso-sandbox');
    expect(event.description).toContain(`Booked ahead: ${BOOKED_ID}`);
    expect(event.description).toContain('Starts 2027-07-01 22:00 Europe/Berlin, for 2h');
    expect(event.description).toContain('turns on WHSandTMS');
    // Without --booked the calendar needs no server and lists only the schedules (none here).
    expect((await e2e.maint('schedule', 'calendar', '--days', '366')).stdout).not.toContain(BOOKED_ID);

    // Booked, it holds nothing: the environment is ready for a deployment, and a window can open now.
    expect((await e2e.maint('status', 'contoso-sandbox')).code).toBe(0);

    const cancelled = await e2e.maint('cancel-window', 'contoso-sandbox', '--reason', 'moved');
    expect(cancelled.stdout).toBe(`${BOOKED_ID}: booking cancelled; the window will not open.\n`);
    expect(cancelled.code).toBe(0);
    expect(await handle.result()).toMatchObject({ result: 'Rejected' });
    recordHistory(
      'window-booked-cancelled-on-dev-server.json',
      BOOKED_ID,
      (await handle.fetchHistory()).events ?? [],
    );
    expect((await e2e.maint('schedule', 'list')).stdout).not.toContain(BOOKED_ID);
    const again = await e2e.maint('cancel-window', 'contoso-sandbox');
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('No window is booked ahead on contoso-sandbox');
    const history = await e2e.maint('history', 'contoso-sandbox');
    expect(history.stdout).toMatch(/window\s+Rejected/);
    expect(await e2e.observe()).toMatchObject({ flag: 0 });
  });

  it.each([
    [
      ['--at', '2020-01-01T00:00', '--tz', 'UTC'],
      /--at: 2020-01-01T00:00:00.000Z is in the past .*give a later time, or leave out --at/,
    ],
    [
      ['--at', '2027-07-01T22:00', '--tz', 'Mars/Olympus'],
      /--tz: unknown time zone "Mars\/Olympus": give an IANA name/,
    ],
    [['--at', 'tomorrow'], /--at: "tomorrow" is not a time: give it as 2026-12-31T22:00/],
    [['--tz', 'UTC'], /--tz goes with --at/],
    [
      ['--at', '2027-07-01T22:00', '--cutoff', 'PT2H'],
      /--cutoff: cutoff 2h is not shorter than the duration 2h/,
    ],
  ])('refuses %j, saying how to fix it, and starts nothing', async (args, message) => {
    const r = await e2e.maint('window', 'contoso-sandbox', '-d', 'PT2H', ...args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect((await e2e.maint('schedule', 'list', '--json')).stdout).toBe('[]\n');
  });
});

describe('maintenance left on by mistake (dev server)', () => {
  it('maint list shows OVERDUE, the event goes out, and with autoDisable off the environment stays as it is', async () => {
    expect((await e2e.maint('enable', 'contoso-sandbox')).code).toBe(0);
    const { stdout: list } = await until(
      () => e2e.maint('list'),
      (listed) => listed.stdout.includes('OVERDUE'),
      'maint list to say OVERDUE',
      { everyMs: 500, timeoutMs: 30_000 },
    );
    expect(list).toMatch(/contoso-sandbox\s+InMaintenance OVERDUE \(since \d{4}-\d{2}-\d{2} \d{2}:\d{2}\)/);
    const json = JSON.parse((await e2e.maint('list', '--json')).stdout);
    expect(json[0].maintenance).toMatchObject({ requestedBy: expect.any(String), autoDisable: 'off' });
    const events = fs
      .readFileSync(path.join(e2e.env.dir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as OperationEvent)
      .filter((e) => e.type === 'maintenance.environment.overdue');
    expect(events).toEqual([
      expect.objectContaining({
        subject: 'maintenance-contoso-sandbox',
        data: expect.objectContaining({
          overdue: expect.objectContaining({ maximum: '3s', autoDisable: 'off' }),
        }),
      }),
    ]);
    expect(await e2e.observe()).toMatchObject({ flag: 1 });
    expect((await e2e.maint('disable', 'contoso-sandbox')).code).toBe(0);
    expect((await e2e.maint('list')).stdout).not.toContain('OVERDUE');
  });
});
