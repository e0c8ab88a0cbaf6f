/**
 * One supervisor serving several environments (real processes, SQLite files and HTTP; build first):
 * each keeps its own flag, AOS and faults, the driver reaches its own, and temporal.yaml says which
 * settings environments on one supervisorPort must share.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, loadConfig } from '../../config/load';
import { createFleetDrivers } from '../../drivers/fleet';
import { fleetSettingsOf, type FleetSettings } from '../../drivers/fleet/settings';
import { FleetClient } from '../../fleet/client';
import type { RunningSupervisor } from '../../fleet/launch';
import { startSupervisor } from '../../fleet/launch';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-supervisor-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const databaseOf = (name: string): string => path.join(tmp, `${name}.sqlite`);

function setConfigurationMode(name: string, value: 0 | 1): void {
  const db = new Database(databaseOf(name));
  try {
    db.prepare("UPDATE SQLSYSTEMVARIABLES SET VALUE = ? WHERE PARM = 'CONFIGURATIONMODE'").run(value);
  } finally {
    db.close();
  }
}

describe('one supervisor serving three environments (two in-process, one with AOS processes)', () => {
  let supervisor: RunningSupervisor;
  const client = (name: string) => new FleetClient(supervisor.environmentUrl(name), { timeoutMs: 20_000 });
  const summary = async (name: string) =>
    (await client(name).listAos()).map((a) => [a.id, a.status, a.maintenanceMode, a.lastError]);
  const topology = { interactive: 2, batch: 1 };

  beforeAll(async () => {
    supervisor = await startSupervisor({
      spec: {
        faults: true,
        environments: ['alpha', 'beta', 'gamma'].map((environment, i) => ({
          environment,
          databaseFile: databaseOf(environment),
          topology,
          aosStartupMs: 50,
          aosMode: i < 2 ? ('inprocess' as const) : ('process' as const),
        })),
      },
      logFile: path.join(tmp, 'supervisor.log'),
    });
  });
  afterAll(() => supervisor.stop());

  const allRunning = (maintenanceMode: boolean) => [
    ['aos-1', 'running', maintenanceMode, null],
    ['aos-2', 'running', maintenanceMode, null],
    ['aos-3', 'running', maintenanceMode, null],
  ];

  it('lists its environments, serves the first one at the root too, and names the known ones for an unknown one', async () => {
    const root = new FleetClient(supervisor.url);
    expect(await root.listEnvironments()).toEqual(['alpha', 'beta', 'gamma']);
    expect(await root.health()).toMatchObject({ environment: 'alpha', pid: supervisor.pid });
    expect(await client('gamma').health()).toMatchObject({ environment: 'gamma', pid: supervisor.pid });
    expect(await root.listAos()).toEqual(await client('alpha').listAos());
    await expect(client('delta').listAos()).rejects.toMatchObject({
      status: 404,
      message: 'no environment named "delta" on this supervisor (serves 3: alpha, beta, gamma)',
    });
    const gamma = await client('gamma').listAos();
    expect(gamma.every((a) => a.pid !== supervisor.pid)).toBe(true);
    expect((await client('beta').listAos()).every((a) => a.pid === supervisor.pid)).toBe(true);
  });

  it("an environment's flag and restarts touch only its own AOS", async () => {
    setConfigurationMode('beta', 1);
    await client('beta').restart('aos-1');
    await client('beta').restart('aos-3');
    expect(await summary('beta')).toEqual([
      ['aos-1', 'running', true, null],
      ['aos-2', 'running', false, null],
      ['aos-3', 'running', true, null],
    ]);
    const port = (await client('beta').getAos('aos-1')).port!;
    expect(await client('beta').signIn(port, 'alice')).toMatchObject({ allowed: false, status: 403 });
    expect(await summary('alpha')).toEqual(allRunning(false));
    expect(await summary('gamma')).toEqual(allRunning(false));
    setConfigurationMode('beta', 0);
    await client('beta').restart('aos-1');
    await client('beta').restart('aos-3');
  });

  it('a crash and a stop in one environment leave the same AOS ids of the others running', async () => {
    await client('alpha').crash('aos-1');
    await client('gamma').stop('aos-2');
    expect(await summary('alpha')).toEqual([
      ['aos-1', 'stopped', null, 'crashed (killed in-process)'],
      ['aos-2', 'running', false, null],
      ['aos-3', 'running', false, null],
    ]);
    expect((await client('gamma').getAos('aos-2')).status).toBe('stopped');
    expect(await summary('beta')).toEqual(allRunning(false));
    await client('alpha').start('aos-1');
    await client('gamma').start('aos-2');
  });

  it("one environment's fault switches do not touch another's", async () => {
    await client('alpha').setFaults({ startFailures: { 'aos-1': 1 }, signInFailures: { 'aos-2': 1 } });
    await client('beta').setFaults({ databaseUnreachable: true });
    try {
      expect(await client('gamma').getFaults()).toMatchObject({
        startFailures: {},
        signInFailures: {},
        databaseUnreachable: false,
      });
      // gamma's and beta's aos-1 start; alpha's does not.
      expect(await client('gamma').restart('aos-1')).toMatchObject({ status: 'running' });
      await expect(client('alpha').restart('aos-1')).rejects.toMatchObject({
        status: 503,
        message: 'aos-1 failed to start: injected start failure (0 left)',
      });
      const gammaPort = (await client('gamma').getAos('aos-2')).port!;
      expect(await client('gamma').signIn(gammaPort, 'admin')).toMatchObject({ allowed: true });
      const alphaPort = (await client('alpha').getAos('aos-2')).port!;
      await expect(client('alpha').signIn(alphaPort, 'admin')).rejects.toMatchObject({ status: 503 });

      // beta's database is locked; alpha's and gamma's are not.
      expect(await client('beta').health()).toMatchObject({ databaseReachable: false });
      expect(await client('alpha').health()).toMatchObject({ databaseReachable: true });
      await expect(client('beta').restart('aos-2')).rejects.toMatchObject({
        status: 503,
        message: 'aos-2 failed to start: database unreachable: database is locked',
      });
      expect(await client('alpha').restart('aos-2')).toMatchObject({ status: 'running' });
    } finally {
      await client('alpha').clearFaults();
      await client('beta').clearFaults();
    }
    await client('alpha').start('aos-1');
    await client('beta').start('aos-2');
    for (const name of ['alpha', 'beta', 'gamma']) expect(await summary(name)).toEqual(allRunning(false));
  });

  it('the fleet driver of an environment reaches that environment on the shared supervisor', async () => {
    const settings = (name: string): FleetSettings => ({
      driver: 'fleet',
      supervisorPort: Number(new URL(supervisor.url).port),
      database: databaseOf(name),
      topology,
      aosStartupMs: 50,
      aosMode: 'inprocess',
      faults: true,
    });
    const beta = createFleetDrivers('beta', settings('beta'));
    const alpha = createFleetDrivers('alpha', settings('alpha'));
    try {
      await beta.flagStore.writeConfigurationMode(1);
      await beta.aosControl.restart('aos-2', await beta.aosControl.list());
      expect((await beta.aosControl.list()).map((a) => a.maintenanceMode)).toEqual([false, true, false]);
      expect((await alpha.aosControl.list()).map((a) => a.maintenanceMode)).toEqual([false, false, false]);
      expect(beta.describe({ capability: 'aosControl', call: 'restartAos', aosId: 'aos-2' })).toBe(
        `POST ${supervisor.url}/environments/beta/aos/aos-2/restart`,
      );
    } finally {
      await beta.flagStore.writeConfigurationMode(0);
      await beta.aosControl.restart('aos-2', await beta.aosControl.list());
      beta.close();
      alpha.close();
    }
  });
});

describe('many in-process environments on one supervisor', () => {
  it('starts 200 environments of 2 interactive and 1 batch AOS, all running, and prints time and memory', async () => {
    const count = 200;
    const begun = Date.now();
    const many = await startSupervisor({
      spec: {
        environments: Array.from({ length: count }, (_, i) => ({
          environment: `env-${i + 1}`,
          databaseFile: path.join(tmp, 'many', `env-${i + 1}.sqlite`),
          topology: { interactive: 2, batch: 1 },
          aosStartupMs: 50,
          aosMode: 'inprocess' as const,
        })),
      },
      logFile: path.join(tmp, 'many.log'),
    });
    const startMs = Date.now() - begun;
    try {
      const statuses = await Promise.all(
        many.environments.map(async (name) =>
          (await new FleetClient(many.environmentUrl(name)).listAos()).map((a) => a.status),
        ),
      );
      expect(statuses.flat()).toEqual(Array<string>(count * 3).fill('running'));
      // Figures for the report, not assertions: timings and memory depend on the machine.
      const rssMiB =
        Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${many.pid}/status`, 'utf8'))![1]) / 1024;
      process.stdout.write(
        `${count} in-process environments (${count * 3} AOS): started in ${startMs} ms, supervisor RSS ${rssMiB.toFixed(0)} MiB\n`,
      );
    } finally {
      await many.stop();
    }
  });

  it('refuses a spec that gives two environments the same name or database, before it starts anything', async () => {
    const env = {
      databaseFile: path.join(tmp, 'twice.sqlite'),
      topology: { interactive: 1, batch: 1 },
      aosStartupMs: 0,
    };
    await expect(
      startSupervisor({
        spec: {
          environments: [
            { ...env, environment: 'twice' },
            { ...env, environment: 'twice' },
          ],
        },
      }),
    ).rejects.toThrow(
      'invalid supervisor options: spec.environments.1.environment: environment "twice" appears twice; every environment of a supervisor needs its own; ' +
        `spec.environments.1.databaseFile: databaseFile "${env.databaseFile}" appears twice; every environment of a supervisor needs its own`,
    );
    expect(fs.existsSync(env.databaseFile)).toBe(false);
  });
});

describe('temporal.yaml: environments on one supervisorPort share a supervisor', () => {
  const load = (environments: Record<string, object>) => {
    const file = path.join(tmp, `temporal-${Object.keys(environments).join('-')}.yaml`);
    fs.writeFileSync(file, YAML.stringify({ environments }));
    return () => loadConfig(file, {});
  };
  const fleet = (database: string, extra: object = {}) => ({
    driver: 'fleet',
    supervisorPort: 8310,
    database,
    topology: { interactive: 1, batch: 1 },
    ...extra,
  });

  it('accepts several environments on one port, each with its own aosMode', () => {
    const config = load({ a: fleet('a.db', { aosMode: 'inprocess' }), b: fleet('b.db') })();
    const modes = ['a', 'b'].map((e) => fleetSettingsOf(config.environments[e]).aosMode);
    expect(modes).toEqual(['inprocess', 'process']);
  });

  it('refuses two environments on one port that disagree on faults, saying it is per supervisor', () => {
    const disagreeing = load({ a: fleet('a.db'), b: fleet('b.db', { faults: true }) });
    expect(disagreeing).toThrow(ConfigError);
    expect(disagreeing).toThrow(
      'environments.b.faults: a and b share supervisorPort 8310, so one supervisor serves both, and a ' +
        'supervisor serves fault switches for all its environments or none: give both the same "faults"',
    );
  });

  it('refuses two environments on one port with the same database, and an unknown aosMode', () => {
    expect(load({ a: fleet('same.db'), b: fleet('other.db'), c: fleet('same.db') })).toThrow(
      /environments\.c\.database: a and c share supervisorPort 8310, so one supervisor serves both, and each environment needs its own database: give c another "database"/,
    );
    expect(load({ d: fleet('d.db', { aosMode: 'thread' }) })).toThrow(
      /environments\.d\.aosMode: aosMode is "process" \(one process per AOS\) or "inprocess" \(inside the supervisor\)/,
    );
  });
});
