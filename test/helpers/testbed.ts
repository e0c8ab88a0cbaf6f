import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerOptions } from '@temporalio/worker';
import { createWorker, type RunningWorker } from '../../worker/create-worker';
import { startTestEnvironment, type TestEnvironment } from './environment';
import { createTimeSkippingEnv, workflowBundle } from './temporal';

export interface Testbed {
  temporal: TestWorkflowEnvironment;
  env: TestEnvironment;
  /** Runs `body` while the suite's worker (real activities, real fleet) runs; fails if the worker does. */
  withWorker<T>(body: () => Promise<T>): Promise<T>;
}

/**
 * For a workflow test file: the time-skipping server, a real fleet and one worker, set up once and
 * torn down after. One worker for the whole file, because the environment entity workflow outlives
 * each test and the time-skipping server does not move a workflow off a stopped worker's sticky queue.
 * `options` may be a function, called once the file's earlier `beforeAll` hooks have run (say, to name
 * the port of a receiver they started). `worker` adds worker options, such as activity interceptors that hold an activity back.
 */
export function timeSkippingTestbed(
  options:
    Parameters<typeof startTestEnvironment>[1] | (() => Parameters<typeof startTestEnvironment>[1]) = {},
  workerOptions: Pick<WorkerOptions, 'interceptors'> = {},
): Testbed {
  let worker: RunningWorker | undefined;
  let running: Promise<void> | undefined;
  const bed = {
    async withWorker<T>(body: () => Promise<T>): Promise<T> {
      return Promise.race([body(), running!.then(() => Promise.reject(new Error('the worker stopped')))]);
    },
  } as Testbed;
  beforeAll(async () => {
    bed.temporal = await createTimeSkippingEnv();
    bed.env = await startTestEnvironment(bed.temporal, typeof options === 'function' ? options() : options);
    worker = await createWorker(bed.env.config, {
      connection: bed.temporal.nativeConnection,
      workflowBundle: await workflowBundle(),
      ...workerOptions,
    });
    running = worker.worker.run();
  });
  afterAll(async () => {
    worker?.worker.shutdown();
    await running;
    await worker?.close();
    await bed.env?.stop();
    await bed.temporal?.teardown();
  });
  return bed;
}
