/**
 * One AOS instance as the supervisor sees it: its state, its queue of operations, the fault switches
 * that apply to its starts. Where the AOS runs (its own process, or inside the supervisor) is the
 * launcher's business; the states, errors and crash rules here are the same for both.
 */
import type { Logger } from 'pino';
import type { FaultSwitches } from './faults';
import type { AosInstance, AosOptions, InstanceRole } from './schemas';

/** One run of an AOS, from its start until it has ended. */
export interface AosRun {
  /** The process it runs in, known at once. */
  pid: number | null;
  /** Resolves once it serves; rejects with the reason it could not start. */
  ready: Promise<{ port: number; maintenanceMode: boolean; startedAt: string }>;
  /** Resolves once it has ended, however it ended, with how: "exited with code 0", "killed by SIGKILL". */
  ended: Promise<string>;
  /** Asks it to stop cleanly (and makes sure it does). */
  stop(): void;
  /** Ends it at once, without warning, as a crash would. */
  kill(): void;
}

/** Starts one run of an AOS; answers its sign-in fault questions from `faults`. */
export type AosLauncher = (options: AosOptions, faults: FaultSwitches, logger: Logger) => AosRun;

type AosRuntime = Omit<AosInstance, 'id' | 'role' | 'desired'>;

interface AosControllerConfig {
  databaseFile: string;
  startupMs: number;
  faults: FaultSwitches;
  launch: AosLauncher;
  logger: Logger;
}

/** A start that did not end with a ready AOS; the message is the one the caller sees. */
export class AosStartError extends Error {}

const STOPPED = { status: 'stopped', port: null, pid: null, maintenanceMode: null, startedAt: null } as const;

export class AosController {
  private state: AosRuntime = { ...STOPPED, lastError: null };
  private current?: AosRun;
  private queue: Promise<unknown> = Promise.resolve();
  private shuttingDown = false;
  private readonly logger: Logger;

  constructor(
    readonly id: string,
    readonly role: InstanceRole,
    private readonly config: AosControllerConfig,
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

  /** Starts the AOS and waits until it is ready; a no-op when it already runs. */
  async start(): Promise<void> {
    if (this.current) return;
    if (this.shuttingDown)
      throw new AosStartError(`${this.id} failed to start: the supervisor is shutting down`);
    const { faults, startupMs, databaseFile, launch } = this.config;
    const run = launch(
      {
        id: this.id,
        role: this.role,
        database: databaseFile,
        startupMs: startupMs + faults.startDelay(this.id),
        failStart: faults.takeStartFailure(this.id),
      },
      faults,
      this.logger,
    );
    void run.ended.then((how) => this.onEnded(run, how));
    this.current = run;
    this.state = { ...STOPPED, status: 'starting', pid: run.pid, lastError: this.state.lastError };
    try {
      const { port, maintenanceMode, startedAt } = await run.ready;
      this.state = { status: 'running', port, pid: run.pid, maintenanceMode, startedAt, lastError: null };
      this.logger.info({ port, aosPid: run.pid, maintenanceMode }, 'AOS started');
    } catch (err) {
      const reason = (err as Error).message;
      run.kill();
      await run.ended;
      this.current = undefined;
      this.state = { ...STOPPED, lastError: reason };
      this.logger.warn({ reason }, 'AOS failed to start');
      throw new AosStartError(`${this.id} failed to start: ${reason}`);
    }
  }

  /** Asks the AOS to stop and waits until it has. */
  async stop(): Promise<void> {
    const run = this.current;
    if (!run) return;
    this.state = { ...this.state, status: 'stopping' };
    run.stop();
    await run.ended;
    this.current = undefined;
    this.state = { ...STOPPED, lastError: this.state.lastError };
    this.logger.info('AOS stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Kills the AOS without warning; it stays down, as after a real crash. */
  async crash(): Promise<void> {
    const run = this.current;
    if (!run) return;
    run.kill();
    await run.ended;
  }

  /** Supervisor shutdown: stops the AOS now, even mid-start, and refuses later starts. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.stop();
  }

  /** An end nobody asked for while running is a crash: the instance stays stopped and says why. */
  private onEnded(run: AosRun, how: string): void {
    if (this.current !== run || this.state.status !== 'running') return;
    this.current = undefined;
    this.state = { ...STOPPED, lastError: `crashed (${how})` };
    this.logger.warn({ how }, 'AOS crashed');
  }
}
