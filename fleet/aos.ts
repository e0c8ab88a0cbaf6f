/**
 * An AOS in its own process (aosMode "process"): aos-server.ts's AOS, told what to do over the command
 * line and reporting to its supervisor over IPC.
 * Usage: node dist/fleet/aos.js --id aos-1 --role interactive --database FILE --startup-ms 300 [--fail-start REASON]
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { parseArgv } from './argv';
import type { RunningAos } from './aos-server';
import { startAos } from './aos-server';
import type { AosMessage } from './schemas';
import { aosOptionsSchema, supervisorMessageSchema } from './schemas';

/** How long a sign-in waits for the supervisor to say whether it must fail before going on without. */
const FAULT_ANSWER_TIMEOUT_MS = 1000;

const stopping = new AbortController();
let running: RunningAos | undefined;
let lastRequestId = 0;
const awaitingAnswers = new Map<number, (reason: string | undefined) => void>();

async function shutdown(): Promise<void> {
  stopping.abort();
  await running?.close();
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
  const logger = pino({ base: { aos: options.id, pid: process.pid } }, pino.destination(2));
  try {
    running = await startAos({
      ...options,
      pid: process.pid,
      logger,
      takeSignInFailure: () => takeSignInFailure(logger),
      signal: stopping.signal,
    });
  } catch (err) {
    if (stopping.signal.aborted) return;
    return failStart((err as Error).message);
  }
  const { port, maintenanceMode, startedAt } = running;
  tell({ type: 'ready', port, maintenanceMode, startedAt });
}

main().catch((err: unknown) => failStart((err as Error).message));
