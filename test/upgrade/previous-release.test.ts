import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { statusQuery, type ServicingResult } from '../../contract/operation';
import type { WindowResult } from '../../contract/window';
import { cli } from '../helpers/cli';
import { entityOf } from '../helpers/entity';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import {
  PREVIOUS_DIST as PREVIOUS,
  PREVIOUS_RELEASE as RELEASE,
  buildPreviousRelease,
  previousReleaseCli,
  writeCurrentConfig,
  workflowTaskWorkers,
  writePreviousReleaseConfig,
} from '../helpers/previous-release';
import { createDevServerEnv } from '../helpers/temporal';
import { exited, startWorkerProcess, stopWorkerProcess } from '../helpers/worker-process';

/**
 * An upgrade while operations are in flight. The previous release (built from git by
 * scripts/previous-release.sh) starts an enable that ends Failed awaiting a decision and a window that
 * stays open on its timer; its worker stops; today's worker takes over, and the operator finishes
 * both with today's CLI. Only the fleet, the workflows' results and queries, and the CLI are asked,
 * never a worker's own storage, so the test holds whatever today's code keeps where.
 */
const CURRENT = path.resolve(__dirname, '../../dist');

const topology = { interactive: 3, batch: 2 };
let temporal: TestWorkflowEnvironment;
let failed: TestEnvironment; // an enable that fails and waits for a decision across the upgrade
let window: TestEnvironment; // a window open across the upgrade
let previousConfig: string;
let currentConfig: string;
const workers: ChildProcess[] = [];

/** A worker as users run it (today's or the previous release's build); its log in the test folder. */
function startWorker(dist: string, configFile: string): ChildProcess {
  const logFile = path.join(failed.dir, `worker-${workers.length + 1}.log`);
  const child = startWorkerProcess({ configFile, logFile, dist });
  workers.push(child);
  return child;
}

/** What users would see: the flag, and each running AOS with its role and the mode it read. */
async function observe(env: TestEnvironment) {
  const aos = await env.fleet.listAos();
  return {
    flag: env.readFlag(),
    running: aos
      .filter((a) => a.status === 'running')
      .map((a) => `${a.id} ${a.role}${a.maintenanceMode ? ' (maintenance)' : ''}`),
  };
}

async function configurationKey(env: TestEnvironment, name: string): Promise<boolean | undefined> {
  const aos = (await env.fleet.listAos()).find((a) => a.role === 'interactive' && a.status === 'running')!;
  return (await env.fleet.listConfigurationKeys(aos.port!)).keys.find((k) => k.name === name)?.enabled;
}

/** The identities of the workers that completed the workflow tasks of a workflow, in order. */
async function workflowTaskWorkersOf(workflowId: string): Promise<string[]> {
  return workflowTaskWorkers(
    (await temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [],
  );
}

beforeAll(async () => {
  buildPreviousRelease();
  temporal = await createDevServerEnv();
  failed = await startTestEnvironment(temporal, { name: 'contoso-failed', topology, faults: true });
  window = await startTestEnvironment(temporal, { name: 'contoso-window', topology });
  currentConfig = writeCurrentConfig(path.join(failed.dir, 'current.yaml'), [failed, window]);
  previousConfig = writePreviousReleaseConfig(path.join(failed.dir, 'previous-release.yaml'), temporal, [
    failed,
    window,
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
  await failed?.stop();
  await window?.stop();
  await temporal?.teardown();
});

it(`finishes operations started by release ${RELEASE} on today's worker: resume and endWindow, environments exactly right`, async () => {
  const previous = startWorker(PREVIOUS, previousConfig);
  const previousCli = previousReleaseCli(previousConfig);

  // On the previous release: an enable whose AOS start keeps failing, and a window with a key change.
  await failed.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
  const enable = await previousCli('enable', failed.name, '-r', 'before the upgrade', '-u', 'oncall');
  expect(enable.code).toBe(6);
  expect(enable.stdout).toContain(`${failed.name}: maintenance-${failed.name} needs a decision.`);
  const opened = await previousCli(
    'window',
    window.name,
    '-d',
    'PT60M',
    '--enable',
    'WHSandTMS',
    '-u',
    'jane',
  );
  expect(opened.stderr).toBe('');
  expect(opened.code).toBe(0);

  const failedOperation = temporal.client.workflow.getHandle(`maintenance-${failed.name}`);
  const windowOperation = temporal.client.workflow.getHandle(`window-${window.name}`);
  expect(await failedOperation.query(statusQuery)).toMatchObject({
    state: 'Failed',
    awaitingDecision: true,
    failure: { step: 'restartAos', error: { type: 'AosStartFailed' } },
  });
  const openStatus = await windowOperation.query(statusQuery);
  expect(openStatus).toMatchObject({ state: 'InMaintenance', step: 'window' });
  expect(new Date(openStatus.window!.endsAt!).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  expect(await configurationKey(window, 'WHSandTMS')).toBe(true);

  // The upgrade: the previous worker stops gracefully, today's takes over the same task queue.
  previous.kill('SIGTERM');
  expect(await exited(previous)).toBe(0);
  const previousWorker = `${previous.pid}@${os.hostname()}`;
  const before = {
    failed: (await workflowTaskWorkersOf(failedOperation.workflowId)).length,
    window: (await workflowTaskWorkersOf(windowOperation.workflowId)).length,
  };
  await failed.fleet.clearFaults();
  startWorker(CURRENT, currentConfig);
  const maint = (...args: string[]) => cli(currentConfig, args);

  // Locks and history move from the previous release's file into Temporal; then they hold as before.
  const upgraded = await maint('upgrade', '--from', path.join(failed.dir, 'history.db'));
  expect(upgraded.code).toBe(0);
  expect(upgraded.stdout).toContain(
    `${failed.name}: 0 of 0 history entries imported; locked by workflow maintenance-${failed.name}`,
  );
  expect(upgraded.stdout).toContain(
    `${window.name}: 1 of 1 history entries imported; locked by workflow window-${window.name}`,
  );
  const intruder = await temporal.client.workflow.start('disableMaintenanceMode', {
    workflowId: 'disable-during-upgrade',
    taskQueue: failed.config.temporal.taskQueue,
    args: [{ environment: failed.name, requestedBy: 'someone' }],
  });
  await expect(intruder.result()).rejects.toMatchObject({
    cause: { type: 'EnvironmentBusy', message: expect.stringContaining(`maintenance-${failed.name}`) },
  });

  const resumed = await maint('resume', failed.name, '-r', 'fault cleared', '-u', 'jane');
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toContain(`${failed.name} is InMaintenance (Succeeded).`);
  expect((await failedOperation.result()) as ServicingResult).toMatchObject({
    result: 'Succeeded',
    state: 'InMaintenance',
    decisions: [{ kind: 'resume', by: 'jane', reason: 'fault cleared', step: 'restartAos' }],
  });
  expect(await observe(failed)).toEqual({
    flag: 1,
    running: ['aos-1 interactive (maintenance)', 'aos-4 batch (maintenance)'],
  });

  const ended = await maint('end-window', window.name, '-r', 'upgrade done', '-u', 'jane');
  expect(ended.stderr).toBe('');
  expect(ended.code).toBe(0);
  expect((await windowOperation.result()) as WindowResult).toMatchObject({
    result: 'Succeeded',
    changes: [{ name: 'WHSandTMS', from: false, to: true }],
    window: { endedEarly: { by: 'jane', reason: 'upgrade done' } },
  });
  expect(await observe(window)).toEqual({
    flag: 0,
    running: ['aos-1 interactive', 'aos-2 interactive', 'aos-3 interactive', 'aos-4 batch', 'aos-5 batch'],
  });
  expect(await configurationKey(window, 'WHSandTMS')).toBe(true);

  // The environments' histories: what the previous release recorded, then today's, and no lock left.
  const historyOf = async (env: TestEnvironment) => {
    const entity = entityOf(temporal.client, env);
    expect(await entity.holder()).toBeUndefined();
    return (await entity.history()).map((e) => `${e.operationId} ${e.action} ${e.result}`);
  };
  expect(await historyOf(failed)).toEqual([`maintenance-${failed.name} enable Succeeded`]);
  expect(await historyOf(window)).toEqual([
    `window-${window.name}-disable disable Succeeded`,
    `window-${window.name}-enable enable Succeeded`,
    `window-${window.name} window Succeeded`,
  ]);

  // Each history holds work of both workers: the previous one up to the upgrade, today's after it.
  for (const [workflowId, upTo] of [
    [failedOperation.workflowId, before.failed],
    [windowOperation.workflowId, before.window],
  ] as const) {
    const identities = await workflowTaskWorkersOf(workflowId);
    expect(new Set(identities.slice(0, upTo))).toEqual(new Set([previousWorker]));
    expect(identities.length).toBeGreaterThan(upTo);
    expect(identities.slice(upTo)).not.toContain(previousWorker);
  }
}, 240_000);
