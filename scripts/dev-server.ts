import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { connectionOptions } from '../config/connection';
import type { LoadedConfig } from '../config/load';
import { SEARCH_ATTRIBUTE_KEYS } from '../contract/operation';
import { temporalCliPath } from './binaries';

/**
 * Task queues dispatch by priority (contract/priority.ts): the matcher that does is the default from
 * server 1.31 (this CLI's 1.32 included); said explicitly, as a self-hosted server of 1.28 to 1.30 needs it.
 * Priority orders tasks within a partition only, and with the default four a backlog of a few dozen
 * spreads unevenly, so a member's task on a light partition goes before an operator's on a busy one;
 * one partition orders them all, and serves far more tasks a second than operations need.
 */
export const PRIORITY_DISPATCH = [
  ...['--dynamic-config-value', 'matching.useNewMatcher=true'],
  ...['--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1'],
  ...['--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1'],
];

/** Connects if something answers at the configured address, within `timeoutMs`. */
export async function tryConnect(config: LoadedConfig, timeoutMs: number): Promise<Connection | undefined> {
  try {
    return await Connection.connect({ ...connectionOptions(config), connectTimeout: timeoutMs });
  } catch {
    return undefined;
  }
}

export interface DevServer {
  /** True when this process started the server (and so stops it). */
  started: boolean;
  connection: Connection;
  stop(): Promise<void>;
}

/**
 * Reuses a Temporal server already answering at the configured address, or starts the CLI's dev
 * server persisting to `devServer.database` with the Web UI and our search attributes.
 */
export async function ensureDevServer(config: LoadedConfig, logFile: string): Promise<DevServer> {
  const existing = await tryConnect(config, 2000);
  if (existing) return { started: false, connection: existing, stop: async () => existing.close() };

  const { ip, port, uiPort, database } = config.devServer;
  const local = new RegExp(`^(localhost|127\\.0\\.0\\.1|${ip.replace(/\./g, '\\.')}):${port}$`);
  if (!local.test(config.temporal.address)) {
    throw new Error(
      `Nothing answers at ${config.temporal.address}, and it is not the embedded dev server (${ip}:${port}) that npm start can run.`,
    );
  }
  fs.mkdirSync(path.dirname(database), { recursive: true });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'a');
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--ui-port', String(uiPort)];
  args.push('--db-filename', database, '--namespace', config.temporal.namespace, '--log-level', 'warn');
  for (const key of SEARCH_ATTRIBUTE_KEYS) args.push('--search-attribute', `${key.name}=Keyword`);
  args.push(...PRIORITY_DISPATCH);
  const child: ChildProcess = spawn(temporalCliPath(), args, { stdio: ['ignore', log, log] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const deadline = Date.now() + 60_000;
  let connection: Connection | undefined;
  while (!connection) {
    if (child.exitCode !== null)
      throw new Error(`The Temporal dev server exited (code ${child.exitCode}); see ${logFile}`);
    if (Date.now() > deadline)
      throw new Error(`The Temporal dev server did not answer within 60 s; see ${logFile}`);
    connection = await tryConnect(config, 1000);
    if (!connection) await new Promise((r) => setTimeout(r, 250));
  }
  return {
    started: true,
    connection,
    async stop() {
      await connection.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
