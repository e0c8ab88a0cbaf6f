import net from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  DefaultLogger,
  Runtime,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
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

/** The real Temporal dev server (the CLI binary, never downloaded), with our search attributes. */
export function createDevServerEnv({ uiPort }: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    client: clientOptions(),
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      uiPort,
      extraArgs: [...PRIORITY_DISPATCH, ...(uiPort ? ['--ui-disable-news-fetch'] : [])],
    },
  });
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** The time-skipping test server, for long timers. */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    client: clientOptions(),
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Workflow code bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode(workflowBundleOptions());
  return bundle;
}
