import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { cli } from '../helpers/cli';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { startedBySchedule } from '../helpers/schedule';
import { waitForStatus } from '../helpers/status';

let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd();
});
afterAll(() => e2e?.stop());

/** A copy of the test's temporal.yaml with these schedules. */
function configWith(name: string, schedules: object[]): string {
  const doc = YAML.parse(fs.readFileSync(e2e.env.configFile, 'utf8'));
  const file = path.join(e2e.env.dir, `${name}.yaml`);
  fs.writeFileSync(file, YAML.stringify({ ...doc, schedules }));
  return file;
}

const nightly = {
  id: 'nightly',
  environment: 'contoso-sandbox',
  cron: '30 1 * * *',
  timezone: 'Europe/Berlin',
  duration: 'PT1H',
};
const monthly = {
  id: 'monthly',
  environment: 'contoso-sandbox',
  calendar: { dayOfMonth: 1, hour: 3 },
  duration: 90,
  changes: { enable: ['WHSandTMS'] },
  paused: true,
};

async function keys(): Promise<Record<string, boolean>> {
  const aos = (await e2e.env.fleet.listAos()).find(
    (a) => a.role === 'interactive' && a.status === 'running',
  )!;
  return Object.fromEntries(
    (await e2e.env.fleet.listConfigurationKeys(aos.port!)).keys.map((k) => [k.name, k.enabled]),
  );
}

describe('schedules of maintenance windows', () => {
  it('syncs the declared schedules, changes nothing the second time, and leaves foreign ones alone', async () => {
    await e2e.temporal.client.schedule.create({
      scheduleId: 'someone-elses',
      spec: { intervals: [{ every: '1d' }] },
      action: { type: 'startWorkflow', workflowType: 'other', taskQueue: 'other', args: [] },
      state: { paused: true },
    });
    const first = configWith('first', [nightly, monthly]);
    const created = await cli(first, ['schedule', 'sync']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /^created\s+nightly\s+contoso-sandbox, cron "30 1 \* \* \*" \(Europe\/Berlin\)$/m,
    );
    expect(created.stdout).toMatch(/^created\s+monthly\s+contoso-sandbox, calendar/m);
    expect((await cli(first, ['schedule', 'sync'])).stdout).toMatch(
      /^unchanged\s+nightly[\s\S]*^unchanged\s+monthly/m,
    );

    const rows = JSON.parse((await cli(first, ['schedule', 'list', '--json'])).stdout);
    expect(
      rows.map((r: { id: string; managed: boolean; paused: boolean }) => [r.id, r.managed, r.paused]),
    ).toEqual([
      ['monthly', true, true],
      ['nightly', true, false],
      ['someone-elses', false, true],
    ]);
    const next = rows.find((r: { id: string }) => r.id === 'nightly').nextRuns;
    expect(next).toHaveLength(3);
    expect(new Date(next[0]).getTime()).toBeGreaterThan(Date.now());
    expect((await cli(first, ['schedule', 'list'])).stdout).toMatch(
      /^monthly\s+contoso-sandbox\s+paused \(paused in temporal\.yaml\)/m,
    );

    const second = configWith('second', [
      { ...nightly, duration: 'PT2H' },
      { ...monthly, id: 'quarterly', paused: false },
    ]);
    const changed = await cli(second, ['schedule', 'sync']);
    expect(
      changed.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    ).toEqual(['deleted monthly', 'updated nightly', 'created quarterly']);
    expect((await cli(second, ['schedule', 'pause', 'quarterly', '-r', 'holiday'])).code).toBe(0);
    // The operator's pause stays: temporal.yaml did not change `paused` (see schedules.test.ts).
    expect((await cli(second, ['schedule', 'sync'])).stdout).toMatch(
      /^unchanged\s+nightly[\s\S]*^unchanged\s+quarterly\s+.*; paused as an operator left it \(temporal\.yaml says active\)$/m,
    );
    expect((await cli(second, ['schedule', 'sync', '--json'])).stdout).not.toMatch(
      /"change": "(created|updated|deleted)"/,
    );
    await expect(e2e.temporal.client.schedule.getHandle('someone-elses').describe()).resolves.toBeDefined();
  });

  it('refuses to sync a schedule whose key changes name a key the environment does not have', async () => {
    const file = configWith('typo', [{ ...monthly, id: 'typo', changes: { enable: ['WHSandTMZ'] } }]);
    const sync = await cli(file, ['schedule', 'sync']);
    expect(sync.code).toBe(2);
    expect(sync.stdout).toMatch(
      /^refused\s+typo\s+unknown configuration key "WHSandTMZ" on contoso-sandbox \(known keys: .*WHSandTMS.*\); correct schedules\[id=typo\]\.changes in temporal\.yaml\. Left as it was on the server\.$/m,
    );
    expect(sync.stderr.trim()).toBe('1 schedule was refused: correct temporal.yaml and sync again.');
    const rows = JSON.parse((await cli(file, ['schedule', 'list', '--json'])).stdout);
    expect(rows.map((r: { id: string }) => r.id)).not.toContain('typo');
  });

  it('starts a window when a schedule is triggered, which an operator can end early', async () => {
    const file = configWith('trigger', [{ ...nightly, id: 'on-demand', duration: 'PT3H' }]);
    expect((await cli(file, ['schedule', 'sync'])).code).toBe(0);
    expect((await cli(file, ['schedule', 'trigger', 'on-demand'])).stdout.trim()).toBe(
      'on-demand: triggered.',
    );
    const workflowId = await startedBySchedule(e2e.temporal.client, 'on-demand');
    expect(workflowId).toMatch(/^window-on-demand/);
    const handle = e2e.temporal.client.workflow.getHandle(workflowId);
    await waitForStatus(handle, (s) => !!s.window?.endsAt);
    expect((await handle.describe()).memo).toMatchObject({ managedBy: 'maintenance-orchestrator' });
    const ended = await cli(file, ['end-window', 'contoso-sandbox', '-r', 'test done']);
    expect(ended.stdout.trim()).toBe(
      `${workflowId}: the window is closing; maintenance mode will be turned off.`,
    );
    await expect(handle.result()).resolves.toMatchObject({
      result: 'Succeeded',
      window: { endedEarly: { reason: 'test done' } },
    });
    expect((await cli(file, ['schedule', 'pause', 'nope'])).code).toBe(5);
  });
});

describe('maintenance windows from the CLI', () => {
  it('opens a window, shows the time left, extends it within the maximum, refuses other operations, ends it', async () => {
    const before = await keys();
    const opened = await e2e.maint(
      'window',
      'contoso-sandbox',
      '-d',
      'PT1H',
      '--enable',
      'WHSandTMS',
      '-r',
      'warehouse',
      '-u',
      'jane',
    );
    expect(opened.stderr).toBe('');
    expect(opened.code).toBe(0);
    expect(opened.stdout).toMatch(/window open until .* \(1h left; at most until .*\)/);
    expect(await keys()).toEqual({ ...before, WHSandTMS: true });

    const status = await e2e.maint('status', 'contoso-sandbox');
    expect(status.stdout).toMatch(/operation: window-contoso-sandbox \(maintenanceWindow, running\)/);
    expect(status.stdout).toMatch(/key WHSandTMS: off → on/);

    const extended = await e2e.maint('extend-window', 'contoso-sandbox', '-d', '30');
    expect(extended.code).toBe(0);
    expect(extended.stdout).toMatch(/window-contoso-sandbox: the window now closes at /);
    const tooLong = await e2e.maint('extend-window', 'contoso-sandbox', '-d', 'PT20H');
    expect(tooLong.code).toBe(4);
    expect(tooLong.stderr).toMatch(
      /extendWindow refused: it would close at .*, past the latest allowed .* \(maximum 12h\)/,
    );

    const busy = await e2e.maint('disable', 'contoso-sandbox', '-u', 'joe');
    expect(busy.code).toBe(4);
    expect(busy.stderr).toMatch(/contoso-sandbox is being serviced by workflow window-contoso-sandbox/);

    expect((await e2e.maint('end-window', 'contoso-sandbox', '-u', 'jane')).code).toBe(0);
    const watched = await e2e.maint('watch', 'window-contoso-sandbox');
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/Maintenance window on contoso-sandbox: Succeeded\./);
    expect(await e2e.observe()).toEqual({ flag: 0, running: ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'] });
    expect(await keys()).toEqual({ ...before, WHSandTMS: true });
    const history = JSON.parse((await e2e.maint('history', 'contoso-sandbox', '--json')).stdout);
    // Newest started first: the window's two children, then the window that held them.
    expect(
      history.map((h: { action: string; result: string }) => `${h.action} ${h.result}`).slice(0, 3),
    ).toEqual(['disable Succeeded', 'enable Succeeded', 'window Succeeded']);
    expect(history[2].detail).toBe('WHSandTMS enabled');
  });

  it('fails a window with a typo in a key at once, naming the known keys, and changes nothing', async () => {
    const typo = await e2e.maint('window', 'contoso-sandbox', '-d', '30', '--enable', 'WHSandTMZ');
    expect(typo.code).toBe(1);
    expect(typo.stdout + typo.stderr).toMatch(
      /The window did not open: Unknown configuration key "WHSandTMZ" on contoso-sandbox\. Known keys: .*WHSandTMS.*\. Nothing was changed\./,
    );
    expect(await e2e.observe()).toEqual({
      flag: 0,
      running: ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'],
    });
    expect((await e2e.maint('status', 'contoso-sandbox')).stdout).toMatch(/servicing lock: free/);
  });

  it('rejects a bad window request with a message and starts nothing', async () => {
    const bad = await e2e.maint(
      'window',
      'contoso-sandbox',
      '-d',
      'two hours',
      '--enable',
      'A',
      '--disable',
      'A',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'duration: "two hours" is not a duration: give an ISO 8601 duration such as "PT2H" or "PT90M", or a number of minutes; ' +
        'changes: a configuration key cannot be both enabled and disabled',
    );
  });
});
