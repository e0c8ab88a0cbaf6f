import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createDrivers } from '../drivers';
import type { EnvironmentDrivers } from '../drivers/capabilities';
import { EnvironmentEntities } from '../client/environment-entity';
import { createClient } from '../client/identity';
import { connectionOptions } from '../config/connection';
import type { LoadedConfig } from '../config/load';
import { collectEnvironmentStates } from './metrics';

/** Written by `npm run build` (scripts/bundle-workflows.ts) next to the compiled worker. */
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '../workflow-bundle.js');

/** What the workflow bundle holds (for `npm run build` and the tests): the workflows, and the interceptor that tells handlers who called. */
export const workflowBundleOptions = (): { workflowsPath: string; workflowInterceptorModules: string[] } => ({
  workflowsPath: require.resolve('../workflows'),
  workflowInterceptorModules: [require.resolve('../workflows/caller')],
});

export interface RunningWorker {
  worker: Worker;
  /** Closes drivers and the connection; call after the worker has stopped. */
  close(): Promise<void>;
}

/** The composition root: config -> drivers -> activities -> worker. */
export async function createWorker(
  config: LoadedConfig,
  overrides: Partial<WorkerOptions> & { connection?: NativeConnection } = {},
): Promise<RunningWorker> {
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
    taskQueue: config.temporal.taskQueue,
    searchAttributes: config.temporal.searchAttributes,
    installation: config.installation,
    events: config.events,
    env: process.env,
    client,
    entities,
    drivers(name) {
      let d = drivers.get(name);
      if (!d) {
        d = createDrivers(config.environments[name], { environment: name, env: process.env });
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
    ...overrides,
  });
  // Environment gauges only where an exporter serves them (`metrics.port`).
  const stopGauges =
    config.metrics.port === undefined
      ? () => undefined
      : collectEnvironmentStates(entities, Object.keys(config.environments));
  return {
    worker,
    async close() {
      stopGauges();
      for (const d of drivers.values()) d.close();
      if (ownConnection) await connection.close();
    },
  };
}
