#!/usr/bin/env node
import { WORKFLOW_TYPES } from '../contract/operation';
import { createWorker } from './create-worker';
import { installRuntimeLogger, loadWorkerConfig } from './logger';
import { metricsExporter, metricsUrl } from './metrics';

/** Worker entry point: runs until SIGINT/SIGTERM, then drains in-flight work and exits. */
async function main(): Promise<void> {
  const { config, secrets, logger } = loadWorkerConfig(process.argv[2]);
  installRuntimeLogger(logger, metricsExporter(config.metrics));
  const { worker, close } = await createWorker(config, {}, secrets);
  logger.info(
    {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowTypes: Object.values(WORKFLOW_TYPES),
      environments: Object.keys(config.environments),
      metrics: metricsUrl(config.metrics) ?? 'off',
    },
    'Worker started',
  );
  try {
    await worker.run();
  } finally {
    await close();
    logger.info('Worker stopped');
  }
}

main().catch((err) => {
  console.error(`Worker failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
