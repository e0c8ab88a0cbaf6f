import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const DIST = path.resolve(__dirname, '../../dist');

/**
 * A worker as users run it: its own process from built code (`dist`, or another build such as the
 * previous release's), a config file, an optional working directory (a host of its own), a log file.
 */
export function startWorkerProcess({
  configFile,
  logFile,
  cwd,
  dist = DIST,
}: {
  configFile: string;
  logFile: string;
  cwd?: string;
  dist?: string;
}): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  return spawn(process.execPath, [path.join(dist, 'worker/index.js'), configFile], {
    cwd,
    stdio: ['ignore', log, log],
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
}

/** Resolves with the exit code once the process has exited (at once if it has). */
export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', resolve));
}

/** Stops a worker (SIGTERM drains it; SIGKILL is a crash) and waits until it is gone. */
export async function stopWorkerProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  return exited(child);
}
