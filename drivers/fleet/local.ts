import path from 'node:path';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../config/load';
import { FleetClient } from '../../fleet/client';
import { startFleet } from '../../fleet/launch';

/**
 * `npm start`: a supervisor for every environment that uses the fleet driver, unless one already
 * answers on its port. Returns how to stop the ones it started.
 */
export async function startLocalFleets(
  config: LoadedConfig,
  logs: string,
  logger: Logger,
): Promise<(() => Promise<void>)[]> {
  const stops: (() => Promise<void>)[] = [];
  for (const [name, env] of Object.entries(config.environments)) {
    if (env.driver !== 'fleet') continue;
    const url = `http://127.0.0.1:${env.supervisorPort}`;
    const running = await new FleetClient(url, { timeoutMs: 1000 }).health().catch(() => undefined);
    if (running) {
      logger.info({ environment: name, url }, 'Reusing the fleet supervisor already running');
      continue;
    }
    const fleet = await startFleet({
      environment: name,
      databaseFile: env.database,
      port: env.supervisorPort,
      topology: env.topology,
      aosStartupMs: env.aosStartupMs,
      logFile: path.join(logs, `fleet-${name}.log`),
      faults: env.faults,
    });
    stops.push(fleet.stop);
    logger.info({ environment: name, url: fleet.url }, 'Fleet started');
  }
  return stops;
}
