import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import path from 'node:path';

const CLI = path.resolve(__dirname, '../../dist/client/cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the operator CLI as a user would: a separate process, built code, exit code and output.
 * `script` runs another build of it (the previous release's, in the upgrade test); `cwd` runs it
 * from another folder (another host).
 */
export function cli(
  configFile: string,
  args: string[],
  { env = {}, script = CLI, cwd }: { env?: NodeJS.ProcessEnv; script?: string; cwd?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, '--config', configFile, ...args],
      { env: { ...process.env, ...env }, timeout: 120_000, cwd },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once the stream matches `pattern`; rejects if the CLI exits first or time runs out. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** How it ended: `code` is the exit code, or 128 + the signal's number when a signal killed it. */
  exit: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** The CLI as a running process, for commands a test watches or interrupts while they run. */
export function startCli(configFile: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, '--config', configFile, ...args], {
    env: { ...process.env, ...env },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exit = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? 128 + (signal ? osConstants.signals[signal] : 0),
        signal,
        ...output,
      }),
    ),
  );
  return {
    child,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    exit,
    async waitFor(stream, pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let exited = false;
      void exit.then(() => (exited = true));
      while (!pattern.test(output[stream])) {
        if (exited || Date.now() > deadline) {
          throw new Error(
            `The CLI ${exited ? 'exited' : 'ran on'} without printing ${pattern} to ${stream}.\n` +
              `stdout: ${output.stdout}\nstderr: ${output.stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
