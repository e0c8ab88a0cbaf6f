#!/usr/bin/env node
/**
 * `npm start`, the embedded default: the Temporal dev server with its Web UI, the fleet of every
 * local environment, and the worker, in one process tree that Ctrl-C stops cleanly.
 */
import path from 'node:path';
import { EXAMPLE_INPUT, WORKFLOW_TYPES } from '../contract/operation';
import { EXAMPLE_WINDOW_INPUT } from '../contract/window';
import { createClient } from '../client/identity';
import { syncSchedules } from '../client/schedules';
import { ensureSearchAttributes } from '../client/search-attributes';
import { driverSummary } from '../drivers';
import { startLocalFleets } from '../drivers/fleet/local';
import { createWorker } from '../worker/create-worker';
import { installRuntimeLogger, loadWorkerConfig } from '../worker/logger';
import { metricsExporter, metricsUrl } from '../worker/metrics';
import { ensureDevServer } from './dev-server';

async function main(): Promise<void> {
  const { config, secrets, logger } = loadWorkerConfig(process.argv[2]);
  const logs = path.join(path.dirname(config.devServer.database), 'logs');
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((e) => logger.error(e, 'Clean-up step failed'));
  };

  try {
    const server = await ensureDevServer(config, path.join(logs, 'temporal.log'));
    cleanups.push(server.stop);
    logger.info(
      { address: config.temporal.address },
      server.started ? 'Temporal dev server started' : 'Reusing the Temporal server already running',
    );
    const added = await ensureSearchAttributes(server.connection, config.temporal.namespace);
    if (added.length > 0) logger.info({ added }, 'Registered search attributes');

    cleanups.push(...(await startLocalFleets(config, logs, logger)));

    const client = createClient(server.connection, config.temporal.namespace);
    // Schedules are an extra: a server that refuses them must not keep the worker from serving operations.
    try {
      for (const line of await syncSchedules(client, config)) {
        logger[line.change === 'refused' || line.change === 'conflict' ? 'warn' : 'info'](
          { schedule: line.id, change: line.change },
          `Schedule ${line.id} ${line.change}: ${line.detail}`,
        );
      }
    } catch (err) {
      logger.error(
        { err },
        'Schedule sync failed; the worker starts anyway. Fix the cause, then run `npx maint schedule sync`.',
      );
    }

    installRuntimeLogger(logger, metricsExporter(config.metrics));
    const { worker, close } = await createWorker(config, {}, secrets);
    cleanups.push(close);

    const ui = `http://${config.devServer.ip === '127.0.0.1' ? 'localhost' : config.devServer.ip}:${config.devServer.uiPort}`;
    process.stdout.write(
      [
        '',
        `  Temporal Web UI   ${server.started ? ui : `(the server at ${config.temporal.address})`}`,
        `  Start a workflow  ${ui}/namespaces/${config.temporal.namespace}/workflows/start-workflow`,
        `  Task queue        ${config.temporal.taskQueue}`,
        `  Workflow types    ${WORKFLOW_TYPES.enable}, ${WORKFLOW_TYPES.disable}  input: ${JSON.stringify(EXAMPLE_INPUT)}`,
        `                    ${WORKFLOW_TYPES.window}  input: ${JSON.stringify(EXAMPLE_WINDOW_INPUT)}`,
        `  Schedules         ${config.schedules.map((s) => s.id).join(', ') || 'none declared'} (npx maint schedule list)`,
        `  Environments      ${Object.entries(config.environments)
          .map(([name, env]) => `${name} (${driverSummary(env)})`)
          .join(', ')}`,
        `  CLI               npx maint enable contoso-sandbox --reason "..."   (then: status, disable)`,
        `  Logs              ${logs}`,
        `  Metrics           ${metricsUrl(config.metrics) ?? 'off (metrics.port in temporal.yaml)'}`,
        '  Ctrl-C stops everything.',
        '',
      ].join('\n') + '\n',
    );
    await worker.run(); // returns after SIGINT/SIGTERM once in-flight work has drained
  } finally {
    await cleanup();
    logger.info('Stopped');
  }
}

main().catch((err) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
