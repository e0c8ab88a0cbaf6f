/**
 * The fleet with real processes, a real SQLite file and real HTTP: the supervisor runs from dist/
 * (build first: `npx tsc -p .`), started by `startFleet` as the orchestrator's tests will start it.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import vm from 'node:vm';
import { createFleetDrivers } from '../../drivers/fleet';
import { fleetSettingsSchema } from '../../drivers/fleet/settings';
import { FleetClient, FleetHttpError } from '../../fleet/client';
import type { RunningFleet } from '../../fleet/launch';
import { startFleet } from '../../fleet/launch';
import { MAINTENANCE_MODE_USER, SYSTEM_ADMINISTRATOR } from '../../fleet/rules';
import type { AosMode, Topology } from '../../fleet/schemas';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-test-'));
const started: RunningFleet[] = [];

async function launch(
  environment: string,
  topology: Topology,
  {
    aosMode = 'process' as AosMode,
    databaseFile = path.join(tmp, `${aosMode}-${environment}.sqlite`),
    faults = false,
  } = {},
) {
  const fleet = await startFleet({
    environment,
    databaseFile,
    topology,
    aosStartupMs: 100,
    aosMode,
    logFile: path.join(tmp, `${aosMode}-${environment}.log`),
    faults,
  });
  started.push(fleet);
  return { fleet, client: new FleetClient(fleet.url, { timeoutMs: 20_000 }), databaseFile };
}

const stopFleets = (): Promise<unknown> => Promise.all(started.splice(0).map((fleet) => fleet.stop()));

function setConfigurationMode(databaseFile: string, value: 0 | 1): void {
  const db = new Database(databaseFile);
  try {
    db.prepare("UPDATE SQLSYSTEMVARIABLES SET VALUE = ? WHERE PARM = 'CONFIGURATIONMODE'").run(value);
  } finally {
    db.close();
  }
}

const NO_FAULTS = {
  startFailures: {},
  startDelayMs: {},
  signInFailures: {},
  databaseUnreachable: false,
  databaseWritesBlocked: false,
};

/** Another process's connection to the environment DB, with a short busy timeout. */
function otherConnection(databaseFile: string) {
  const db = new Database(databaseFile, { timeout: 200 });
  return {
    readFlag: (): unknown =>
      db.prepare("SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = 'CONFIGURATIONMODE'").pluck().get(),
    writeFlag: () =>
      db.prepare("UPDATE SQLSYSTEMVARIABLES SET VALUE = 0 WHERE PARM = 'CONFIGURATIONMODE'").run(),
    desired: (id: string): unknown =>
      db.prepare('SELECT DESIRED FROM FLEETINSTANCES WHERE ID = ?').pluck().get(id),
    close: () => db.close(),
  };
}

const BUSY = expect.objectContaining({ code: 'SQLITE_BUSY', message: 'database is locked' });

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** For bodies the typed client would never send. */
async function sendRaw(
  url: string,
  method: string,
  body?: string,
): Promise<{ status: number; error: string }> {
  const response = await fetch(url, { method, body, headers: { 'content-type': 'application/json' } });
  return { status: response.status, error: ((await response.json()) as { error: string }).error };
}

afterAll(async () => {
  await stopFleets();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** What differs between the modes: whether each AOS is a process of its own, and how a crash reads. */
const MODES = [
  { aosMode: 'process', ownProcess: true, crashed: 'crashed (killed by SIGKILL)' },
  { aosMode: 'inprocess', ownProcess: false, crashed: 'crashed (killed in-process)' },
] as const;

describe('the supervisor command line', () => {
  it('refuses a --faults value it does not know, naming the flag', async () => {
    await expect(
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [
          path.resolve(__dirname, '../../dist/fleet/supervisor.js'),
          ...['--environment', 'x', '--database', path.join(tmp, 'x.sqlite'), '--port', '0'],
          ...['--interactive', '1', '--batch', '1', '--aos-startup-ms', '0', '--faults', 'yes'],
        ]);
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve(`${code}: ${stderr.trim()}`));
      }),
    ).resolves.toBe(
      '1: fleet supervisor failed: invalid arguments: faults: give "--faults enabled" or "--faults disabled"',
    );
  });
});

describe.each(MODES)('with aosMode $aosMode', ({ aosMode, ownProcess, crashed }) => {
  describe('a fleet of 3 interactive and 2 batch AOS, out of maintenance', () => {
    let env: Awaited<ReturnType<typeof launch>>;
    beforeAll(async () => {
      env = await launch('deployed', { interactive: 3, batch: 2 }, { aosMode, faults: true });
    });
    afterAll(stopFleets);

    it('runs five AOS with their roles, none in maintenance mode, each in its own process or in the supervisor', async () => {
      const instances = await env.client.listAos();
      expect(
        instances.map(({ id, role, status, desired, maintenanceMode, lastError }) => [
          id,
          role,
          status,
          desired,
          maintenanceMode,
          lastError,
        ]),
      ).toEqual([
        ['aos-1', 'interactive', 'running', 'running', false, null],
        ['aos-2', 'interactive', 'running', 'running', false, null],
        ['aos-3', 'interactive', 'running', 'running', false, null],
        ['aos-4', 'batch', 'running', 'running', false, null],
        ['aos-5', 'batch', 'running', 'running', false, null],
      ]);
      for (const instance of instances) {
        expect(await env.client.aosHealth(instance.port!)).toEqual({
          id: instance.id,
          role: instance.role,
          maintenanceMode: false,
          startedAt: instance.startedAt,
          pid: instance.pid,
        });
      }
      const pids = new Set(instances.map((i) => i.pid));
      expect(pids.has(env.fleet.pid)).toBe(!ownProcess);
      expect(pids.size).toBe(ownProcess ? 5 : 1);
      expect(await env.client.health()).toEqual({
        environment: 'deployed',
        pid: env.fleet.pid,
        databaseReachable: true,
        faultsEnabled: true,
      });
    });

    it('lets enabled users sign in, refuses unknown and disabled ones, and keeps License configuration read-only', async () => {
      const { port } = await env.client.getAos('aos-1');
      expect(await env.client.signIn(port!, 'alice')).toEqual({ allowed: true, roles: ['Accountant'] });
      expect(await env.client.signIn(port!, 'admin')).toEqual({
        allowed: true,
        roles: [SYSTEM_ADMINISTRATOR],
      });
      expect(await env.client.signIn(port!, 'bob')).toMatchObject({ allowed: false, status: 401 });
      expect(await env.client.signIn(port!, 'mallory')).toMatchObject({ allowed: false, status: 401 });

      const { editable, keys } = await env.client.listConfigurationKeys(port!);
      expect(editable).toBe(false);
      expect(keys).toContainEqual({ name: 'LedgerBasic', label: 'General ledger', enabled: true });
      await expect(env.client.setConfigurationKey(port!, 'WHSandTMS', true)).rejects.toMatchObject({
        status: 409,
        message: expect.stringContaining("can't be edited while maintenance mode is off"),
      });
    });

    it('answers bad bodies with 400 and a reason, and unknown instances or routes with 404, changing nothing', async () => {
      const { url } = env.fleet;
      const { port } = await env.client.getAos('aos-1');
      const aos = `http://127.0.0.1:${port}`;
      expect(await sendRaw(`${aos}/signin`, 'POST', '{not json')).toEqual({
        status: 400,
        error: expect.stringContaining('request body is not valid JSON'),
      });
      expect(await sendRaw(`${aos}/signin`, 'POST', '{"user": 1}')).toEqual({
        status: 400,
        error: 'invalid request body: user: Expected string, received number',
      });
      expect(
        await sendRaw(`${aos}/license/configuration-keys/LedgerBasic`, 'PUT', '{"enabled": "yes"}'),
      ).toMatchObject({
        status: 400,
        error: expect.stringContaining('enabled: Expected boolean'),
      });
      expect(await sendRaw(`${url}/faults`, 'PUT', '{"startFailures": {"aos-1": -1}}')).toMatchObject({
        status: 400,
        error: expect.stringContaining('startFailures.aos-1'),
      });
      expect(await sendRaw(`${url}/faults`, 'PUT', '{"crashEverything": true}')).toMatchObject({
        status: 400,
        error: expect.stringContaining("Unrecognized key(s) in object: 'crashEverything'"),
      });

      await expect(env.client.start('aos-9')).rejects.toMatchObject({
        status: 404,
        message: expect.stringContaining('aos-9'),
      });
      await expect(env.client.getAos('aos-9')).rejects.toMatchObject({ status: 404, path: '/aos/aos-9' });
      await expect(env.client.setFaults({ startFailures: { 'aos-1': 1, 'aos-9': 1 } })).rejects.toMatchObject(
        {
          status: 404,
          message: expect.stringContaining('aos-9'),
        },
      );
      expect(await sendRaw(`${url}/aos/aos-1/reboot`, 'POST')).toEqual({
        status: 404,
        error: 'no route for POST /aos/aos-1/reboot',
      });

      expect(await env.client.getFaults()).toEqual(NO_FAULTS);
      expect((await env.client.listAos()).every((i) => i.status === 'running')).toBe(true);
    });
  });

  describe('turning maintenance mode on (1 interactive, 1 batch AOS)', () => {
    let env: Awaited<ReturnType<typeof launch>>;
    beforeAll(async () => {
      env = await launch('maintenance', { interactive: 1, batch: 1 }, { aosMode });
    });
    afterAll(stopFleets);

    it('a running AOS keeps the mode it read at start; only a restarted AOS reads the new flag', async () => {
      const before = await env.client.getAos('aos-1');
      setConfigurationMode(env.databaseFile, 1);
      expect(await env.client.aosHealth(before.port!)).toMatchObject({ maintenanceMode: false });

      const after = await env.client.restart('aos-1');
      expect(after).toMatchObject({
        status: 'running',
        maintenanceMode: true,
        desired: 'running',
        lastError: null,
      });
      expect(after.startedAt).not.toBe(before.startedAt);
      if (ownProcess) {
        expect(after.pid).not.toBe(before.pid);
        expect(isAlive(before.pid!)).toBe(false);
      } else {
        expect(after.pid).toBe(env.fleet.pid);
      }
      expect(await env.client.aosHealth(after.port!)).toMatchObject({
        id: 'aos-1',
        maintenanceMode: true,
        pid: after.pid,
      });
      expect(await env.client.getAos('aos-2')).toMatchObject({ maintenanceMode: false });

      expect(await env.client.restart('aos-2')).toMatchObject({ role: 'batch', maintenanceMode: true });
    });

    it('lets only the System administrator and the Maintenance mode user sign in', async () => {
      const { port } = await env.client.getAos('aos-1');
      expect(await env.client.signIn(port!, 'admin')).toEqual({
        allowed: true,
        roles: [SYSTEM_ADMINISTRATOR],
      });
      expect(await env.client.signIn(port!, 'maint.user')).toEqual({
        allowed: true,
        roles: [MAINTENANCE_MODE_USER],
      });
      expect(await env.client.signIn(port!, 'alice')).toEqual({
        allowed: false,
        status: 403,
        error: expect.stringMatching(/^Maintenance mode is on: only users with the System administrator or/),
      });
      expect(await env.client.signIn(port!, 'bob')).toMatchObject({ allowed: false, status: 401 });
    });

    it('makes the License configuration page editable, and the change lands in the database', async () => {
      const [interactive, batch] = await env.client.listAos();
      expect(await env.client.listConfigurationKeys(interactive.port!)).toMatchObject({ editable: true });
      expect(await env.client.setConfigurationKey(interactive.port!, 'WHSandTMS', true)).toEqual({
        name: 'WHSandTMS',
        label: 'Warehouse and Transportation management',
        enabled: true,
      });
      const db = new Database(env.databaseFile, { readonly: true });
      expect(db.prepare("SELECT ENABLED FROM CONFIGURATIONKEYS WHERE NAME = 'WHSandTMS'").pluck().get()).toBe(
        1,
      );
      db.close();
      expect((await env.client.listConfigurationKeys(batch.port!)).keys).toContainEqual(
        expect.objectContaining({ name: 'WHSandTMS', enabled: true }),
      );
      await expect(
        env.client.setConfigurationKey(interactive.port!, 'NoSuchKey', true),
      ).rejects.toMatchObject({
        status: 404,
        message: 'no configuration key named "NoSuchKey"',
      });
    });
  });

  describe('desired state', () => {
    afterEach(stopFleets);

    it('survives a supervisor restart: only the instances that should run are started again', async () => {
      const first = await launch('restarted', { interactive: 2, batch: 1 }, { aosMode });
      const stopped = await first.client.stop('aos-2');
      expect(stopped).toMatchObject({
        status: 'stopped',
        desired: 'stopped',
        pid: null,
        port: null,
        lastError: null,
      });
      expect(await first.client.stop('aos-2')).toEqual(stopped);
      const running = await first.client.getAos('aos-1');
      expect(await first.client.start('aos-1')).toEqual(running);

      await first.fleet.stop();
      expect(isAlive(running.pid!)).toBe(false);

      // A different topology is ignored: the supervisor's own record decides.
      const second = await launch(
        'restarted',
        { interactive: 4, batch: 4 },
        { aosMode, databaseFile: first.databaseFile },
      );
      const instances = await second.client.listAos();
      expect(instances.map(({ id, status, desired }) => [id, status, desired])).toEqual([
        ['aos-1', 'running', 'running'],
        ['aos-2', 'stopped', 'stopped'],
        ['aos-3', 'running', 'running'],
      ]);
    });
  });

  describe('a supervisor started without fault switches (the default)', () => {
    afterAll(stopFleets);

    it('answers 403 to every /faults call, saying how to enable them, and still controls its AOS', async () => {
      const env = await launch('no-faults', { interactive: 1, batch: 1 }, { aosMode });
      const howTo = expect.stringMatching(
        /^fault injection is disabled on this supervisor; .*start the supervisor with "--faults enabled" \(startFleet\(\{ faults: true \}\), or "faults: true" on the environment in temporal\.yaml\)$/,
      );
      await expect(env.client.setFaults({ startFailures: { 'aos-1': 1 } })).rejects.toMatchObject({
        status: 403,
        message: howTo,
      });
      await expect(env.client.getFaults()).rejects.toMatchObject({ status: 403, message: howTo });
      await expect(env.client.clearFaults()).rejects.toMatchObject({ status: 403, message: howTo });
      expect(await env.client.health()).toMatchObject({ faultsEnabled: false });

      // Nothing was switched on: the next start succeeds. Crash, stop, start and restart stay available.
      expect(await env.client.crash('aos-1')).toMatchObject({ status: 'stopped' });
      expect(await env.client.start('aos-1')).toMatchObject({ status: 'running', lastError: null });
      expect(await env.client.stop('aos-2')).toMatchObject({ status: 'stopped', desired: 'stopped' });
      expect(await env.client.restart('aos-2')).toMatchObject({ status: 'running', desired: 'running' });
    });
  });

  describe('fault switches (1 interactive, 1 batch AOS)', () => {
    let env: Awaited<ReturnType<typeof launch>>;
    beforeAll(async () => {
      env = await launch('faults', { interactive: 1, batch: 1 }, { aosMode, faults: true });
    });
    afterEach(async () => {
      await env.client.clearFaults();
    });
    afterAll(stopFleets);

    it('startFailures makes the next N starts of an instance fail with 503, then it starts', async () => {
      expect(await env.client.setFaults({ startFailures: { 'aos-2': 2 } })).toMatchObject({
        startFailures: { 'aos-2': 2 },
      });

      await expect(env.client.restart('aos-2')).rejects.toMatchObject({
        status: 503,
        message: 'aos-2 failed to start: injected start failure (1 left)',
      });
      expect(await env.client.getAos('aos-2')).toMatchObject({
        status: 'stopped',
        desired: 'running',
        pid: null,
        lastError: 'injected start failure (1 left)',
      });
      await expect(env.client.start('aos-2')).rejects.toMatchObject({
        status: 503,
        message: 'aos-2 failed to start: injected start failure (0 left)',
      });
      expect(await env.client.start('aos-2')).toMatchObject({ status: 'running', lastError: null });
      expect((await env.client.getFaults()).startFailures).toEqual({});
    });

    it('startDelayMs makes a start take at least that much longer', async () => {
      await env.client.setFaults({ startDelayMs: { 'aos-1': 700 } });
      const begun = Date.now();
      await env.client.restart('aos-1');
      expect(Date.now() - begun).toBeGreaterThanOrEqual(700);
    });

    it('a crash leaves the instance stopped with lastError, and nothing restarts it by itself', async () => {
      const before = await env.client.getAos('aos-1');
      expect(await env.client.crash('aos-1')).toMatchObject({
        status: 'stopped',
        desired: 'running',
        pid: null,
        lastError: crashed,
      });
      expect(isAlive(before.pid!)).toBe(!ownProcess);
      await expect(env.client.aosHealth(before.port!)).rejects.toMatchObject({
        name: 'FleetUnreachableError',
      });
      await sleep(300);
      expect(await env.client.getAos('aos-1')).toMatchObject({ status: 'stopped' });
      expect(await env.client.start('aos-1')).toMatchObject({ status: 'running', lastError: null });
    });

    it('databaseUnreachable locks everybody else out of the database until it is switched off', async () => {
      expect(await env.client.setFaults({ databaseUnreachable: true })).toMatchObject({
        databaseUnreachable: true,
      });
      expect(await env.client.health()).toMatchObject({ databaseReachable: false });

      const writer = new Database(env.databaseFile, { timeout: 100 });
      const writeFlag = () =>
        writer.prepare("UPDATE SQLSYSTEMVARIABLES SET VALUE = 0 WHERE PARM = 'CONFIGURATIONMODE'").run();
      try {
        expect(writeFlag).toThrow(
          expect.objectContaining({ code: 'SQLITE_BUSY', message: 'database is locked' }),
        );
        await expect(env.client.restart('aos-1')).rejects.toMatchObject({
          status: 503,
          message: 'aos-1 failed to start: database unreachable: database is locked',
        });
        const { port } = await env.client.getAos('aos-2');
        await expect(env.client.signIn(port!, 'admin')).rejects.toMatchObject({ status: 503 });

        expect(await env.client.clearFaults()).toMatchObject({ databaseUnreachable: false });
        expect(writeFlag().changes).toBe(1);
      } finally {
        writer.close();
      }
      expect(await env.client.health()).toMatchObject({ databaseReachable: true });
      expect(await env.client.start('aos-1')).toMatchObject({ status: 'running', maintenanceMode: false });
    });

    it('databaseWritesBlocked lets everybody read and AOS start, but nobody else write, until it is switched off', async () => {
      expect(await env.client.setFaults({ databaseWritesBlocked: true })).toMatchObject({
        databaseWritesBlocked: true,
        databaseUnreachable: false,
      });
      expect(await env.client.health()).toMatchObject({ databaseReachable: true });

      const other = otherConnection(env.databaseFile);
      try {
        expect(other.readFlag()).toBe(0);
        const begun = Date.now();
        expect(other.writeFlag).toThrow(BUSY);
        expect(Date.now() - begun).toBeGreaterThanOrEqual(150);

        // AOS starts read; the supervisor's bookkeeping writes go into the transaction that holds the lock.
        const restarted = await env.client.restart('aos-1');
        expect(restarted).toMatchObject({ status: 'running', maintenanceMode: false, lastError: null });
        expect(await env.client.signIn(restarted.port!, 'admin')).toMatchObject({ allowed: true });
        expect(await env.client.stop('aos-2')).toMatchObject({ status: 'stopped', desired: 'stopped' });
        expect(other.desired('aos-2')).toBe('running');

        expect(await env.client.setFaults({ databaseWritesBlocked: false })).toEqual(NO_FAULTS);
        expect(other.writeFlag().changes).toBe(1);
        expect(other.desired('aos-2')).toBe('stopped');
      } finally {
        other.close();
      }
      expect(await env.client.start('aos-2')).toMatchObject({ status: 'running', desired: 'running' });
    });

    it('with both database switches on, unreachable wins; switching it off leaves the write lock in place', async () => {
      expect(
        await env.client.setFaults({ databaseWritesBlocked: true, databaseUnreachable: true }),
      ).toMatchObject({ databaseWritesBlocked: true, databaseUnreachable: true });
      const other = otherConnection(env.databaseFile);
      try {
        expect(other.readFlag).toThrow(BUSY);
        expect(await env.client.health()).toMatchObject({ databaseReachable: false });

        expect(await env.client.setFaults({ databaseUnreachable: false })).toMatchObject({
          databaseWritesBlocked: true,
          databaseUnreachable: false,
        });
        expect(other.readFlag()).toBe(0);
        expect(other.writeFlag).toThrow(BUSY);

        // And back: the write lock becomes an exclusive one again.
        await env.client.setFaults({ databaseUnreachable: true });
        expect(other.readFlag).toThrow(BUSY);

        expect(await env.client.clearFaults()).toEqual(NO_FAULTS);
        expect(other.writeFlag().changes).toBe(1);
      } finally {
        other.close();
      }
    });

    it('signInFailures makes the next N sign-ins on an instance answer 503 (warming up), then it lets users in', async () => {
      expect(await env.client.setFaults({ signInFailures: { 'aos-1': 2 } })).toMatchObject({
        signInFailures: { 'aos-1': 2 },
      });
      const aos1 = (await env.client.getAos('aos-1')).port!;
      const aos2 = (await env.client.getAos('aos-2')).port!;
      expect(await env.client.signIn(aos2, 'admin')).toMatchObject({ allowed: true });

      const failure = await env.client.signIn(aos1, 'admin').catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(FleetHttpError);
      expect(failure).toMatchObject({
        status: 503,
        path: '/signin',
        message: 'aos-1 is not accepting sign-ins yet (warming up): injected fault (1 left)',
      });
      expect((await env.client.getFaults()).signInFailures).toEqual({ 'aos-1': 1 });
      // A restarted AOS still owes the rest: the count lives in the supervisor.
      const restarted = (await env.client.restart('aos-1')).port!;
      await expect(env.client.signIn(restarted, 'alice')).rejects.toMatchObject({
        name: 'FleetHttpError',
        status: 503,
        message: 'aos-1 is not accepting sign-ins yet (warming up): injected fault (0 left)',
      });
      expect((await env.client.getFaults()).signInFailures).toEqual({});
      expect(await env.client.signIn(restarted, 'alice')).toEqual({ allowed: true, roles: ['Accountant'] });
      expect(await env.client.signIn(restarted, 'bob')).toMatchObject({ allowed: false, status: 401 });
    });

    it('signInFailures: 0 removes the switch, an unknown instance is a 404 that changes nothing', async () => {
      await env.client.setFaults({ signInFailures: { 'aos-1': 3, 'aos-2': 1 } });
      expect((await env.client.setFaults({ signInFailures: { 'aos-1': 0 } })).signInFailures).toEqual({
        'aos-2': 1,
      });
      await expect(
        env.client.setFaults({ signInFailures: { 'aos-1': 1, 'aos-9': 1 } }),
      ).rejects.toMatchObject({
        status: 404,
        message: expect.stringContaining('no AOS instance named "aos-9"'),
      });
      expect((await env.client.getFaults()).signInFailures).toEqual({ 'aos-2': 1 });
    });

    it('DELETE /faults clears signInFailures and databaseWritesBlocked', async () => {
      await env.client.setFaults({ signInFailures: { 'aos-1': 5 }, databaseWritesBlocked: true });
      const other = otherConnection(env.databaseFile);
      try {
        expect(other.writeFlag).toThrow(BUSY);
        expect(await env.client.clearFaults()).toEqual(NO_FAULTS);
        expect(await env.client.getFaults()).toEqual(NO_FAULTS);
        expect(other.writeFlag().changes).toBe(1);
      } finally {
        other.close();
      }
      const { port } = await env.client.getAos('aos-1');
      expect(await env.client.signIn(port!, 'admin')).toMatchObject({ allowed: true });
    });
  });
});

describe('sessions and batch jobs, which the fleet driver reads for the impact preview', () => {
  let env: Awaited<ReturnType<typeof launch>>;
  beforeAll(async () => {
    env = await launch('workload', { interactive: 1, batch: 1 }, { aosMode: 'inprocess' });
  });
  afterAll(stopFleets);

  /** The worker's drivers of this environment, as temporal.yaml would declare it. */
  const fleetDrivers = () =>
    createFleetDrivers(
      'workload',
      fleetSettingsSchema.parse({
        driver: 'fleet',
        supervisorPort: Number(new URL(env.fleet.url).port),
        database: env.databaseFile,
        topology: { interactive: 1, batch: 1 },
      }),
    );

  it('refuses a session of an unknown or disabled user and a batch job without a valid time, naming the field', async () => {
    await expect(env.client.addSession('nobody')).rejects.toMatchObject({
      status: 400,
      message: 'no enabled user "nobody" in USERINFO',
    });
    await expect(env.client.addSession('bob')).rejects.toMatchObject({ status: 400 });
    await expect(env.client.addSession('alice', 'aos-9')).rejects.toMatchObject({ status: 404 });
    await expect(
      env.client.addBatchJob({ caption: 'x', status: 'waiting', startsAt: 'tomorrow' }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('startsAt: startsAt is an ISO 8601 time'),
    });
    expect(await env.client.listSessions()).toEqual([]);
  });

  it('the fleet driver reads active users by name and the jobs executing or due by the end, by SQL', async () => {
    const alice = await env.client.addSession('alice', 'aos-1');
    await env.client.addSession('alice');
    await env.client.addSession('admin');
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    const later = new Date(Date.now() + 3 * 3_600_000).toISOString();
    await env.client.addBatchJob({ caption: 'Nightly MRP', status: 'waiting', startsAt: later });
    await env.client.addBatchJob({ caption: 'Post invoices', status: 'executing', startsAt: soon });
    await env.client.addBatchJob({ caption: 'Settle', status: 'waiting', startsAt: soon });
    const drivers = fleetDrivers();
    try {
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      expect(await drivers.impact!.read(inAnHour)).toEqual({
        users: { count: 2, names: ['Alice Accountant', 'Administrator'] },
        batchJobs: [
          { name: 'Post invoices', status: 'executing' },
          { name: 'Settle', status: 'waiting', startsAt: soon },
        ],
      });
      await env.client.endSession(alice.id);
      expect((await drivers.impact!.read(later)).batchJobs.map((j) => j.name)).toEqual([
        'Post invoices',
        'Settle',
        'Nightly MRP',
      ]);
    } finally {
      drivers.close();
    }
  });

  it('a busy database is told by its code, whatever copy of better-sqlite3 made the error', async () => {
    // better-sqlite3's addon keeps the SqliteError class of the first copy that loaded it; jest loads
    // a copy per test file, each in its own realm, into one process.
    let isBusyInCopy: (err: unknown) => boolean = () => false;
    await jest.isolateModulesAsync(async () => {
      ({ isDatabaseBusy: isBusyInCopy } = await import('../../fleet/database'));
    });
    const locker = new Database(env.databaseFile);
    const other = otherConnection(env.databaseFile);
    try {
      locker.exec('BEGIN EXCLUSIVE');
      let error: unknown;
      try {
        other.readFlag();
      } catch (e) {
        error = e;
      }
      expect(error).toEqual(BUSY);
      expect(isBusyInCopy(error)).toBe(true);
      expect(isBusyInCopy(new Error('database is locked'))).toBe(false);
      // An error made in another realm, as another test file's copy of the addon makes them.
      const foreign: unknown = vm.runInNewContext(
        "Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })",
      );
      expect(foreign instanceof Error).toBe(false);
      expect(isBusyInCopy(foreign)).toBe(true);
    } finally {
      if (locker.inTransaction) locker.exec('COMMIT');
      locker.close();
      other.close();
    }
  });

  it('the fleet driver waits for a locked database without holding up the event loop: the worker serves everything else meanwhile', async () => {
    const drivers = fleetDrivers();
    const locker = new Database(env.databaseFile);
    // The longest the event loop went without running a 10 ms timer, up to now.
    let longest = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      longest = Math.max(longest, Date.now() - last);
      last = Date.now();
    }, 10);
    const longestGap = () => Math.max(longest, Date.now() - last);
    try {
      locker.exec('BEGIN EXCLUSIVE');
      const begun = Date.now();
      const error = await drivers.flagStore.readConfigurationMode().catch((e: unknown) => e);
      expect(Date.now() - begun).toBeGreaterThanOrEqual(1000);
      expect(error).toEqual(BUSY);
      expect(drivers.classify(error)).toBe('databaseUnreachable');
      // SQLite's own busy timeout blocked it for the whole second.
      expect(longestGap()).toBeLessThan(500);

      // The lock goes while a write waits: the write's transaction runs again, whole, and goes through.
      const write = drivers.flagStore.writeConfigurationMode(1);
      setTimeout(() => locker.exec('COMMIT'), 100);
      expect(await write).toEqual({ previous: 0 });
      expect(await drivers.flagStore.readConfigurationMode()).toBe(1);
    } finally {
      clearInterval(ticker);
      if (locker.inTransaction) locker.exec('COMMIT');
      locker.close();
      drivers.close();
      setConfigurationMode(env.databaseFile, 0);
    }
  });
});
