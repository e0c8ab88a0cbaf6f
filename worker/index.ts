#!/usr/bin/env node
import { WORKFLOW_TYPES } from '../contract/operation';
import { createWorker } from './create-worker';
import { installRuntimeLogger, loadWorkerConfig } from './logger';
import { metricsExporter, metricsUrl } from './metrics';

/** Worker entry point: runs until SIGINT/SIGTERM, then drains in-flight work and exits. */
async function main({ config, secrets, logger }: ReturnType<typeof loadWorkerConfig>): Promise<void> {
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

const loaded = loadWorkerConfig(process.argv[2]);
main(loaded).catch((err) => {
  // Through the worker's logger, which masks secrets: a failed connection may quote what it was given.
  loaded.logger.fatal(`Worker failed: ${err instanceof Error ? err.message : String(err)}`);
  loaded.logger.flush(() => process.exit(1));
});
