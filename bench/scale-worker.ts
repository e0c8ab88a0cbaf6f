#!/usr/bin/env node
/**
 * The worker of `npm run bench:scale`: the product's worker (createWorker, as dist/worker/index.js
 * runs it) and, in the same process on the same connection, a worker for the floor workflow on its own
 * task queue, so that both are measured on the same worker process.
 * Usage: node dist/bench/scale-worker.js CONFIG FLOOR_TASK_QUEUE FLOOR_BUNDLE (bundled by the bench, so
 * that webpack does not count in the worker's memory)
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { connectionOptions } from '../config/connection';
import { createWorker } from '../worker/create-worker';
import { installRuntimeLogger, loadWorkerConfig } from '../worker/logger';
import { metricsExporter } from '../worker/metrics';
import { floorActivities } from './floor-activities';

async function main(): Promise<void> {
  const [configFile, floorTaskQueue, floorBundle] = process.argv.slice(2);
  if (!configFile || !floorTaskQueue || !floorBundle)
    throw new Error('usage: scale-worker.js CONFIG FLOOR_TASK_QUEUE FLOOR_BUNDLE');
  const { config, secrets, logger } = loadWorkerConfig(configFile);
  installRuntimeLogger(logger, metricsExporter(config.metrics));
  const connection = await NativeConnection.connect(connectionOptions(config));
  const product = await createWorker(config, { connection }, secrets);
  const floor = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: floorTaskQueue,
    workflowBundle: { codePath: floorBundle },
    activities: floorActivities,
  });
  // SIGTERM and SIGINT shut both down through the SDK's runtime, as for dist/worker/index.js.
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
  try {
    await Promise.all([product.worker.run(), floor.run()]);
  } finally {
    await product.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
