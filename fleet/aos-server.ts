/**
 * What one AOS does, wherever it runs (its own process: aos.ts; inside the supervisor: aos-inprocess.ts):
 * it reads CONFIGURATIONMODE once at start, warms up, then serves health, sign-in and the License
 * configuration page on its own loopback port and enforces that mode until it stops. That is why
 * turning maintenance mode on or off takes a restart.
 */
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { aosRoutes } from './aos-api';
import { openFleetDatabase, readConfigurationMode, whenNotBusy } from './database';
import { closeServer, createJsonServer, listen, routeTo } from './http';
import type { AosOptions } from './schemas';

export interface AosServerOptions extends AosOptions {
  /** The process the AOS runs in, as its health reports it. */
  pid: number;
  logger: Logger;
  /** Asks the supervisor, which owns the fault switches, whether this sign-in must fail: its reason. */
  takeSignInFailure(): Promise<string | undefined>;
  /** Stops a start in progress (the supervisor stops the AOS while it warms up). */
  signal: AbortSignal;
}

export interface RunningAos {
  port: number;
  maintenanceMode: boolean;
  startedAt: string;
  /** Stops serving and closes the database: the AOS has stopped. */
  close(): Promise<void>;
}

/** Starts the AOS; rejects with the reason when it cannot start (an injected failure, an unreachable database). */
export async function startAos(options: AosServerOptions): Promise<RunningAos> {
  const { id, role, database, startupMs, failStart, pid, logger, signal } = options;
  if (failStart) throw new Error(failStart);

  let maintenanceMode: boolean;
  try {
    const startupDb = openFleetDatabase(database, { readonly: true, busyTimeoutMs: 0 });
    try {
      maintenanceMode = await whenNotBusy(() => readConfigurationMode(startupDb));
    } finally {
      startupDb.close();
    }
  } catch (err) {
    throw new Error(`database unreachable: ${(err as Error).message}`, { cause: err });
  }

  await sleep(startupMs, undefined, { signal });
  const db = openFleetDatabase(database, { busyTimeoutMs: 0 });
  const health = { id, role, maintenanceMode, startedAt: new Date().toISOString(), pid };
  const routes = aosRoutes({ health, db, logger, takeSignInFailure: options.takeSignInFailure });
  const server: Server = createJsonServer(routeTo(routes), logger);
  const close = async (): Promise<void> => {
    await closeServer(server);
    db.close();
  };
  const port = await listen(server, 0).catch(async (err: unknown) => {
    db.close();
    throw err;
  });
  if (signal.aborted) {
    await close();
    throw signal.reason;
  }
  logger.info({ port, role, maintenanceMode }, 'AOS ready');
  return { port, maintenanceMode, startedAt: health.startedAt, close };
}
