/** Starts a fleet supervisor as its own process (as tests, benchmarks and `npm start` need) and hands back its URL. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { z } from 'zod';
import type { StartFleetOptions } from './schemas';
import {
  describeIssues,
  startFleetOptionsSchema,
  supervisorReadyLineSchema,
  supervisorSpecSchema,
} from './schemas';

const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;
const STDERR_TAIL_CHARS = 4000;

/** A supervisor spec (supervisorSpecSchema) plus where its log goes; database paths are resolved here. */
export const startSupervisorOptionsSchema = z
  .object({
    spec: supervisorSpecSchema,
    logFile: z.string().min(1).optional(),
  })
  .strict();
export type StartSupervisorOptions = z.input<typeof startSupervisorOptionsSchema>;

export interface RunningSupervisor {
  /** The root URL: its first environment's API (/health, /aos, /faults). */
  url: string;
  pid: number;
  environments: string[];
  /** The base URL of one environment's API: `${url}/environments/<name>`. */
  environmentUrl(name: string): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the supervisor (and so every AOS) has exited. */
  stop(): Promise<void>;
}

export interface RunningFleet {
  environment: string;
  url: string;
  pid: number;
  /** As RunningSupervisor.stop. */
  stop(): Promise<void>;
}

/** One supervisor serving every environment of `spec`; the spec goes in on stdin (it can be long). */
export async function startSupervisor(input: StartSupervisorOptions): Promise<RunningSupervisor> {
  const parsed = startSupervisorOptionsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid supervisor options: ${describeIssues(parsed.error)}`);
  const { spec, logFile } = parsed.data;
  const environments = spec.environments.map((env) => ({
    ...env,
    databaseFile: path.resolve(env.databaseFile),
  }));
  for (const env of environments) fs.mkdirSync(path.dirname(env.databaseFile), { recursive: true });
  const script = supervisorScript();

  // The IPC channel is only there so that the supervisor exits when this process goes away.
  const child = spawn(process.execPath, [script, '--spec', '-'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
  child.stdin!.end(JSON.stringify({ ...spec, environments }));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const log = forwardStderr(child, logFile);
  const names = environments.map((env) => env.environment);
  const label = names.length === 1 ? `"${names[0]}"` : `${names.length} environments`;

  let url: string;
  try {
    ({ url } = await readReadyLine(child));
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await log.close();
    throw new Error(
      `fleet supervisor for ${label} did not start: ${(err as Error).message}\n` +
        `--- supervisor stderr (tail) ---\n${log.tail()}`,
      { cause: err },
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(kill);
    await log.close();
  };
  return {
    url,
    pid: child.pid!,
    environments: names,
    environmentUrl: (name) => `${url}/environments/${encodeURIComponent(name)}`,
    stop: () => (stopping ??= stop()),
  };
}

/** A supervisor for one environment, addressed at its root URL. */
export async function startFleet(input: StartFleetOptions): Promise<RunningFleet> {
  const { environment, databaseFile, port, topology, aosStartupMs, aosMode, logFile, faults } =
    startFleetOptionsSchema.parse(input);
  const supervisor = await startSupervisor({
    spec: { port, faults, environments: [{ environment, databaseFile, topology, aosStartupMs, aosMode }] },
    logFile,
  });
  return { environment, url: supervisor.url, pid: supervisor.pid, stop: supervisor.stop };
}

/** dist/fleet/supervisor.js under the project root, whether this file runs from fleet/ (ts-jest) or dist/fleet/. */
function supervisorScript(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    if (path.dirname(dir) === dir) throw new Error(`no package.json in any folder above ${__dirname}`);
    dir = path.dirname(dir);
  }
  const script = path.resolve(dir, 'dist/fleet/supervisor.js');
  if (!fs.existsSync(script))
    throw new Error(`${script} does not exist: build the project first (npx tsc -p .)`);
  return script;
}

/** Sends the supervisor's stderr to the log file (or our stderr) and keeps its tail for error messages. */
function forwardStderr(
  child: ChildProcess,
  logFile: string | undefined,
): { tail(): string; close(): Promise<void> } {
  let tail = '';
  let file: fs.WriteStream | undefined;
  if (logFile) {
    fs.mkdirSync(path.dirname(path.resolve(logFile)), { recursive: true });
    file = fs.createWriteStream(logFile, { flags: 'a' });
  }
  child.stderr!.on('data', (chunk: Buffer) => {
    (file ?? process.stderr).write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
  });
  return {
    tail: () => tail,
    close: () => new Promise<void>((resolve) => (file ? file.end(resolve) : resolve())),
  };
}

function readReadyLine(child: ChildProcess): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => settle(new Error(`no ready line within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    const onLine = (line: string): void => {
      const ready = supervisorReadyLineSchema.safeParse(safeJson(line));
      settle(ready.success ? undefined : new Error(`unexpected line on stdout: ${line}`), ready.data);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      settle(new Error(`it exited (${code === null ? signal : `code ${code}`}) before it was ready`));
    lines.once('line', onLine);
    child.once('exit', onExit);

    function settle(err?: Error, ready?: { url: string }): void {
      clearTimeout(timer);
      lines.close();
      child.off('exit', onExit);
      if (ready) resolve(ready);
      else reject(err);
    }
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
