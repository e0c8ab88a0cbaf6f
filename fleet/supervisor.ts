/**
 * The fleet supervisor: the control plane of one or more environments (environment.ts), each under
 * /environments/<name>/ (health, aos, faults); the first one is also served at the root (/health, /aos,
 * /faults), as a single-environment supervisor is. `GET /environments` lists them.
 * Usage: node dist/fleet/supervisor.js --spec FILE|-   (supervisorSpecSchema as JSON; "-" reads stdin)
 *    or: node dist/fleet/supervisor.js --environment NAME --database FILE --port N --interactive N --batch N
 *          --aos-startup-ms N [--aos-mode process|inprocess] [--faults enabled]
 */
import fs from 'node:fs';
import { text } from 'node:stream/consumers';
import pino from 'pino';
import type { Logger } from 'pino';
import { parseArgv } from './argv';
import type { ServedEnvironment } from './environment';
import { openEnvironment } from './environment';
import type { JsonHandler } from './http';
import { closeServer, createJsonServer, decodeParam, HttpError, listen, routeTo } from './http';
import type { EnvironmentList, SupervisorSpec, SupervisorSpecInput } from './schemas';
import {
  describeIssues,
  supervisorOptionsSchema,
  supervisorSpecArgsSchema,
  supervisorSpecSchema,
} from './schemas';

export interface Supervisor {
  url: string;
  environments: string[];
  close(): Promise<void>;
}

export async function createSupervisor(
  input: SupervisorSpecInput,
  logger: Logger = stderrLogger(),
): Promise<Supervisor> {
  const spec = parseSpec(input);
  const environments: ServedEnvironment[] = [];
  const closeAll = (): Promise<unknown> => Promise.all(environments.map((env) => env.close()));
  try {
    for (const env of spec.environments)
      environments.push(openEnvironment(env, spec.faults, logger.child({ environment: env.environment })));
  } catch (err) {
    await closeAll();
    throw err;
  }
  const server = createJsonServer(handler(environments), logger);
  const port = await listen(server, spec.port).catch(async (err: unknown) => {
    await closeAll();
    throw err;
  });
  // Each environment comes back as it was: exactly the instances that should run are started.
  await Promise.all(environments.map((env) => env.boot()));

  return {
    url: `http://127.0.0.1:${port}`,
    environments: environments.map((env) => env.name),
    async close() {
      const serverClosed = closeServer(server);
      await closeAll();
      await serverClosed;
    },
  };
}

function parseSpec(input: SupervisorSpecInput): SupervisorSpec {
  const parsed = supervisorSpecSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid supervisor spec: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

const ENVIRONMENT_PATH = /^\/environments\/([^/]+)(\/.*)?$/;

/** /environments/<name>/<path> goes to that environment's routes; any other path to the first one's. */
function handler(environments: ServedEnvironment[]): JsonHandler {
  const byName = new Map(environments.map((env) => [env.name, routeTo(env.routes)]));
  const first = byName.get(environments[0].name)!;
  return async (req, pathname) => {
    if (pathname === '/environments' && req.method === 'GET') {
      const body: EnvironmentList = { environments: [...byName.keys()] };
      return { status: 200, body };
    }
    const match = ENVIRONMENT_PATH.exec(pathname);
    if (!match) return first(req, pathname);
    const name = decodeParam(match[1]);
    const routes = byName.get(name);
    if (!routes) {
      const known = [...byName.keys()];
      const shown = known.length > 10 ? `${known.slice(0, 10).join(', ')}, ...` : known.join(', ');
      throw new HttpError(
        404,
        `no environment named "${name}" on this supervisor (serves ${known.length}: ${shown})`,
      );
    }
    return routes(req, match[2] ?? '/');
  };
}

function stderrLogger(): Logger {
  return pino({ base: { component: 'fleet-supervisor', pid: process.pid } }, pino.destination(2));
}

/** The spec from `--spec FILE|-`, or the one environment that the flags describe. */
async function readSpec(argv: string[]): Promise<SupervisorSpecInput> {
  if (argv[0] === '--spec') {
    const { spec } = parseArgv(supervisorSpecArgsSchema, argv);
    const json = spec === '-' ? await text(process.stdin) : fs.readFileSync(spec, 'utf8');
    try {
      return JSON.parse(json) as SupervisorSpecInput;
    } catch (err) {
      throw new Error(`the spec in ${spec === '-' ? 'stdin' : spec} is not JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const options = parseArgv(supervisorOptionsSchema, argv);
  return {
    port: options.port,
    faults: options.faults,
    environments: [
      {
        environment: options.environment,
        databaseFile: options.database,
        topology: { interactive: options.interactive, batch: options.batch },
        aosStartupMs: options.aosStartupMs,
        aosMode: options.aosMode,
      },
    ],
  };
}

async function main(): Promise<void> {
  const logger = stderrLogger();
  const supervisor = await createSupervisor(await readSpec(process.argv.slice(2)), logger);
  const { url, environments } = supervisor;
  process.stdout.write(`${JSON.stringify({ event: 'ready', url, environments })}\n`);
  logger.info({ url, environments: environments.length }, 'fleet supervisor ready');

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
  // Launched by startSupervisor with an IPC channel: a launcher that is gone takes its fleet with it.
  process.once('disconnect', () => stop('launcher gone'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`fleet supervisor failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
