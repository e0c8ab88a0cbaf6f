import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createWorker } from '../../worker/create-worker';
import { cli, type CliRun } from './cli';
import { startTestEnvironment, type TestEnvironment } from './environment';
import { createDevServerEnv, workflowBundle } from './temporal';

export interface EndToEnd {
  temporal: TestWorkflowEnvironment;
  env: TestEnvironment;
  /** The operator CLI against this environment's temporal.yaml. */
  maint(...args: string[]): Promise<CliRun>;
  /** What users would see: the flag, and each running AOS with the mode it read. */
  observe(): Promise<{ flag: number; running: string[] }>;
  stop(): Promise<void>;
}

/** The real dev server, a real fleet, and a worker with the real activities, as `npm start` runs them. */
export async function startEndToEnd(
  options: Parameters<typeof startTestEnvironment>[1] = {},
  server: Parameters<typeof createDevServerEnv>[0] = {},
): Promise<EndToEnd> {
  const temporal = await createDevServerEnv(server);
  const env = await startTestEnvironment(temporal, options);
  const { worker, close } = await createWorker(env.config, {
    connection: temporal.nativeConnection,
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  return {
    temporal,
    env,
    maint: (...args) => cli(env.configFile, args),
    async observe() {
      const aos = await env.fleet.listAos();
      return {
        flag: env.readFlag(),
        running: aos
          .filter((a) => a.status === 'running')
          .map((a) => `${a.id}${a.maintenanceMode ? ' (maintenance)' : ''}`),
      };
    },
    async stop() {
      worker.shutdown();
      await running;
      await close();
      await env.stop();
      await temporal.teardown();
    },
  };
}
