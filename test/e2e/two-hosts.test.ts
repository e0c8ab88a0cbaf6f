import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, type ApplicationFailure, type WorkflowHandle } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentWorkflowId } from '../../contract/environment';
import { operationWorkflowId, type Action } from '../../contract/operation';
import { cli } from '../helpers/cli';
import { entityOf } from '../helpers/entity';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { createDevServerEnv } from '../helpers/temporal';
import { startWorkerProcess, stopWorkerProcess } from '../helpers/worker-process';
import { until } from '../helpers/until';

/**
 * Workers on two hosts: each runs from a folder of its own with its own copy of temporal.yaml and no
 * shared file, against one Temporal server and one environment. A third folder runs no worker.
 * The servicing lock, the state and the history live in Temporal, so every host sees the same.
 */
let temporal: TestWorkflowEnvironment;
let env: TestEnvironment;
const hosts: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const workers: Partial<Record<'a' | 'b', ChildProcess>> = {};

function host(name: 'a' | 'b' | 'c'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `maint-host-${name}-`));
  fs.copyFileSync(env.configFile, path.join(dir, 'temporal.yaml'));
  return dir;
}

function startHost(name: 'a' | 'b'): void {
  workers[name] = startWorkerProcess({
    configFile: 'temporal.yaml',
    cwd: hosts[name],
    logFile: path.join(env.dir, `worker-${name}.log`),
  });
}

async function stopHost(name: 'a' | 'b', signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (workers[name]) await stopWorkerProcess(workers[name], signal);
  workers[name] = undefined;
}

const maint = (on: 'a' | 'b' | 'c', ...args: string[]) => cli('temporal.yaml', args, { cwd: hosts[on] });
const entity = () => entityOf(temporal.client, env);

/** Starts an operation as the Web UI does: any workflow ID. */
const startFromUi = (workflowId: string, action: Action) =>
  temporal.client.workflow.start(action === 'enable' ? 'enableMaintenanceMode' : 'disableMaintenanceMode', {
    workflowId,
    taskQueue: env.config.temporal.taskQueue,
    args: [{ environment: env.name, requestedBy: 'ui', reason: workflowId }],
  });

beforeAll(async () => {
  temporal = await createDevServerEnv();
  // A short heartbeat timeout, so an activity of a killed worker is found dead quickly.
  env = await startTestEnvironment(temporal, { faults: true, heartbeatTimeout: '2s' });
  hosts.a = host('a');
  hosts.b = host('b');
  hosts.c = host('c');
});
afterAll(async () => {
  await stopHost('a');
  await stopHost('b');
  for (const dir of Object.values(hosts)) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await env?.stop();
  await temporal?.teardown();
});

describe('workers on two hosts with no shared files', () => {
  it('refuses a second operation while one Failed on a stopped host holds the environment; resume completes it on the other host', async () => {
    startHost('a');
    await env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const failed = await maint('a', 'enable', env.name, '-u', 'jane', '-r', 'keys');
    expect(failed.code).toBe(6);
    await stopHost('a'); // a rolling deploy
    startHost('b');

    const other = await startFromUi('ui-disable-during-failure', 'disable');
    const error = await other.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('EnvironmentBusy');
    expect(cause.message).toContain(
      `${env.name} is being serviced by workflow ${operationWorkflowId(env.name)}`,
    );

    await env.fleet.clearFaults();
    const resumed = await maint('b', 'resume', env.name, '-u', 'oncall', '-r', 'aos-1 fixed');
    expect(resumed.code).toBe(0);
    expect(env.readFlag()).toBe(1);
    expect(await entity().holder()).toBeUndefined();
    expect((await entity().history(1))[0]).toMatchObject({
      operationId: operationWorkflowId(env.name),
      result: 'Succeeded',
      decisions: [{ kind: 'resume', by: 'oncall' }],
    });
  });

  it('runs exactly one of each of 20 pairs of operations started at the same moment on two workers', async () => {
    startHost('a');
    const identities = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const action: Action = i % 2 === 0 ? 'disable' : 'enable'; // the first test left it in maintenance
      const pair = await Promise.all([
        startFromUi(`pair-${i}-x`, action),
        startFromUi(`pair-${i}-y`, action),
      ]);
      const outcomes = await Promise.allSettled(pair.map((h) => h.result()));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect([won.length, lost.length]).toEqual([1, 1]);
      expect(((lost[0].reason as WorkflowFailedError).cause as ApplicationFailure).type).toBe(
        'EnvironmentBusy',
      );
      for (const h of pair) {
        const { events } = await h.fetchHistory();
        for (const e of events ?? []) {
          const identity = e.workflowTaskCompletedEventAttributes?.identity;
          if (identity) identities.add(identity);
        }
      }
    }
    expect(identities.size).toBe(2); // both hosts did part of the work
    const history = await entity().history(100);
    expect(history.filter((e) => e.operationId.startsWith('pair-'))).toHaveLength(20);
    expect(await entity().holder()).toBeUndefined();
  });

  it('shows the same history from either host and from a machine that runs no worker', async () => {
    const [a, b, c] = await Promise.all([
      maint('a', 'history', env.name, '--json'),
      maint('b', 'history', env.name, '--json'),
      maint('c', 'history', env.name, '--json'),
    ]);
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    expect(JSON.parse(a.stdout)).toHaveLength(21);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    const status = await maint('c', 'status', env.name);
    expect(status.stdout).toContain(`${env.name}: InMaintenance\n  servicing lock: free`);
  });

  it.each(['acquireLock', 'releaseLock'])(
    'neither loses nor doubles the history entry when a worker is killed while the entity handles %s',
    async (update) => {
      await stopHost('b');
      const action: Action = env.readFlag() === 1 ? 'disable' : 'enable';
      const workflowId = `killed-during-${update}`;
      const seen = await entityHistoryLength();
      const handle = await startFromUi(workflowId, action);
      await untilEntityHandles(update, seen);
      await stopHost('a', 'SIGKILL');
      startHost('b');
      await expect(resultWithin(handle, 90_000)).resolves.toMatchObject({ result: 'Succeeded' });
      startHost('a');
      const entries = (await entity().history(500)).filter((e) => e.operationId === workflowId);
      expect(entries).toHaveLength(1);
      expect(entries[0].result).toBe('Succeeded');
      expect(await entity().holder()).toBeUndefined();
    },
  );
});

/**
 * The operation's result, or after `ms` an error that says where things stand: these cases have hung
 * under load in full runs (never alone), and jest's own timeout says nothing of why.
 */
async function resultWithin(handle: WorkflowHandle, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => void standing(handle.workflowId).then((s) => reject(new Error(s))), ms);
  });
  try {
    return await Promise.race([handle.result(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The pending activities of the operation and of the entity, and the last lines of each host's log. */
const { PendingActivityState } = proto.api.enums.v1;

async function standing(workflowId: string): Promise<string> {
  const lines = [`no result after the deadline; pending:`];
  for (const id of [workflowId, environmentWorkflowId(env.name)]) {
    const { raw } = await temporal.client.workflow.getHandle(id).describe();
    for (const a of raw.pendingActivities ?? [])
      lines.push(
        `  ${id}: ${a.activityType?.name} ${PendingActivityState[a.state ?? 0]} attempt ${a.attempt} ${a.lastFailure?.message ?? ''}`,
      );
  }
  for (const name of ['a', 'b']) {
    const log = path.join(env.dir, `worker-${name}.log`);
    const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-15) : [];
    lines.push(`worker-${name}.log:`, ...tail.map((l) => `  ${l.slice(0, 300)}`));
  }
  return lines.join('\n');
}

async function entityHistoryLength(): Promise<number> {
  const { events } = await temporal.client.workflow.getHandle(environmentWorkflowId(env.name)).fetchHistory();
  return events?.length ?? 0;
}

/** Until the entity has accepted an update of that name after event `after` (polled from the server). */
async function untilEntityHandles(update: string, after: number): Promise<void> {
  const handle = temporal.client.workflow.getHandle(environmentWorkflowId(env.name));
  await until(
    async () => (await handle.fetchHistory()).events ?? [],
    (events) =>
      events
        .slice(after)
        .some(
          (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === update,
        ),
    `the entity to accept ${update}`,
    { everyMs: 5 },
  );
}
