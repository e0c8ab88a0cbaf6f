/**
 * The fleet supervisor: the environment's control plane. It keeps the AOS processes that FLEETINSTANCES
 * says should run, and serves an HTTP API to list, start, stop, restart and crash them and, when
 * started with `--faults enabled` (tests, demos), to inject faults.
 * Usage: node dist/fleet/supervisor.js --environment NAME --database FILE --port N --interactive N --batch N --aos-startup-ms N [--faults enabled]
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { AosProcess, AosStartError } from './aos-process';
import { parseArgv } from './argv';
import type { FleetDatabase } from './database';
import {
  ensureSchema,
  isDatabaseReachable,
  listInstances,
  openFleetDatabase,
  setInstanceDesired,
} from './database';
import { FaultSwitches } from './faults';
import type { JsonReply, Route } from './http';
import { closeServer, createJsonServer, HttpError, listen, readBody } from './http';
import type { AosInstance, SupervisorHealth, SupervisorOptions } from './schemas';
import { faultsPatchSchema, supervisorOptionsSchema } from './schemas';

export interface Supervisor {
  url: string;
  close(): Promise<void>;
}

export async function createSupervisor(
  options: SupervisorOptions,
  logger: Logger = stderrLogger(),
): Promise<Supervisor> {
  const db = openFleetDatabase(options.database);
  ensureSchema(db, options);
  const faults = new FaultSwitches(db);
  const config = { databaseFile: options.database, startupMs: options.aosStartupMs, faults, logger };
  const records = listInstances(db);
  const instances = new Map(records.map((r) => [r.id, new AosProcess(r.id, r.role, config)]));

  const server = createJsonServer(routes({ options, db, faults, instances }), logger);
  const port = await listen(server, options.port);
  // The environment comes back as it was: exactly the instances that should run are started.
  await Promise.all(
    records
      .filter((r) => r.desired === 'running')
      .map((r) => {
        const aos = instances.get(r.id)!;
        return aos.exclusive(() => startQuietly(aos));
      }),
  );

  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      const serverClosed = closeServer(server);
      // Stopping on shutdown is not an operator's decision: DESIRED stays as it is.
      await Promise.all([...instances.values()].map((aos) => aos.shutdown()));
      await serverClosed;
      faults.clear();
      db.close();
    },
  };
}

/** A failed start at boot is already recorded on the instance (stopped, lastError); the others go on. */
async function startQuietly(aos: AosProcess): Promise<void> {
  await aos.start().catch((err: unknown) => {
    if (!(err instanceof AosStartError)) throw err;
  });
}

interface SupervisorContext {
  options: SupervisorOptions;
  db: FleetDatabase;
  faults: FaultSwitches;
  instances: Map<string, AosProcess>;
}

const OPERATIONS = {
  start: (db: FleetDatabase, aos: AosProcess) => {
    setInstanceDesired(db, aos.id, 'running');
    return aos.start();
  },
  stop: (db: FleetDatabase, aos: AosProcess) => {
    setInstanceDesired(db, aos.id, 'stopped');
    return aos.stop();
  },
  restart: (db: FleetDatabase, aos: AosProcess) => {
    setInstanceDesired(db, aos.id, 'running');
    return aos.restart();
  },
  // A crash is not a decision either: DESIRED is left alone.
  crash: (_db: FleetDatabase, aos: AosProcess) => aos.crash(),
};

const ok = (body: unknown): JsonReply => ({ status: 200, body });

function routes({ options, db, faults, instances }: SupervisorContext): Route[] {
  const find = (id: string): AosProcess => {
    const aos = instances.get(id);
    if (!aos)
      throw new HttpError(404, `no AOS instance named "${id}" (known: ${[...instances.keys()].join(', ')})`);
    return aos;
  };
  const snapshot = (id: string): AosInstance => {
    const { runtime } = find(id);
    return { ...listInstances(db).find((r) => r.id === id)!, ...runtime };
  };
  return [
    {
      method: 'GET',
      path: /^\/health$/,
      handle: () => {
        const health: SupervisorHealth = {
          environment: options.environment,
          pid: process.pid,
          databaseReachable: isDatabaseReachable(options.database),
          faultsEnabled: options.faults,
        };
        return ok(health);
      },
    },
    {
      method: 'GET',
      path: /^\/aos$/,
      handle: () => ok({ instances: listInstances(db).map((r) => ({ ...r, ...find(r.id).runtime })) }),
    },
    { method: 'GET', path: /^\/aos\/([^/]+)$/, handle: ([id]) => ok({ instance: snapshot(id) }) },
    {
      method: 'POST',
      path: /^\/aos\/([^/]+)\/(start|stop|restart|crash)$/,
      handle: async ([id, operation]) => {
        const aos = find(id);
        try {
          await aos.exclusive(() => OPERATIONS[operation as keyof typeof OPERATIONS](db, aos));
        } catch (err) {
          if (err instanceof AosStartError) throw new HttpError(503, err.message);
          throw err;
        }
        return ok({ instance: snapshot(id) });
      },
    },
    ...faultRoutes(options.faults, faults, find),
  ];
}

const FAULTS_DISABLED =
  'fault injection is disabled on this supervisor; it is for tests and demos: start the supervisor with ' +
  '"--faults enabled" (startFleet({ faults: true }), or "faults: true" on the environment in temporal.yaml)';

/** The /faults switches; a supervisor started without them answers 403 and changes nothing. */
function faultRoutes(enabled: boolean, faults: FaultSwitches, find: (id: string) => AosProcess): Route[] {
  const gate =
    (handle: Route['handle']): Route['handle'] =>
    (params, req) => {
      if (!enabled) throw new HttpError(403, FAULTS_DISABLED);
      return handle(params, req);
    };
  return [
    { method: 'GET', path: /^\/faults$/, handle: gate(() => ok(faults.current)) },
    {
      method: 'PUT',
      path: /^\/faults$/,
      handle: gate(async (_params, req) => {
        const patch = await readBody(req, faultsPatchSchema);
        Object.keys({ ...patch.startFailures, ...patch.startDelayMs, ...patch.signInFailures }).forEach(find);
        return ok(faults.apply(patch));
      }),
    },
    { method: 'DELETE', path: /^\/faults$/, handle: gate(() => ok(faults.clear())) },
  ];
}

function stderrLogger(): Logger {
  return pino({ base: { component: 'fleet-supervisor', pid: process.pid } }, pino.destination(2));
}

async function main(): Promise<void> {
  const options = parseArgv(supervisorOptionsSchema, process.argv.slice(2));
  const logger = stderrLogger().child({ environment: options.environment });
  const supervisor = await createSupervisor(options, logger);
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', url: supervisor.url, environment: options.environment })}\n`,
  );
  logger.info({ url: supervisor.url }, 'fleet supervisor ready');

  let closing: Promise<void> | undefined;
  const stop = (reason: string): void => {
    if (closing) return;
    closing = supervisor.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'fleet supervisor did not stop cleanly');
        process.exit(1);
      },
    );
    logger.info({ reason }, 'fleet supervisor stopping');
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Launched by startFleet with an IPC channel: a launcher that is gone takes its fleet with it.
  process.once('disconnect', () => stop('launcher gone'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`fleet supervisor failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
