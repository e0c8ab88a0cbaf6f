/**
 * One AOS process. It reads CONFIGURATIONMODE once at start and enforces that mode until it exits,
 * which is why turning maintenance mode on or off takes a restart.
 * Usage: node dist/fleet/aos.js --id aos-1 --role interactive --database FILE --startup-ms 300 [--fail-start REASON]
 */
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import type { Logger } from 'pino';
import { aosRoutes } from './aos-api';
import { parseArgv } from './argv';
import type { FleetDatabase } from './database';
import { openFleetDatabase, readConfigurationMode } from './database';
import { closeServer, createJsonServer, listen } from './http';
import type { AosMessage } from './schemas';
import { aosOptionsSchema, supervisorMessageSchema } from './schemas';

/** How long a sign-in waits for the supervisor to say whether it must fail before going on without. */
const FAULT_ANSWER_TIMEOUT_MS = 1000;

let server: Server | undefined;
let db: FleetDatabase | undefined;
let lastRequestId = 0;
const awaitingAnswers = new Map<number, (reason: string | undefined) => void>();

async function shutdown(): Promise<void> {
  if (server) await closeServer(server);
  db?.close();
  process.exit(0);
}

function tell(message: AosMessage, then: (err: Error | null) => void = () => undefined): void {
  if (process.send) process.send(message, undefined, {}, then);
  else then(null);
}

function onSupervisorMessage(raw: unknown): void {
  const message = supervisorMessageSchema.safeParse(raw);
  if (message.success) awaitingAnswers.get(message.data.requestId)?.(message.data.reason ?? undefined);
}

/**
 * Asks the supervisor, which owns the fault switches, whether this sign-in must fail, and why. Without a
 * supervisor (no IPC channel) or without a timely answer there is no injected fault.
 */
function takeSignInFailure(logger: Logger): Promise<string | undefined> {
  if (!process.send || !process.connected) return Promise.resolve(undefined);
  const requestId = ++lastRequestId;
  return new Promise((resolve) => {
    const settle = (reason?: string): void => {
      clearTimeout(timer);
      awaitingAnswers.delete(requestId);
      resolve(reason);
    };
    const timer = setTimeout(() => {
      logger.warn({ requestId }, 'no answer from the supervisor about sign-in faults; going on without');
      settle();
    }, FAULT_ANSWER_TIMEOUT_MS);
    awaitingAnswers.set(requestId, settle);
    tell({ type: 'takeSignInFailure', requestId }, (err) => err && settle());
  });
}

/** Says why the start failed (stderr for the log, IPC for the supervisor) and exits 1. */
function failStart(reason: string): void {
  process.stderr.write(`${reason}\n`);
  tell({ type: 'failed', reason }, () => process.exit(1));
}

async function main(): Promise<void> {
  // SIGTERM (stop) or a lost supervisor: exit cleanly at any point, even during warm-up.
  process.once('SIGTERM', () => void shutdown());
  process.once('disconnect', () => void shutdown());
  process.on('message', onSupervisorMessage);

  const options = parseArgv(aosOptionsSchema, process.argv.slice(2));
  if (options.failStart) return failStart(options.failStart);

  let maintenanceMode: boolean;
  try {
    const startupDb = openFleetDatabase(options.database, { readonly: true, busyTimeoutMs: 500 });
    try {
      maintenanceMode = readConfigurationMode(startupDb);
    } finally {
      startupDb.close();
    }
  } catch (err) {
    return failStart(`database unreachable: ${(err as Error).message}`);
  }

  await sleep(options.startupMs);
  const logger = pino({ base: { aos: options.id, pid: process.pid } }, pino.destination(2));
  db = openFleetDatabase(options.database, { busyTimeoutMs: 500 });
  const health = {
    id: options.id,
    role: options.role,
    maintenanceMode,
    startedAt: new Date().toISOString(),
    pid: process.pid,
  };
  const routes = aosRoutes({ health, db, logger, takeSignInFailure: () => takeSignInFailure(logger) });
  server = createJsonServer(routes, logger);
  const port = await listen(server, 0);
  logger.info({ port, role: options.role, maintenanceMode }, 'AOS ready');
  tell({ type: 'ready', port, maintenanceMode, startedAt: health.startedAt });
}

main().catch((err: unknown) => failStart((err as Error).message));
