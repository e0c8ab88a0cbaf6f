import path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { createFleetDrivers } from '../../activities/fleet-drivers';
import { SqliteServicingStore } from '../../activities/servicing-store';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';

/**
 * The activities on their own (MockActivityEnvironment) against a real fleet: heartbeats while an
 * AOS warms up, cancellation reported as cancellation, and every error classified so the retry
 * policy does the right thing.
 */
let env: TestEnvironment;
let store: SqliteServicingStore;
const running = new Set<string>();
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  // No Temporal server is needed here; the address only fills the configuration.
  env = await startTestEnvironment({ address: '127.0.0.1:1', supportsTimeSkipping: false }, { faults: true });
  store = new SqliteServicingStore(path.join(env.dir, 'activities-history.db'));
  const drivers = createFleetDrivers(
    env.config.environments[env.name] as Parameters<typeof createFleetDrivers>[0],
  );
  activities = createActivities({
    environments: env.config.environments,
    policies: env.config.policies,
    searchAttributes: true,
    drivers: () => drivers,
    store,
    isRunning: async (_workflowId, runId) => running.has(runId),
  });
});
afterAll(async () => {
  store?.close();
  await env?.stop();
});
afterEach(() => env.fleet.clearFaults());

const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) =>
  new MockActivityEnvironment().run(fn, ...args);

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
    await env.fleet.setFaults({ startDelayMs: { 'aos-2': 2500 } });
    const mock = new MockActivityEnvironment();
    let heartbeats = 0;
    mock.on('heartbeat', () => heartbeats++);
    const state = await mock.run(activities.restartAos, { environment: env.name, aosId: 'aos-2' });
    expect(state).toEqual({ id: 'aos-2', role: 'interactive', running: true, maintenanceMode: false });
    expect(heartbeats).toBeGreaterThanOrEqual(2);
  });

  it('reports a cancelled restart as cancelled, not as a failure to retry', async () => {
    await env.fleet.setFaults({ startDelayMs: { 'aos-3': 3000 } });
    const mock = new MockActivityEnvironment();
    const restart = mock.run(activities.restartAos, { environment: env.name, aosId: 'aos-3' });
    setTimeout(() => mock.cancel(), 500);
    await expect(restart).rejects.toBeInstanceOf(CancelledFailure);
    await env.fleet.clearFaults();
    await run(activities.restartAos, { environment: env.name, aosId: 'aos-3' });
  });

  it('classifies what retrying can fix and what it cannot', async () => {
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

  it('refuses the lock to a second run while the holder runs, and takes it over once the holder has closed', async () => {
    const asRun = (runId: string) =>
      new MockActivityEnvironment({ workflowExecution: { workflowId: `wf-${runId}`, runId } }).run(
        activities.acquireLock,
        {
          environment: env.name,
          action: 'enable' as const,
          requestedBy: 'test',
        },
      );
    running.add('run-a');
    await expect(asRun('run-a')).resolves.toEqual({ takenOverFrom: null });
    await expect(asRun('run-a')).resolves.toEqual({ takenOverFrom: null }); // a retried attempt
    const busy = await failure(asRun('run-b'));
    expect([busy.type, busy.nonRetryable]).toEqual(['EnvironmentBusy', true]);
    expect(busy.message).toMatch(
      /^contoso-sandbox is being serviced by workflow wf-run-a \(run run-a, enable requested by test/,
    );
    running.delete('run-a');
    await expect(asRun('run-b')).resolves.toEqual({ takenOverFrom: 'wf-run-a' });
    expect(store.holder(env.name)?.runId).toBe('run-b');
  });
});
