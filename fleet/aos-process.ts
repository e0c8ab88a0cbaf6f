/** One AOS instance as the supervisor sees it: its child process, its state, and its queue of operations. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FaultSwitches } from './faults';
import type { AosInstance, AosMessage, InstanceRole, SupervisorMessage } from './schemas';
import { aosMessageSchema } from './schemas';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** Compiled next to this file: the fleet always runs from dist/. */
const AOS_SCRIPT = path.join(__dirname, 'aos.js');

type ReadyMessage = Extract<AosMessage, { type: 'ready' }>;

type AosRuntime = Omit<AosInstance, 'id' | 'role' | 'desired'>;

interface AosProcessConfig {
  databaseFile: string;
  startupMs: number;
  faults: FaultSwitches;
  logger: Logger;
}

/** A start that did not end with a ready AOS; the message is the one the caller sees. */
export class AosStartError extends Error {}

const STOPPED = { status: 'stopped', port: null, pid: null, maintenanceMode: null, startedAt: null } as const;

const describeExit = (code: number | null, signal: NodeJS.Signals | null): string =>
  code === null ? `killed by ${signal}` : `exited with code ${code}`;

export class AosProcess {
  private state: AosRuntime = { ...STOPPED, lastError: null };
  private current?: { child: ChildProcess; closed: Promise<void> };
  private queue: Promise<unknown> = Promise.resolve();
  private shuttingDown = false;
  private readonly logger: Logger;

  constructor(
    readonly id: string,
    readonly role: InstanceRole,
    private readonly config: AosProcessConfig,
  ) {
    this.logger = config.logger.child({ aos: id });
  }

  get runtime(): AosRuntime {
    return { ...this.state };
  }

  /** Runs operations on this instance one after another; other instances are not held up. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Starts the process and waits until it is ready; a no-op when it already runs. */
  async start(): Promise<void> {
    if (this.current) return;
    if (this.shuttingDown)
      throw new AosStartError(`${this.id} failed to start: the supervisor is shutting down`);
    const { faults, startupMs, databaseFile } = this.config;
    const failStart = faults.takeStartFailure(this.id);
    const args = ['--id', this.id, '--role', this.role, '--database', databaseFile];
    args.push('--startup-ms', String(startupMs + faults.startDelay(this.id)));
    if (failStart) args.push('--fail-start', failStart);

    const child = spawn(process.execPath, [AOS_SCRIPT, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (raw: unknown) => this.answer(child, raw));
    const closed = new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        this.onClose(child, code, signal);
        resolve();
      });
      child.once('error', () => child.pid === undefined && resolve());
    });
    this.current = { child, closed };
    this.state = { ...STOPPED, status: 'starting', pid: child.pid ?? null, lastError: this.state.lastError };
    try {
      const { port, maintenanceMode, startedAt } = await waitUntilReady(child);
      this.state = {
        status: 'running',
        port,
        pid: child.pid ?? null,
        maintenanceMode,
        startedAt,
        lastError: null,
      };
      this.logger.info({ port, aosPid: child.pid, maintenanceMode }, 'AOS started');
    } catch (err) {
      const reason = (err as Error).message;
      child.kill('SIGKILL');
      await closed;
      this.current = undefined;
      this.state = { ...STOPPED, lastError: reason };
      this.logger.warn({ reason }, 'AOS failed to start');
      throw new AosStartError(`${this.id} failed to start: ${reason}`);
    }
  }

  /** Asks the process to exit (SIGTERM, SIGKILL after a grace period) and waits until it has. */
  async stop(): Promise<void> {
    const running = this.current;
    if (!running) return;
    this.state = { ...this.state, status: 'stopping' };
    running.child.kill('SIGTERM');
    const kill = setTimeout(() => running.child.kill('SIGKILL'), STOP_GRACE_MS);
    await running.closed;
    clearTimeout(kill);
    this.current = undefined;
    this.state = { ...STOPPED, lastError: this.state.lastError };
    this.logger.info('AOS stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Kills the process without warning; it stays down, as after a real crash. */
  async crash(): Promise<void> {
    const running = this.current;
    if (!running) return;
    running.child.kill('SIGKILL');
    await running.closed;
  }

  /** Supervisor shutdown: stops the process now, even mid-start, and refuses later starts. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.stop();
  }

  /** Answers a running AOS's questions: whether this sign-in must fail is for the fault switches to say. */
  private answer(child: ChildProcess, raw: unknown): void {
    const message = aosMessageSchema.safeParse(raw);
    if (!message.success || message.data.type !== 'takeSignInFailure') return;
    const { requestId } = message.data;
    const reply: SupervisorMessage = {
      type: 'signInFailure',
      requestId,
      reason: this.config.faults.takeSignInFailure(this.id) ?? null,
    };
    // A callback, so that a channel closed meanwhile (the AOS just exited) is not an unhandled 'error'.
    if (child.connected)
      child.send(reply, (err) => err && this.logger.warn({ err, requestId }, 'could not answer the AOS'));
  }

  /** An exit nobody asked for while running is a crash: the instance stays stopped and says why. */
  private onClose(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.current?.child !== child || this.state.status !== 'running') return;
    this.current = undefined;
    this.state = { ...STOPPED, lastError: `crashed (${describeExit(code, signal)})` };
    this.logger.warn({ code, signal }, 'AOS crashed');
  }
}

/** Resolves on the AOS's ready message; rejects with its reason when it exits first or takes too long. */
function waitUntilReady(child: ChildProcess): Promise<ReadyMessage> {
  return new Promise((resolve, reject) => {
    let reason: string | undefined;
    const timer = setTimeout(
      () => settle(new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    const onMessage = (raw: unknown): void => {
      const message = aosMessageSchema.safeParse(raw);
      if (!message.success) return;
      if (message.data.type === 'failed') reason = message.data.reason;
      else if (message.data.type === 'ready') settle(undefined, message.data);
    };
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void =>
      settle(new Error(reason ?? describeExit(code, signal)));
    const onError = (err: Error): void => settle(err);
    child.on('message', onMessage);
    child.once('close', onClose);
    child.once('error', onError);

    function settle(err?: Error, ready?: ReadyMessage): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('close', onClose);
      child.off('error', onError);
      if (ready) resolve(ready);
      else reject(err);
    }
  });
}
