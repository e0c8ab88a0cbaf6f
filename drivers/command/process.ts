import { spawn } from 'node:child_process';
import type { Secrets } from '../../config/secrets';

/** How long a command asked to end (SIGTERM) has before its whole process group is killed (SIGKILL). */
const KILL_GRACE_MS = 2000;
/** How long output is still read once the command exited, when something it left running holds its stdout. */
const DRAIN_MS = 1000;
/** The longest a command can run past its timeout: the grace before SIGKILL, then the drain of its output. */
export const OVERRUN_MS = KILL_GRACE_MS + DRAIN_MS;

/** The first `limit` bytes of a stream; the rest is counted, not kept. */
export class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    const part = chunk.subarray(0, Math.max(0, this.limit - this.kept));
    if (part.length === 0) return;
    this.chunks.push(part);
    this.kept += part.length;
  }

  /** What was kept, secrets masked, and how many bytes were not kept. */
  read(secrets: Secrets): { text: string; more: number } {
    const more = this.total - this.kept;
    const kept = Buffer.concat(this.chunks);
    return { text: secrets.mask((more > 0 ? secrets.maskCut(kept) : kept).toString('utf8')), more };
  }

  /** What was kept, as it was: only for parsing, before anything is shown. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export type Outcome =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timedOut' | 'aborted' }
  | { kind: 'notStarted'; error: NodeJS.ErrnoException };

export interface Execution {
  file: string;
  args: string[];
  shell: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  stdout: BoundedOutput;
  stderr: BoundedOutput;
}

/**
 * Runs a program as the leader of its own process group, so that a timeout or a cancellation ends
 * everything it started (SIGTERM to the group, SIGKILL after a grace), not only the program itself:
 * a script's children would otherwise live on and still change the environment. Resolves once the
 * program and its output have ended; never rejects.
 */
export function execute(x: Execution): Promise<Outcome> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(x.file, x.args, {
        cwd: x.cwd,
        env: x.env,
        shell: x.shell,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      resolve({ kind: 'notStarted', error: error as NodeJS.ErrnoException });
      return;
    }
    const { pid, stdout, stderr } = child;
    const timers: NodeJS.Timeout[] = [];
    let stopping: 'timedOut' | 'aborted' | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let done = false;

    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (pid !== undefined) process.kill(-pid, signal);
      } catch {
        // ESRCH: the whole group has ended already.
      }
    };
    const stop = (why: 'timedOut' | 'aborted') => {
      if (stopping || exit) return;
      stopping = why;
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
    };
    const onAbort = () => stop('aborted');
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      timers.forEach(clearTimeout);
      x.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const ended = () => {
      if (done) return;
      // What is left of a stopped group (it ignored SIGTERM, or does not hold the output) goes now.
      if (stopping) killGroup('SIGKILL');
      finish(
        stopping
          ? { kind: stopping }
          : { kind: 'exited', code: exit?.code ?? null, signal: exit?.signal ?? null },
      );
    };

    stdout.on('data', (chunk: Buffer) => x.stdout.add(chunk));
    stderr.on('data', (chunk: Buffer) => x.stderr.add(chunk));
    child.on('error', (error) => {
      if (pid === undefined) finish({ kind: 'notStarted', error });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      timers.push(
        setTimeout(() => {
          stdout.destroy();
          stderr.destroy();
          ended();
        }, DRAIN_MS),
      );
    });
    child.on('close', ended);
    timers.push(setTimeout(() => stop('timedOut'), x.timeoutMs));
    x.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
