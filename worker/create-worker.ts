import path from 'node:path';
import { NativeConnection, Worker, type BundleOptions, type WorkerOptions } from '@temporalio/worker';
import { msToNumber } from '@temporalio/common/lib/time';
import { createActivities } from '../activities';
import { createDrivers } from '../drivers';
import type { EnvironmentDrivers } from '../drivers/capabilities';
import { EnvironmentEntities } from '../client/environment-entity';
import { entityTaskQueue } from '../contract/environment';
import { createClient } from '../client/identity';
import { resolveWebhook } from '../activities/event-sinks';
import { connectionOptions } from '../config/connection';
import { ConfigError, type LoadedConfig } from '../config/load';
import { workerSecrets, type Secrets } from '../config/secrets';
import { maskingInterceptor } from './masking';
import { optionsForMemoryBudget } from './memory-budget';
import { collectEnvironmentStates } from './metrics';

/** Written by `npm run build` (scripts/bundle-workflows.ts) next to the compiled worker. */
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '../workflow-bundle.js');

/**
 * What the workflow bundle holds (for `npm run build` and the tests): the workflows, the interceptor
 * that tells handlers who called, and the modules every run shares instead of evaluating its own.
 */
export const workflowBundleOptions = (): Pick<
  BundleOptions,
  'workflowsPath' | 'workflowInterceptorModules' | 'preloadModules'
> => ({
  workflowsPath: require.resolve('../workflows'),
  workflowInterceptorModules: [require.resolve('../workflows/caller')],
  preloadModules: [require.resolve('../workflows/shared')],
});

export interface RunningWorker {
  worker: Worker;
  /** Closes drivers and the connection; call after the worker has stopped. */
  close(): Promise<void>;
}

/** A webhook whose variables are missing or make a url or header that cannot be sent stops the start. */
function checkSinks(config: LoadedConfig, env: NodeJS.ProcessEnv): void {
  for (const sink of config.events.sinks) {
    if (sink.type !== 'webhook') continue;
    try {
      resolveWebhook(sink, env);
    } catch (err) {
      throw new ConfigError(`${config.file}: event sink "${sink.name}": ${(err as Error).message}`);
    }
  }
}

/**
 * The composition root: config -> drivers -> activities -> worker. `secrets` are those the worker
 * holds (config/secrets.ts), masked in every activity's result and error (worker/masking.ts).
 */
export async function createWorker(
  config: LoadedConfig,
  overrides: Partial<WorkerOptions> & { connection?: NativeConnection } = {},
  secrets: Secrets = workerSecrets(config, process.env),
): Promise<RunningWorker> {
  checkSinks(config, process.env);
  const ownConnection = !overrides.connection;
  const connection = overrides.connection ?? (await NativeConnection.connect(connectionOptions(config)));
  const client = createClient(connection, config.temporal.namespace);
  const entities = new EnvironmentEntities(client, config.temporal.taskQueue);
  const drivers = new Map<string, EnvironmentDrivers>();
  const activities = createActivities({
    environments: config.environments,
    policies: config.policies,
    history: config.history,
    schedules: config.schedules,
    people: config.people,
    freezes: config.freezes,
    taskQueue: config.temporal.taskQueue,
    searchAttributes: config.temporal.searchAttributes,
    installation: config.installation,
    events: config.events,
    env: process.env,
    secrets,
    client,
    entities,
    drivers(name) {
      let d = drivers.get(name);
      if (!d) {
        d = createDrivers(config.environments[name], { environment: name, env: process.env, secrets });
        drivers.set(name, d);
      }
      return d;
    },
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    // The bundle `npm run build` made; tests pass their own with `overrides.workflowBundle`.
    workflowBundle: { codePath: WORKFLOW_BUNDLE },
    activities,
    shutdownGraceTime: '10s',
    ...optionsForMemoryBudget(config.worker.memoryBudget),
    ...overrides,
    // Outermost, so that it masks what every other interceptor lets through.
    interceptors: {
      ...overrides.interceptors,
      activity: [maskingInterceptor(secrets), ...(overrides.interceptors?.activity ?? [])],
    },
  });
  const stopEntityWorker = await startEntityWorker(connection, config, activities, secrets, worker);
  // Environment gauges only where an exporter serves them (`metrics.port`).
  const stopGauges =
    config.metrics.port === undefined
      ? () => undefined
      : collectEnvironmentStates(entities, Object.keys(config.environments), {
          intervalMs: msToNumber(config.metrics.gaugeInterval),
        });
  return {
    worker,
    async close() {
      stopGauges();
      try {
        await stopEntityWorker();
      } finally {
        for (const d of drivers.values()) d.close();
        if (ownConnection) await connection.close();
      }
    },
  };
}

/**
 * The worker of the entities' own activities (contract/environment.ts entityTaskQueue), in this
 * process beside the main one, running from now until the returned stop. Should it fail, it stops the
 * main worker too (a worker must not serve operations whose entities cannot recover), and the stop
 * throws its error.
 */
async function startEntityWorker(
  connection: NativeConnection,
  config: LoadedConfig,
  { checkHolder, recoverEnvironment }: ReturnType<typeof createActivities>,
  secrets: Secrets,
  main: Worker,
): Promise<() => Promise<void>> {
  const entityWorker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: entityTaskQueue(config.temporal.taskQueue),
    activities: { checkHolder, recoverEnvironment },
    shutdownGraceTime: '10s',
    interceptors: { activity: [maskingInterceptor(secrets)] },
  });
  let failure: unknown;
  const running = entityWorker.run().catch((err: unknown) => {
    failure = err;
    if (main.getState() === 'RUNNING') main.shutdown();
  });
  return async () => {
    if (entityWorker.getState() === 'RUNNING') entityWorker.shutdown();
    await running;
    if (failure) throw failure;
  };
}
