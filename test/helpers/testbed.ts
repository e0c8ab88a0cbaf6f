import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createWorker } from '../../worker/create-worker';
import { startTestEnvironment, type TestEnvironment } from './environment';
import { createTimeSkippingEnv, workflowBundle } from './temporal';

export interface Testbed {
  temporal: TestWorkflowEnvironment;
  env: TestEnvironment;
  /** Runs `body` with a worker on the real activities against the real fleet. */
  withWorker<T>(body: () => Promise<T>): Promise<T>;
}

/** For a workflow test file: the time-skipping server and a real fleet, set up once, torn down after. */
export function timeSkippingTestbed(options: Parameters<typeof startTestEnvironment>[1] = {}): Testbed {
  const bed = {
    async withWorker<T>(body: () => Promise<T>): Promise<T> {
      const { worker, close } = await createWorker(bed.env.config, {
        connection: bed.temporal.nativeConnection,
        workflowBundle: await workflowBundle(),
      });
      try {
        return await worker.runUntil(body);
      } finally {
        await close();
      }
    },
  } as Testbed;
  beforeAll(async () => {
    bed.temporal = await createTimeSkippingEnv();
    bed.env = await startTestEnvironment(bed.temporal, options);
  });
  afterAll(async () => {
    await bed.env?.stop();
    await bed.temporal?.teardown();
  });
  return bed;
}
