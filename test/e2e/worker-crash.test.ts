import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { entityOf } from '../helpers/entity';
import { logQuery, type ServicingResult } from '../../contract/operation';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { createDevServerEnv } from '../helpers/temporal';
import { startWorkerProcess, stopWorkerProcess } from '../helpers/worker-process';
import { waitForStatus } from '../helpers/status';

let temporal: TestWorkflowEnvironment;
let env: TestEnvironment;
const workers: ChildProcess[] = [];

/** The worker as users run it: its own process, from the built code, with the test's temporal.yaml. */
function startWorker(): ChildProcess {
  const logFile = path.join(env.dir, `worker-${workers.length + 1}.log`);
  const child = startWorkerProcess({ configFile: env.configFile, logFile });
  workers.push(child);
  return child;
}

beforeAll(async () => {
  temporal = await createDevServerEnv();
  // A short heartbeat timeout, so the killed worker's activity is found dead quickly.
  env = await startTestEnvironment(temporal, { heartbeatTimeout: '2s', faults: true });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
  await env?.stop();
  await temporal?.teardown();
});

it('finishes an operation whose worker is killed with SIGKILL mid-restart, recording it exactly once', async () => {
  const first = startWorker();
  await env.fleet.setFaults({ startDelayMs: { 'aos-1': 3000 } });
  const handle = await temporal.client.workflow.start('enableMaintenanceMode', {
    workflowId: 'crash-mid-restart',
    taskQueue: env.config.temporal.taskQueue,
    args: [{ environment: env.name, requestedBy: 'test', reason: 'worker crash' }],
  });
  await waitForStatus(handle, (s) => s.step === 'restartAos');
  await new Promise((r) => setTimeout(r, 500)); // the restart of aos-1 is in flight now
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  startWorker();

  const result = (await handle.result()) as ServicingResult;
  expect(result).toMatchObject({ result: 'Succeeded', state: 'InMaintenance', decisions: [] });
  const running = (await env.fleet.listAos()).filter((a) => a.status === 'running');
  expect(running.map((a) => [a.id, a.maintenanceMode])).toEqual([
    ['aos-1', true],
    ['aos-4', true],
  ]);
  expect(env.readFlag()).toBe(1);

  const log = await handle.query(logQuery);
  const aos1 = log.entries.filter((e) => e.kind === 'attempt' && e.aos === 'aos-1');
  expect(aos1.map((e) => [e.attempt, e.outcome, e.error?.type])).toEqual([
    [1, 'failed', 'Timeout'],
    [2, 'succeeded', undefined],
  ]);

  const entity = entityOf(temporal.client, env);
  expect((await entity.history()).filter((e) => e.runId === handle.firstExecutionRunId)).toHaveLength(1);
  expect(await entity.holder()).toBeUndefined();
});
