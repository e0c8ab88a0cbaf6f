import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { ACTIVITY_CALLS, type CallStep, type DriverActivity } from '../../activities/driver-calls';
import type { EnvironmentEntities } from '../../client/environment-entity';
import { configSchema, environmentSchema } from '../../config/schema';
import { Secrets } from '../../config/secrets';
import { createDrivers } from '../../drivers';
import type { DriverCall } from '../../drivers/capabilities';
import { commandsOfCall } from '../../drivers/command/calls';
import type { CommandSettings } from '../../drivers/command/settings';
import { FAKE_COMMANDS, FAKE_ENVIRONMENT } from '../helpers/fake-environment';

/**
 * The table the activity timeout check adds up (activities/driver-calls.ts, with the command driver's
 * drivers/command/calls.ts) against the code: each activity runs through the command driver on the
 * fake environment, on its longest path, and runs exactly the commands the table counts for it.
 */

interface FakeAos {
  id: string;
  role: 'interactive' | 'batch';
  status: 'running' | 'stopped';
  maintenanceMode: boolean | null;
}
const aos = (
  id: string,
  role: FakeAos['role'],
  status: FakeAos['status'],
  maintenanceMode: boolean | null,
) => ({
  id,
  role,
  status,
  maintenanceMode,
});
const NORMAL = [aos('aos-1', 'interactive', 'running', false), aos('aos-2', 'batch', 'running', false)];
const IN_MAINTENANCE = [aos('aos-1', 'interactive', 'running', true), aos('aos-2', 'batch', 'running', true)];
const snapshotOf = (instances: FakeAos[], configurationMode: 0 | 1) => ({
  configurationMode,
  instances: instances.map(({ id, role, status, maintenanceMode }) => ({
    id,
    role,
    running: status === 'running',
    maintenanceMode,
  })),
});

/**
 * Each activity on its longest path: the fake environment it finds, its input, and for a step of
 * calls made at once, those that this run makes.
 */
const SCENARIOS: Record<
  DriverActivity,
  { flag: 0 | 1; aos: FakeAos[]; input: Record<string, unknown>; atOnce?: DriverCall[] }
> = {
  snapshotEnvironment: { flag: 0, aos: NORMAL, input: {} },
  setConfigurationMode: { flag: 0, aos: NORMAL, input: { value: 1 } },
  // The flag says maintenance and aos-1 runs out of it: restarted.
  restartAos: { flag: 1, aos: NORMAL, input: { aosId: 'aos-1' } },
  stopAos: { flag: 1, aos: NORMAL, input: { aosId: 'aos-2' } },
  // aos-2 ran before and is stopped now: restarted.
  restoreTopology: {
    flag: 0,
    aos: [NORMAL[0], aos('aos-2', 'batch', 'stopped', null)],
    input: { snapshot: snapshotOf(NORMAL, 0) },
    atOnce: ['aosControl.restart'],
  },
  verifySnapshot: { flag: 0, aos: NORMAL, input: { snapshot: snapshotOf(NORMAL, 0) } },
  verifyEnvironment: { flag: 1, aos: IN_MAINTENANCE, input: { expect: 'maintenance' } },
  planOperation: {
    flag: 0,
    aos: NORMAL,
    input: { action: 'window', requestedBy: 'jane', changes: { enable: ['WHSandTMS'], disable: [] } },
    atOnce: [
      'flagStore.readConfigurationMode',
      'aosControl.list',
      'probe.probeUsers',
      'license.list',
      'impact.read',
    ],
  },
  previewImpact: { flag: 0, aos: NORMAL, input: { durationMs: 3_600_000 } },
  readConfigurationKeys: { flag: 1, aos: IN_MAINTENANCE, input: { names: ['WHSandTMS'] } },
  setConfigurationKeys: { flag: 1, aos: IN_MAINTENANCE, input: { values: { WHSandTMS: true } } },
};

let dir: string;
beforeAll(() => {
  if (!fs.existsSync(FAKE_ENVIRONMENT))
    throw new Error(`${FAKE_ENVIRONMENT} is missing: run npm run build first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'driver-calls-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const settings = () =>
  environmentSchema.parse({
    driver: 'command',
    workingDirectory: dir,
    timeout: '10s',
    env: { FAKE_ENVIRONMENT_STATE: path.join(dir, 'state.json') },
    commands: FAKE_COMMANDS,
  });

/** Runs `activity` on the fake environment; resolves to the commands it ran, in the order they ended. */
async function commandsRun(activity: DriverActivity): Promise<string[]> {
  const scenario = SCENARIOS[activity];
  fs.writeFileSync(
    path.join(dir, 'state.json'),
    JSON.stringify({
      configurationMode: scenario.flag,
      aos: scenario.aos,
      keys: { WHSandTMS: false },
      users: { administrator: 'admin', maintenanceUser: 'maint', regularUser: 'jane' },
      restartLeavesStopped: [],
      changes: [],
    }),
  );
  const environment = settings();
  const drivers = createDrivers(environment, {
    environment: 'env',
    env: process.env,
    secrets: new Secrets([]),
  });
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const { policies, history } = configSchema.parse({ environments: { env: environment } });
  const activities = createActivities({
    environments: { env: environment },
    policies,
    history,
    taskQueue: 'driver-calls',
    searchAttributes: false,
    drivers: () => drivers,
    client,
    // A plan reads the lock too: nobody holds it.
    entities: { view: async () => undefined } as unknown as EnvironmentEntities,
  });
  const ran: string[] = [];
  const mock = new MockActivityEnvironment(undefined, {
    logger: new DefaultLogger('TRACE', (entry) => {
      if (entry.message === 'Command ran') ran.push(String(entry.meta?.command));
    }),
  });
  const run = activities[activity] as (input: object) => Promise<unknown>;
  await mock.run(run, { environment: 'env', ...scenario.input });
  return ran;
}

const commandsOf = (calls: DriverCall[]) =>
  calls.flatMap((call) => commandsOfCall(settings() as CommandSettings, call).map((c) => c.name));

describe('each activity runs exactly the commands the timeout check counts for it', () => {
  it.each(Object.keys(ACTIVITY_CALLS) as DriverActivity[])('%s', async (activity) => {
    const steps = ACTIVITY_CALLS[activity] as CallStep[];
    const inOrder = commandsOf(steps.filter((s): s is DriverCall => typeof s === 'string'));
    const together = steps.flatMap((s) => (typeof s === 'object' && 'atOnce' in s ? s.atOnce : []));
    expect(together).toEqual(expect.arrayContaining(SCENARIOS[activity].atOnce ?? []));
    const atOnce = commandsOf(SCENARIOS[activity].atOnce ?? []);
    const ran = await commandsRun(activity);
    // Commands run at once end in any order: those come last, compared as a set of names with counts.
    expect(ran.slice(0, inOrder.length)).toEqual(inOrder);
    expect(ran.slice(inOrder.length).sort()).toEqual(atOnce.sort());
  });
});
