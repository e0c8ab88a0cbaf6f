import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerOptions } from '@temporalio/worker';
import type { LoadedConfig } from '../../config/load';
import { createWorker } from '../../worker/create-worker';
import { cli, type CliRun } from './cli';
import {
  observeEnvironment,
  startTestEnvironment,
  type Observed,
  type TestEnvironment,
  type TestEnvironmentOptions,
} from './environment';
import {
  startFleetOfEnvironments,
  type FleetOfEnvironments,
  type FleetOfEnvironmentsOptions,
} from './fleet-of-environments';
import { createDevServerEnv, workflowBundle } from './temporal';

export interface EndToEnd {
  temporal: TestWorkflowEnvironment;
  env: TestEnvironment;
  /** The operator CLI against this environment's temporal.yaml. */
  maint(...args: string[]): Promise<CliRun>;
  /** What users would see: the flag, and each running AOS with the mode it read. */
  observe(): Promise<Observed>;
  stop(): Promise<void>;
}

/** A worker with the real activities, in this process, as `npm start` runs it; resolves to how to stop it. */
async function runWorker(
  temporal: TestWorkflowEnvironment,
  config: LoadedConfig,
  options: Partial<WorkerOptions> = {},
): Promise<() => Promise<void>> {
  const { worker, close } = await createWorker(config, {
    connection: temporal.nativeConnection,
    workflowBundle: await workflowBundle(),
    ...options,
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
    await close();
  };
}

/**
 * The real dev server, a real fleet, and a worker with the real activities, as `npm start` runs them;
 * `worker`: options of the worker (e.g. an activity interceptor that injects a fault).
 */
export async function startEndToEnd(
  options: TestEnvironmentOptions = {},
  server: Parameters<typeof createDevServerEnv>[0] = {},
  worker: Partial<WorkerOptions> = {},
): Promise<EndToEnd> {
  const temporal = await createDevServerEnv(server);
  const env = await startTestEnvironment(temporal, options);
  const stopWorker = await runWorker(temporal, env.config, worker);
  return {
    temporal,
    env,
    maint: (...args) => cli(env.configFile, args),
    observe: () => observeEnvironment(env.fleet, env.databaseFile),
    async stop() {
      await stopWorker();
      await env.stop();
      await temporal.teardown();
    },
  };
}

export interface FleetEndToEnd {
  temporal: TestWorkflowEnvironment;
  fleet: FleetOfEnvironments;
  /** The operator CLI against the fleet's temporal.yaml. */
  maint(...args: string[]): Promise<CliRun>;
  stop(): Promise<void>;
}

/**
 * As startEndToEnd, with many environments served by one supervisor (see startFleetOfEnvironments);
 * `worker`: options of the worker (e.g. fewer activity slots).
 */
export async function startFleetEndToEnd(
  options: FleetOfEnvironmentsOptions = {},
  worker: Partial<WorkerOptions> = {},
): Promise<FleetEndToEnd> {
  const temporal = await createDevServerEnv();
  const fleet = await startFleetOfEnvironments(temporal, options);
  const stopWorker = await runWorker(temporal, fleet.config, worker);
  return {
    temporal,
    fleet,
    maint: (...args) => cli(fleet.configFile, args),
    async stop() {
      await stopWorker();
      await fleet.stop();
      await temporal.teardown();
    },
  };
}
