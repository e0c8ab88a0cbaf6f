import path from 'node:path';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { EnvironmentDrivers } from '../activities/drivers';
import { createFleetDrivers } from '../activities/fleet-drivers';
import { SqliteServicingStore } from '../activities/servicing-store';
import { connectionOptions } from '../config/connection';
import type { LoadedConfig } from '../config/load';

/** Written by `npm run build` (scripts/bundle-workflows.ts) next to the compiled worker. */
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '../workflow-bundle.js');

export interface RunningWorker {
  worker: Worker;
  /** Closes drivers, the history store and the connection; call after the worker has stopped. */
  close(): Promise<void>;
}

/** The composition root: config -> drivers -> activities -> worker. */
export async function createWorker(
  config: LoadedConfig,
  overrides: Partial<WorkerOptions> & { connection?: NativeConnection } = {},
): Promise<RunningWorker> {
  const ownConnection = !overrides.connection;
  const connection = overrides.connection ?? (await NativeConnection.connect(connectionOptions(config)));
  const store = new SqliteServicingStore(config.history.database);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const drivers = new Map<string, EnvironmentDrivers>();
  const activities = createActivities({
    environments: config.environments,
    policies: config.policies,
    searchAttributes: config.temporal.searchAttributes,
    store,
    async isRunning(workflowId, runId) {
      try {
        const { status } = await client.workflow.getHandle(workflowId, runId).describe();
        return status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
    drivers(name) {
      let d = drivers.get(name);
      if (!d) {
        d = createFleetDrivers(config.environments[name]);
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
  return {
    worker,
    async close() {
      for (const d of drivers.values()) d.close();
      store.close();
      if (ownConnection) await connection.close();
    },
  };
}
