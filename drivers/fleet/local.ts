import path from 'node:path';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../config/load';
import { FleetClient } from '../../fleet/client';
import { startSupervisor } from '../../fleet/launch';
import type { FleetSettings } from './settings';

/**
 * `npm start`: one supervisor per supervisorPort, serving every environment that uses the fleet driver
 * on that port, unless one already answers there. Returns how to stop the ones it started.
 */
export async function startLocalFleets(
  config: LoadedConfig,
  logs: string,
  logger: Logger,
): Promise<(() => Promise<void>)[]> {
  const byPort = new Map<number, [string, FleetSettings][]>();
  for (const [name, env] of Object.entries(config.environments)) {
    if (env.driver !== 'fleet') continue;
    byPort.set(env.supervisorPort, [...(byPort.get(env.supervisorPort) ?? []), [name, env]]);
  }
  const stops: (() => Promise<void>)[] = [];
  for (const [port, environments] of byPort) {
    const names = environments.map(([name]) => name);
    const url = `http://127.0.0.1:${port}`;
    const root = new FleetClient(url, { timeoutMs: 1000 });
    const running = await root.health().catch(() => undefined);
    if (running) {
      // A supervisor from before shared supervisors serves one environment and has no list.
      const served = await root.listEnvironments().catch(() => [running.environment]);
      const missing = names.filter((name) => !served.includes(name));
      if (missing.length > 0)
        logger.warn(
          { missing, url },
          'The fleet supervisor already running does not serve these environments: stop it and start again',
        );
      else logger.info({ environments: names, url }, 'Reusing the fleet supervisor already running');
      continue;
    }
    const supervisor = await startSupervisor({
      spec: {
        port,
        // config/schema.ts makes environments on one port agree on it.
        faults: environments[0][1].faults,
        environments: environments.map(([name, env]) => ({
          environment: name,
          databaseFile: env.database,
          topology: env.topology,
          aosStartupMs: env.aosStartupMs,
          aosMode: env.aosMode,
        })),
      },
      logFile: path.join(logs, names.length === 1 ? `fleet-${names[0]}.log` : `fleet-${port}.log`),
    });
    stops.push(supervisor.stop);
    logger.info({ environments: names, url: supervisor.url }, 'Fleet started');
  }
  return stops;
}
