/**
 * Schedules as operators meet them: `maint schedule ...` and `npm start` (dist/scripts/start.js) as
 * separate processes, the Temporal CLI for what an operator does outside this tool, on the dev server.
 */
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { desiredSchedule } from '../../client/schedules';
import { loadConfig } from '../../config/load';
import { fleetSettingsOf } from '../../drivers/fleet/settings';
import { SEARCH_ATTRIBUTE_KEYS } from '../../contract/operation';
import { rolloutChildId, type RolloutResult } from '../../contract/rollout';
import { FleetClient } from '../../fleet/client';
import { temporalCliPath } from '../../scripts/binaries';
import { cli } from '../helpers/cli';
import { createDevServerEnv, freePort, quietRuntime } from '../helpers/temporal';
import { startedBySchedule } from '../helpers/schedule';

let temporal: TestWorkflowEnvironment;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maint-schedules-'));
  temporal = await createDevServerEnv();
});
// Each test starts from a server without schedules, whatever the one before left behind.
afterEach(async () => {
  for await (const s of temporal.client.schedule.list())
    await temporal.client.schedule.getHandle(s.scheduleId).delete();
});
afterAll(async () => {
  await temporal?.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

const window = (id: string, fields: object = {}) => ({
  id,
  environment: 'contoso-sandbox',
  cron: '30 1 * * *',
  duration: 'PT1H',
  ...fields,
});

let files = 0;
/**
 * A temporal.yaml for `server` with these schedules, and `sandboxes` (small in-process fleets tagged
 * "sandbox") beside contoso-sandbox; the fleets are only reached by `npm start`.
 */
async function configFile(
  server: TestWorkflowEnvironment,
  {
    installation,
    schedules = [],
    sandboxes = [],
  }: { installation?: string; schedules?: object[]; sandboxes?: string[] },
): Promise<string> {
  const file = path.join(dir, `temporal-${++files}.yaml`);
  const doc = {
    ...(installation ? { installation } : {}),
    temporal: { address: server.address, taskQueue: `schedules-test-${files}` },
    devServer: { database: `data-${files}/temporal.db` },
    history: { database: `data-${files}/history.db` },
    environments: {
      'contoso-sandbox': {
        driver: 'fleet',
        supervisorPort: await freePort(),
        database: `data-${files}/fleet.db`,
        topology: { interactive: 1, batch: 1 },
        aosStartupMs: 50,
      },
      ...Object.fromEntries(
        await Promise.all(
          sandboxes.map(async (name) => [
            name,
            {
              driver: 'fleet',
              supervisorPort: await freePort(),
              database: `data-${files}/${name}.db`,
              topology: { interactive: 1, batch: 1 },
              aosStartupMs: 50,
              aosMode: 'inprocess',
              tags: ['sandbox'],
            },
          ]),
        ),
      ),
    },
    schedules,
  };
  fs.writeFileSync(file, YAML.stringify(doc));
  return file;
}

/** The same file with other schedules (the operator edited temporal.yaml). */
function rewrite(file: string, schedules: object[]): string {
  fs.writeFileSync(file, YAML.stringify({ ...YAML.parse(fs.readFileSync(file, 'utf8')), schedules }));
  return file;
}

/** The Temporal CLI, as an operator would type it. */
function temporalCli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(temporalCliPath(), [...args, '--address', temporal.address], (error, stdout, stderr) =>
      error ? reject(new Error(`temporal ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

async function serverState(id: string): Promise<{ paused: boolean; note: string }> {
  const described = JSON.parse(await temporalCli('schedule', 'describe', '--schedule-id', id, '-o', 'json'));
  const state = described.schedule.state ?? {};
  return { paused: state.paused === true, note: state.notes ?? '' };
}

async function serverIds(): Promise<string[]> {
  const list = JSON.parse(await temporalCli('schedule', 'list', '-o', 'json')) as { scheduleId: string }[];
  return list.map((s) => s.scheduleId).sort();
}

/** `maint schedule sync` lines as "change id detail". */
async function sync(file: string): Promise<string[]> {
  const run = await cli(file, ['schedule', 'sync']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^(\S+)\s+(\S+)\s+/, '$1 $2 '));
}

const CRON = 'contoso-sandbox, cron "30 1 * * *" (UTC)';

describe('pausing is the operator\'s: sync changes it only when temporal.yaml changes "paused"', () => {
  it('keeps a pause from `maint schedule pause` and the Temporal CLI across syncs, and applies a changed file', async () => {
    const file = await configFile(temporal, { schedules: [window('nightly')] });
    expect(await sync(file)).toEqual([`created nightly ${CRON}`]);
    expect(await serverState('nightly')).toEqual({ paused: false, note: '' });

    expect((await cli(file, ['schedule', 'pause', 'nightly', '-r', 'holiday freeze'])).stdout).toBe(
      'nightly: paused.\n',
    );
    expect(await sync(file)).toEqual([
      `unchanged nightly ${CRON}; paused as an operator left it (temporal.yaml says active)`,
    ]);
    expect(await serverState('nightly')).toEqual({ paused: true, note: 'holiday freeze' });

    // A changed definition is applied; the pause stays.
    rewrite(file, [window('nightly', { duration: 'PT2H' })]);
    expect(await sync(file)).toEqual([
      `updated nightly ${CRON}; paused as an operator left it (temporal.yaml says active)`,
    ]);
    expect(await serverState('nightly')).toEqual({ paused: true, note: 'holiday freeze' });

    // The file changes `paused`: that is applied, whatever the operator did before.
    expect((await cli(file, ['schedule', 'unpause', 'nightly'])).code).toBe(0);
    rewrite(file, [window('nightly', { duration: 'PT2H', paused: true })]);
    expect(await sync(file)).toEqual(['paused nightly as declared in temporal.yaml']);
    expect(await serverState('nightly')).toEqual({ paused: true, note: 'paused in temporal.yaml' });

    // An operator unpauses from the Temporal CLI: the file still says paused, and sync leaves it.
    await temporalCli(
      'schedule',
      'toggle',
      '--schedule-id',
      'nightly',
      '--unpause',
      '--reason',
      'run it this week',
    );
    expect(await sync(file)).toEqual([
      `unchanged nightly ${CRON}; active as an operator left it (temporal.yaml says paused)`,
    ]);
    expect(await serverState('nightly')).toEqual({ paused: false, note: 'run it this week' });

    rewrite(file, [window('nightly', { duration: 'PT2H', paused: false })]);
    await temporalCli('schedule', 'toggle', '--schedule-id', 'nightly', '--pause', '--reason', 'again');
    rewrite(file, [window('nightly', { duration: 'PT2H', paused: true })]);
    expect(await sync(file)).toEqual([`unchanged nightly ${CRON}`]);
    rewrite(file, [window('nightly', { duration: 'PT2H', paused: false })]);
    expect(await sync(file)).toEqual(['unpaused nightly as declared in temporal.yaml']);
    expect(await serverState('nightly')).toEqual({ paused: false, note: 'unpaused in temporal.yaml' });

    rewrite(file, []);
    expect(await sync(file)).toEqual(['deleted nightly no longer declared in temporal.yaml']);
  });
});

describe('installations', () => {
  it("two installations on one namespace never delete or pause each other's schedules", async () => {
    const mine = await configFile(temporal, { schedules: [window('weekly'), window('only-mine')] });
    const blue = await configFile(temporal, { installation: 'blue', schedules: [window('weekly')] });
    expect(await sync(mine)).toEqual([`created weekly ${CRON}`, `created only-mine ${CRON}`]);
    expect(await sync(blue)).toEqual([`created blue.weekly ${CRON}`]);
    expect(await sync(mine)).toEqual([`unchanged weekly ${CRON}`, `unchanged only-mine ${CRON}`]);
    expect(await serverIds()).toEqual(['blue.weekly', 'only-mine', 'weekly']);

    // Blue's operator names the schedule as temporal.yaml declares it.
    expect((await cli(blue, ['schedule', 'pause', 'weekly'])).stdout).toBe('blue.weekly: paused.\n');
    expect((await serverState('blue.weekly')).paused).toBe(true);
    expect((await serverState('weekly')).paused).toBe(false);

    const rows = JSON.parse((await cli(blue, ['schedule', 'list', '--json'])).stdout) as {
      id: string;
      managed: boolean;
      installation?: string;
    }[];
    expect(rows.map((r) => [r.id, r.managed, r.installation])).toEqual([
      ['blue.weekly', true, 'blue'],
      ['only-mine', false, 'default'],
      ['weekly', false, 'default'],
    ]);

    expect(await sync(rewrite(mine, []))).toEqual([
      'deleted only-mine no longer declared in temporal.yaml',
      'deleted weekly no longer declared in temporal.yaml',
    ]);
    expect(await serverIds()).toEqual(['blue.weekly']);
    expect(await sync(rewrite(blue, []))).toEqual([
      'deleted blue.weekly no longer declared in temporal.yaml',
    ]);
    expect(await serverIds()).toEqual([]);
  });

  it("a schedule made by the previous release (no installation in its memo) is the default installation's", async () => {
    const mine = await configFile(temporal, { schedules: [window('legacy')] });
    // Exactly what the previous release created: memos without installation and declaredPaused.
    const config = loadConfig(mine, {});
    const { fingerprint, ...today } = desiredSchedule(config, config.schedules[0]);
    const { scheduleFingerprint } = today.action.memo as { scheduleFingerprint: string };
    expect(scheduleFingerprint).toBe(fingerprint);
    await temporal.client.schedule.create({
      ...today,
      action: { ...today.action, memo: { managedBy: 'maintenance-orchestrator', scheduleFingerprint } },
      memo: { managedBy: 'maintenance-orchestrator' },
      state: { paused: true, note: 'paused by an operator under the previous release' },
    });

    const blue = await configFile(temporal, { installation: 'blue' });
    expect((await cli(blue, ['schedule', 'sync'])).stdout).toBe('No schedules declared, none to delete.\n');
    expect(await serverIds()).toEqual(['legacy']);

    expect(await sync(mine)).toEqual([
      `unchanged legacy ${CRON}; paused as an operator left it (temporal.yaml says active)`,
    ]);
    expect(await serverState('legacy')).toEqual({
      paused: true,
      note: 'paused by an operator under the previous release',
    });
    expect(await sync(mine)).toEqual([
      `unchanged legacy ${CRON}; paused as an operator left it (temporal.yaml says active)`,
    ]);
    expect(await sync(rewrite(mine, []))).toEqual(['deleted legacy no longer declared in temporal.yaml']);
  });
});

interface StartRun {
  /** Resolves once the banner is printed (the worker runs). */
  ready: Promise<void>;
  output(): string;
  /** Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const runs: StartRun[] = [];
/** Stops what a failed test left running (stopping twice is harmless). */
const stopRuns = async () => {
  await Promise.all(runs.splice(0).map((r) => r.stop()));
};

/** `npm start` as a separate process (dist/scripts/start.js, which npm start runs after the build). */
function npmStart(file: string): StartRun {
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../dist/scripts/start.js'), file], {
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ctrl-C stops everything')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`npm start exited (${code}) before it was ready:\n${output}`)),
    );
  });
  const run = {
    ready,
    output: () => output,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
  runs.push(run);
  return run;
}

const messages = (output: string): string[] => logLines(output).map((l) => l.msg);

/** The JSON log lines of a run. */
function logLines(output: string): { level: number; msg: string; err?: { message: string } }[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

describe('npm start', () => {
  afterEach(stopRuns);
  it('keeps a schedule an operator paused across a restart', async () => {
    const file = await configFile(temporal, { schedules: [window('nightly-start')] });
    const first = npmStart(file);
    await first.ready;
    expect(messages(first.output())).toContain(`Schedule nightly-start created: ${CRON}`);
    await temporalCli(
      'schedule',
      'toggle',
      '--schedule-id',
      'nightly-start',
      '--pause',
      '--reason',
      'frozen',
    );
    expect(await first.stop()).toBe(0);

    const second = npmStart(file);
    await second.ready;
    expect(messages(second.output())).toContain(
      `Schedule nightly-start unchanged: ${CRON}; paused as an operator left it (temporal.yaml says active)`,
    );
    expect(await second.stop()).toBe(0);
    expect(await serverState('nightly-start')).toEqual({ paused: true, note: 'frozen' });
  });

  it("logs a failed schedule sync and still starts the worker, with the fleet's fault switches off", async () => {
    quietRuntime();
    const noSchedules = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        extraArgs: ['--dynamic-config-value', 'frontend.enableSchedules=false'],
      },
    });
    try {
      const file = await configFile(noSchedules, { schedules: [window('nightly')] });
      const run = npmStart(file);
      await run.ready;
      const failed = logLines(run.output()).find((l) => l.msg.startsWith('Schedule sync failed'));
      expect(failed).toMatchObject({
        level: 50,
        msg: 'Schedule sync failed; the worker starts anyway. Fix the cause, then run `npx maint schedule sync`.',
        err: { message: expect.stringContaining('Schedules are disabled') },
      });

      // The worker serves operations: one goes through from the CLI.
      const enabled = await cli(file, ['enable', 'contoso-sandbox', '--reason', 'worker check']);
      expect(enabled.stdout).toMatch(/Succeeded/);
      expect(enabled.code).toBe(0);

      const { supervisorPort } = fleetSettingsOf(loadConfig(file, {}).environments['contoso-sandbox']);
      await expect(
        new FleetClient(`http://127.0.0.1:${supervisorPort}`).setFaults({ databaseUnreachable: true }),
      ).rejects.toMatchObject({ status: 403 });
      expect(await run.stop()).toBe(0);
    } finally {
      await stopRuns();
      await noSchedules.teardown();
    }
  });
});

describe('a schedule that starts a rollout', () => {
  afterEach(stopRuns);
  const weekly = (fields: object = {}) => ({
    id: 'sandboxes-weekly',
    rollout: { tag: 'sandbox', maxConcurrency: '100%', maxErrors: 0 },
    cron: '0 2 * * SUN',
    timezone: 'Europe/Berlin',
    duration: 'PT3S',
    changes: { enable: ['WHSandTMS'] },
    reason: 'Weekly window for every sandbox',
    ...fields,
  });
  const WHEN = 'rollout on tag sandbox (sbx-a, sbx-b), cron "0 2 * * SUN" (Europe/Berlin)';

  it('is synced by npm start; `schedule trigger` starts a rollout that opens a window on every tagged environment; re-sync changes nothing; removed from the file, it is deleted', async () => {
    const file = await configFile(temporal, { schedules: [weekly()], sandboxes: ['sbx-a', 'sbx-b'] });
    const run = npmStart(file);
    await run.ready;
    expect(messages(run.output())).toContain(`Schedule sandboxes-weekly created: ${WHEN}`);
    const handle = temporal.client.schedule.getHandle('sandboxes-weekly');
    expect((await handle.describe()).action).toMatchObject({
      workflowType: 'maintenanceRollout',
      workflowId: 'rollout-sandboxes-weekly',
      args: [{ action: 'window', tag: 'sandbox', maxConcurrency: '100%', duration: 'PT3S' }],
    });
    const rows = JSON.parse((await cli(file, ['schedule', 'list', '--json'])).stdout) as object[];
    expect(rows).toEqual([expect.objectContaining({ id: 'sandboxes-weekly', rollout: 'tag sandbox' })]);

    expect((await cli(file, ['schedule', 'pause', 'sandboxes-weekly'])).code).toBe(0);
    expect((await serverState('sandboxes-weekly')).paused).toBe(true);
    expect((await cli(file, ['schedule', 'unpause', 'sandboxes-weekly'])).code).toBe(0);
    expect((await serverState('sandboxes-weekly')).paused).toBe(false);

    expect((await cli(file, ['schedule', 'trigger', 'sandboxes-weekly'])).stdout).toBe(
      'sandboxes-weekly: triggered.\n',
    );
    const workflowId = await startedBySchedule(temporal.client, 'sandboxes-weekly');
    expect(workflowId).toMatch(/^rollout-sandboxes-weekly-/);
    const result: RolloutResult = await temporal.client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ action: 'window', result: 'Succeeded' });
    expect(result.counts).toMatchObject({ targets: 2, succeeded: 2, errors: 0 });
    expect(result.environments.map((r) => [r.environment, r.result, r.workflowId])).toEqual([
      ['sbx-a', 'Succeeded', rolloutChildId(workflowId, 'sbx-a')],
      ['sbx-b', 'Succeeded', rolloutChildId(workflowId, 'sbx-b')],
    ]);
    // Each window turned the key on and left maintenance.
    const config = loadConfig(file, {});
    for (const name of ['sbx-a', 'sbx-b']) {
      const db = new Database(fleetSettingsOf(config.environments[name]).database, { readonly: true });
      try {
        expect(db.prepare("SELECT ENABLED FROM CONFIGURATIONKEYS WHERE NAME = 'WHSandTMS'").get()).toEqual({
          ENABLED: 1,
        });
        expect(
          db.prepare("SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = 'CONFIGURATIONMODE'").get(),
        ).toEqual({ VALUE: 0 });
      } finally {
        db.close();
      }
    }

    expect(await sync(file)).toEqual([`unchanged sandboxes-weekly ${WHEN}`]);
    expect(await sync(rewrite(file, []))).toEqual([
      'deleted sandboxes-weekly no longer declared in temporal.yaml',
    ]);
    expect(await serverIds()).toEqual([]);
    expect(await run.stop()).toBe(0);
  });

  it('refuses a rollout schedule whose key changes name a key one of its environments lacks, naming that environment', async () => {
    const file = await configFile(temporal, { schedules: [weekly()], sandboxes: ['sbx-a', 'sbx-b'] });
    const run = npmStart(file);
    await run.ready;
    expect(messages(run.output())).toContain(`Schedule sandboxes-weekly created: ${WHEN}`);
    const db = new Database(fleetSettingsOf(loadConfig(file, {}).environments['sbx-b']).database);
    try {
      db.prepare("DELETE FROM CONFIGURATIONKEYS WHERE NAME = 'WHSandTMS'").run();
    } finally {
      db.close();
    }
    rewrite(file, [weekly({ duration: 'PT2H' })]);
    const refused = await cli(file, ['schedule', 'sync']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(
      /^refused\s+sandboxes-weekly\s+unknown configuration key "WHSandTMS" on sbx-b \(known keys: [^)]*\); correct schedules\[id=sandboxes-weekly\]\.changes in temporal\.yaml\. Left as it was on the server\.\n$/,
    );
    expect((await temporal.client.schedule.getHandle('sandboxes-weekly').describe()).action.args).toEqual([
      expect.objectContaining({ duration: 'PT3S' }),
    ]);
    expect(await run.stop()).toBe(0);
  });
});
