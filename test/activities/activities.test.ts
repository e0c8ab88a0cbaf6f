import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { createDrivers } from '../../drivers';
import { Secrets } from '../../config/secrets';
import { EnvironmentEntities } from '../../client/environment-entity';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { until } from '../helpers/until';

/**
 * The activities on their own (MockActivityEnvironment) against a real fleet: heartbeats while an
 * AOS warms up, cancellation reported as cancellation, and every error classified so the retry
 * policy does the right thing.
 */
let env: TestEnvironment;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  // No Temporal server is needed here; the address only fills the configuration.
  env = await startTestEnvironment({ address: '127.0.0.1:1', supportsTimeSkipping: false }, { faults: true });
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const drivers = createDrivers(env.config.environments[env.name], {
    environment: env.name,
    env: {},
    secrets: new Secrets([]),
  });
  activities = createActivities({
    environments: env.config.environments,
    policies: env.config.policies,
    history: env.config.history,
    taskQueue: env.config.temporal.taskQueue,
    searchAttributes: true,
    drivers: () => drivers,
    // The lock lives in Temporal (tested in test/workflows/environment.test.ts); nothing here calls it.
    client,
    entities: new EnvironmentEntities(client, env.config.temporal.taskQueue),
  });
});
afterAll(async () => {
  await env?.stop();
});
afterEach(() => env.fleet.clearFaults());

const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) =>
  new MockActivityEnvironment().run(fn, ...args) as Promise<R>;

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('activities against the real fleet', () => {
  it('heartbeats while an AOS restart waits for the AOS to warm up', async () => {
    await run(activities.stopAos, { environment: env.name, aosId: 'aos-2' });
    await env.fleet.setFaults({ startDelayMs: { 'aos-2': 2500 } });
    const mock = new MockActivityEnvironment();
    let heartbeats = 0;
    mock.on('heartbeat', () => heartbeats++);
    const state = await mock.run(activities.restartAos, { environment: env.name, aosId: 'aos-2' });
    expect(state).toEqual({
      id: 'aos-2',
      role: 'interactive',
      running: true,
      status: 'running',
      maintenanceMode: false,
    });
    expect(heartbeats).toBeGreaterThanOrEqual(2);
  });

  it('reports a cancelled restart as cancelled, only once the AOS has settled, not as a failure to retry', async () => {
    await run(activities.stopAos, { environment: env.name, aosId: 'aos-3' });
    await env.fleet.setFaults({ startDelayMs: { 'aos-3': 3000 } });
    const mock = new MockActivityEnvironment();
    const restart = mock.run(activities.restartAos, { environment: env.name, aosId: 'aos-3' });
    setTimeout(() => mock.cancel(), 500);
    await expect(restart).rejects.toBeInstanceOf(CancelledFailure);
    // The supervisor went on starting it after the request was aborted; the activity waited for that.
    expect(await env.fleet.getAos('aos-3')).toMatchObject({ status: 'running' });
    await env.fleet.clearFaults();
    await run(activities.restartAos, { environment: env.name, aosId: 'aos-3' });
  });

  it('classifies what retrying can fix and what it cannot', async () => {
    await run(activities.stopAos, { environment: env.name, aosId: 'aos-5' });
    await env.fleet.setFaults({ startFailures: { 'aos-5': 1 } });
    const start = await failure(run(activities.restartAos, { environment: env.name, aosId: 'aos-5' }));
    expect([start.type, start.nonRetryable]).toEqual(['AosStartFailed', false]);
    expect(start.message).toMatch(/^restart aos-5: aos-5 failed to start: injected start failure/);

    const unknownAos = await failure(run(activities.stopAos, { environment: env.name, aosId: 'aos-9' }));
    expect([unknownAos.type, unknownAos.nonRetryable]).toEqual(['UnknownAos', true]);

    await env.fleet.setFaults({ databaseWritesBlocked: true });
    const locked = await failure(run(activities.setConfigurationMode, { environment: env.name, value: 1 }));
    expect([locked.type, locked.nonRetryable]).toEqual(['DatabaseUnreachable', false]);
    await env.fleet.clearFaults();
    expect(env.readFlag()).toBe(0);

    const key = await failure(
      run(activities.readConfigurationKeys, { environment: env.name, names: ['WHSandTMS', 'Nope'] }),
    );
    expect([key.type, key.nonRetryable]).toEqual(['UnknownConfigurationKey', true]);
    expect(key.message).toMatch(
      /^Unknown configuration key "Nope" on contoso-sandbox\. Known keys: .*WHSandTMS/,
    );

    const environment = await failure(run(activities.resolveEnvironment, { environment: 'fabrikam-prod' }));
    expect([environment.type, environment.nonRetryable]).toEqual(['UnknownEnvironment', true]);
  });
});

describe('restarts and rollback demand only what can be done', () => {
  const aos = (id: string) => env.fleet.getAos(id);
  // Each test starts with every AOS running (start is idempotent).
  beforeEach(async () => {
    await Promise.all((await env.fleet.listAos()).map((a) => env.fleet.start(a.id)));
  });

  it('does not restart an AOS that already runs in the mode the flag gives', async () => {
    const before = await aos('aos-1');
    const state = await run(activities.restartAos, { environment: env.name, aosId: 'aos-1' });
    expect(state).toMatchObject({ id: 'aos-1', maintenanceMode: false, note: 'already in the target mode' });
    expect(await aos('aos-1')).toMatchObject({ pid: before.pid, startedAt: before.startedAt });

    await run(activities.setConfigurationMode, { environment: env.name, value: 1 });
    try {
      const restarted = await run(activities.restartAos, { environment: env.name, aosId: 'aos-1' });
      expect(restarted).toMatchObject({ maintenanceMode: true });
      expect(restarted).not.toHaveProperty('note');
      expect((await aos('aos-1')).startedAt).not.toBe(before.startedAt);
    } finally {
      await run(activities.setConfigurationMode, { environment: env.name, value: 0 });
      await run(activities.restartAos, { environment: env.name, aosId: 'aos-1' });
    }
  });

  it('waits for an AOS that is starting before taking the snapshot', async () => {
    await run(activities.stopAos, { environment: env.name, aosId: 'aos-4' });
    await env.fleet.setFaults({ startDelayMs: { 'aos-4': 1500 } });
    const starting = env.fleet.start('aos-4');
    await until(
      () => aos('aos-4'),
      (a) => a.status === 'starting',
      'aos-4 to be starting',
      { everyMs: 20 },
    );
    const snapshot = await run(activities.snapshotEnvironment, { environment: env.name });
    expect(snapshot.instances.find((i) => i.id === 'aos-4')).toMatchObject({ running: true });
    await starting;
  });

  it('fails preflight, retryably and by name, while an AOS is crashed', async () => {
    await env.fleet.crash('aos-3');
    try {
      const crashed = await failure(run(activities.snapshotEnvironment, { environment: env.name }));
      expect([crashed.type, crashed.nonRetryable]).toEqual(['AosUnavailable', false]);
      expect(crashed.message).toMatch(/^Cannot take a snapshot to roll back to: aos-3 is crashed/);
    } finally {
      await env.fleet.start('aos-3');
    }
  });

  it('rolls back to mixed modes as far as restarts can, and says which mode it could not give', async () => {
    // As an aborted operation can leave it: aos-2 runs in maintenance mode, the flag says normal.
    const snapshot = {
      configurationMode: 0 as const,
      instances: (await env.fleet.listAos()).map(({ id, role }) => ({
        id,
        role,
        running: true,
        maintenanceMode: id === 'aos-2',
      })),
    };
    await run(activities.stopAos, { environment: env.name, aosId: 'aos-2' });
    const restored = await run(activities.restoreTopology, { environment: env.name, snapshot });
    expect(restored).toEqual({ changed: ['↻ aos-2 (normal)'] });
    const verified = await run(activities.verifySnapshot, { environment: env.name, snapshot });
    expect(verified.checks).toEqual([
      'CONFIGURATIONMODE = 0',
      'running as before: aos-1, aos-2, aos-3, aos-4, aos-5',
      'aos-2 ran in maintenance mode before, which CONFIGURATIONMODE 0 cannot give: it runs out of it',
    ]);
  });
});
