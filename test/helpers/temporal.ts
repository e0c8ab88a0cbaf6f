import fs from 'node:fs';
import net from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { clientOptions } from '../../client/identity';
import { SEARCH_ATTRIBUTE_KEYS } from '../../contract/operation';
import { temporalCliPath, testServerPath } from '../../scripts/binaries';
import { PRIORITY_DISPATCH } from '../../scripts/dev-server';
import { workflowBundleOptions } from '../../worker/create-worker';

/** SDK logs at ERROR only, so test output stays readable. Installed once per test file's runtime. */
export function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this process
  }
}

/**
 * The SDK gives a server it starts 5 s to answer (sdk-core's ephemeral_server, not configurable); on two
 * cores busy with other test files the dev server with its Web UI can take longer. A server that did
 * not answer is killed by the SDK, so starting another is safe.
 */
async function startedWithin5sRetried(
  start: () => Promise<TestWorkflowEnvironment>,
  attempts = 3,
): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String(err))) throw err;
    }
  }
}

/**
 * With the server's default `timerProcessorMaxTimeShift` (1 s), a workflow timer shorter than a second
 * fired after about a second: the tests' retry intervals of 100, 200 and 400 ms measured 1.0 s each,
 * and 0.1, 0.2 and 0.4 s with this. Production intervals start at 1 s, where it changes nothing.
 */
const PRECISE_TIMERS = { 'history.timerProcessorMaxTimeShift': '10ms' };

/**
 * The real Temporal dev server (the CLI binary, never downloaded), with our search attributes;
 * `dynamicConfig` sets server limits a test needs smaller (e.g. `history.maxTotalUpdates`).
 */
export function createDevServerEnv({
  uiPort,
  dynamicConfig = {},
}: {
  uiPort?: number;
  dynamicConfig?: Record<string, number | string>;
} = {}): Promise<TestWorkflowEnvironment> {
  const limits = Object.entries({ ...PRECISE_TIMERS, ...dynamicConfig }).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
  quietRuntime();
  return startedWithin5sRetried(() =>
    TestWorkflowEnvironment.createLocal({
      client: clientOptions(),
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        uiPort,
        extraArgs: [...PRIORITY_DISPATCH, ...limits, ...(uiPort ? ['--ui-disable-news-fetch'] : [])],
      },
    }),
  );
}

/**
 * A loopback port nothing listens on now, for a server another process will bind later. Chosen below
 * the kernel's ephemeral range: a port from listen(0) lies in that range, where any outgoing
 * connection of a parallel test may take it as its source port before the server binds it.
 */
export async function freePort(): Promise<number> {
  const low = 10_000;
  const high = ephemeralPortsFrom();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port between ${low} and ${high} after 100 tries`);
}

/** The first port of the kernel's ephemeral range (Linux's default where it cannot be read). */
function ephemeralPortsFrom(): number {
  try {
    const first = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
    return first > 20_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The time-skipping test server, for long timers. */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return startedWithin5sRetried(() =>
    TestWorkflowEnvironment.createTimeSkipping({
      client: clientOptions(),
      server: { executable: { type: 'existing-path', path: testServerPath() } },
    }),
  );
}

/** Where jest's global setup left the workflow bundle of this run (test/global-setup.ts). */
export const BUNDLE_ENV = 'MAINTENANCE_TEST_WORKFLOW_BUNDLE';

let bundle: Promise<WorkflowBundle> | undefined;
/** The workflow code, bundled once per jest run (else once per test file, as when run without jest's setup). */
export function workflowBundle(): Promise<WorkflowBundle> {
  const prebuilt = process.env[BUNDLE_ENV];
  bundle ??= prebuilt
    ? fs.promises.readFile(prebuilt, 'utf8').then((code): WorkflowBundle => ({ code }))
    : bundleWorkflowCode(workflowBundleOptions());
  return bundle;
}
