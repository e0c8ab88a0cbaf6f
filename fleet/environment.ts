/**
 * One environment a supervisor serves: its database, its AOS instances (kept as FLEETINSTANCES says),
 * its fault switches and its HTTP API (list, start, stop, restart and crash AOS; /faults). Nothing is
 * shared with the other environments of the same supervisor.
 */
import type { Logger } from 'pino';
import type { AosLauncher } from './aos-controller';
import { AosController, AosStartError } from './aos-controller';
import { launchAosInProcess } from './aos-inprocess';
import { launchAosProcess } from './aos-process';
import type { FleetDatabase } from './database';
import {
  addBatchJob,
  addSession,
  endSession,
  ensureSchema,
  listBatchJobs,
  listSessions,
  isDatabaseReachable,
  listInstances,
  openFleetDatabase,
  setInstanceDesired,
} from './database';
import { FaultSwitches } from './faults';
import type { JsonReply, Route } from './http';
import { HttpError, readBody } from './http';
import type { AosInstance, AosMode, EnvironmentSpec, SupervisorHealth } from './schemas';
import { batchJobRequestSchema, faultsPatchSchema, sessionRequestSchema } from './schemas';

const LAUNCHERS: Record<AosMode, AosLauncher> = { process: launchAosProcess, inprocess: launchAosInProcess };

export interface ServedEnvironment {
  name: string;
  routes: Route[];
  /** Starts exactly the instances that should run, as the environment was left. */
  boot(): Promise<void>;
  close(): Promise<void>;
}

export function openEnvironment(
  spec: EnvironmentSpec,
  faultsEnabled: boolean,
  logger: Logger,
): ServedEnvironment {
  const db = openFleetDatabase(spec.databaseFile);
  ensureSchema(db, spec.topology);
  const faults = new FaultSwitches(db);
  const config = {
    databaseFile: spec.databaseFile,
    startupMs: spec.aosStartupMs,
    faults,
    launch: LAUNCHERS[spec.aosMode],
    logger,
  };
  const records = listInstances(db);
  const instances = new Map(records.map((r) => [r.id, new AosController(r.id, r.role, config)]));
  const context = { spec, faultsEnabled, db, faults, instances };
  return {
    name: spec.environment,
    routes: [...aosRoutes(context), ...faultRoutes(context), ...workloadRoutes(context)],
    async boot() {
      await Promise.all(
        records
          .filter((r) => r.desired === 'running')
          .map((r) => {
            const aos = instances.get(r.id)!;
            return aos.exclusive(() => startQuietly(aos));
          }),
      );
    },
    async close() {
      // Stopping on shutdown is not an operator's decision: DESIRED stays as it is.
      await Promise.all([...instances.values()].map((aos) => aos.shutdown()));
      faults.clear();
      db.close();
    },
  };
}

/** A failed start at boot is already recorded on the instance (stopped, lastError); the others go on. */
async function startQuietly(aos: AosController): Promise<void> {
  await aos.start().catch((err: unknown) => {
    if (!(err instanceof AosStartError)) throw err;
  });
}

interface EnvironmentContext {
  spec: EnvironmentSpec;
  faultsEnabled: boolean;
  db: FleetDatabase;
  faults: FaultSwitches;
  instances: Map<string, AosController>;
}

const OPERATIONS = {
  start: (db: FleetDatabase, aos: AosController) => {
    setInstanceDesired(db, aos.id, 'running');
    return aos.start();
  },
  stop: (db: FleetDatabase, aos: AosController) => {
    setInstanceDesired(db, aos.id, 'stopped');
    return aos.stop();
  },
  restart: (db: FleetDatabase, aos: AosController) => {
    setInstanceDesired(db, aos.id, 'running');
    return aos.restart();
  },
  // A crash is not a decision either: DESIRED is left alone.
  crash: (_db: FleetDatabase, aos: AosController) => aos.crash(),
};

const ok = (body: unknown): JsonReply => ({ status: 200, body });

function finder(instances: Map<string, AosController>): (id: string) => AosController {
  return (id) => {
    const aos = instances.get(id);
    if (!aos)
      throw new HttpError(404, `no AOS instance named "${id}" (known: ${[...instances.keys()].join(', ')})`);
    return aos;
  };
}

function aosRoutes({ spec, faultsEnabled, db, instances }: EnvironmentContext): Route[] {
  const find = finder(instances);
  const snapshot = (id: string): AosInstance => {
    const { runtime } = find(id);
    return { ...listInstances(db).find((r) => r.id === id)!, ...runtime };
  };
  return [
    {
      method: 'GET',
      path: /^\/health$/,
      handle: async () => {
        const health: SupervisorHealth = {
          environment: spec.environment,
          pid: process.pid,
          databaseReachable: await isDatabaseReachable(spec.databaseFile),
          faultsEnabled,
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
  ];
}

/**
 * Who works on the environment: signed-in users (SYSCLIENTSESSIONS) and batch jobs (BATCHJOB), as
 * tests and demos set them up; the impact preview reads them from the database.
 */
function workloadRoutes({ db, instances }: EnvironmentContext): Route[] {
  const find = finder(instances);
  return [
    { method: 'GET', path: /^\/sessions$/, handle: () => ok({ sessions: listSessions(db) }) },
    {
      method: 'POST',
      path: /^\/sessions$/,
      handle: async (_params, req) => {
        const { user, aos } = await readBody(req, sessionRequestSchema);
        if (aos) find(aos);
        try {
          return ok(addSession(db, user, aos, new Date().toISOString()));
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
      },
    },
    {
      method: 'DELETE',
      path: /^\/sessions\/(\d+)$/,
      handle: ([id]) => {
        if (!endSession(db, Number(id))) throw new HttpError(404, `no session ${id}`);
        return ok({ ended: Number(id) });
      },
    },
    { method: 'GET', path: /^\/batch-jobs$/, handle: () => ok({ batchJobs: listBatchJobs(db) }) },
    {
      method: 'POST',
      path: /^\/batch-jobs$/,
      handle: async (_params, req) => ok(addBatchJob(db, await readBody(req, batchJobRequestSchema))),
    },
  ];
}

const FAULTS_DISABLED =
  'fault injection is disabled on this supervisor; it is for tests and demos: start the supervisor with ' +
  '"--faults enabled" (startFleet({ faults: true }), or "faults: true" on the environment in temporal.yaml)';

/** The /faults switches; a supervisor started without them answers 403 and changes nothing. */
function faultRoutes({ faultsEnabled, faults, instances }: EnvironmentContext): Route[] {
  const find = finder(instances);
  const gate =
    (handle: Route['handle']): Route['handle'] =>
    (params, req) => {
      if (!faultsEnabled) throw new HttpError(403, FAULTS_DISABLED);
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
