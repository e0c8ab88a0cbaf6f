import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { operationWorkflowId, type ServicingResult } from '../../contract/operation';
import { createWorker } from '../../worker/create-worker';
import { cli, startCli } from '../helpers/cli';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { createDevServerEnv, workflowBundle } from '../helpers/temporal';
import { waitForDecision, waitForStatus } from '../helpers/status';

const OPERATION = operationWorkflowId('contoso-sandbox');
/** What a stack trace looks like, which the CLI must never print. */
const STACK = /^\s+at /m;

describe('the CLI says what it waits for: no worker, a wrong namespace', () => {
  let temporal: TestWorkflowEnvironment;
  let env: TestEnvironment;
  beforeAll(async () => {
    temporal = await createDevServerEnv();
    env = await startTestEnvironment(temporal);
  });
  afterAll(async () => {
    await env?.stop();
    await temporal?.teardown();
  });

  it('says once, after 10 s, that no worker has picked up the operation, naming the task queue, and completes once a worker starts', async () => {
    const run = startCli(env.configFile, ['enable', 'contoso-sandbox', '-u', 'tester']);
    await run.waitFor('stdout', /^Started maintenance-contoso-sandbox/m);
    const started = Date.now();
    await run.waitFor('stderr', /No worker has picked up/, 20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    expect(run.stderr()).toContain(
      `No worker has picked up ${OPERATION} after 10s. Is a worker running on task queue ` +
        `"${env.config.temporal.taskQueue}"? Start one with \`npm start\` or \`npm run worker\`.`,
    );

    const { worker, close } = await createWorker(env.config, {
      connection: temporal.nativeConnection,
      workflowBundle: await workflowBundle(),
    });
    const running = worker.run();
    try {
      const done = await run.exit;
      expect(done.code).toBe(0);
      expect(done.stdout).toContain('contoso-sandbox is InMaintenance (Succeeded).');
      expect(done.stderr.match(/No worker has picked up/g)).toHaveLength(1);
      expect(env.readFlag()).toBe(1);
    } finally {
      worker.shutdown();
      await running;
      await close();
    }
  }, 60_000);

  it('says that a namespace the server does not have does not exist, and exits 2', async () => {
    const run = await cli(env.configFile, ['status', 'contoso-sandbox'], {
      env: { TEMPORAL_NAMESPACE: 'nope' },
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim()).toBe(
      `Namespace "nope" does not exist at ${temporal.address}. Set temporal.namespace in ${env.configFile} ` +
        'or TEMPORAL_NAMESPACE to an existing one, or create it (`temporal operator namespace create --namespace nope`).',
    );
  });
});

describe('Ctrl-C and --no-wait --json', () => {
  let e2e: EndToEnd;
  beforeAll(async () => {
    e2e = await startEndToEnd({ faults: true });
  });
  afterAll(() => e2e?.stop());
  afterEach(async () => {
    await e2e.env.fleet.clearFaults();
    if ((await e2e.observe()).flag !== 0) {
      expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'cleanup')).code).toBe(0);
    }
  });
  const handle = (workflowId: string) => e2e.temporal.client.workflow.getHandle(workflowId);

  it('on Ctrl-C stops following, exits 130 and says how to follow again; the operation runs on to its end', async () => {
    await e2e.env.fleet.setFaults({ startDelayMs: { 'aos-1': 5000 } });
    const run = startCli(e2e.env.configFile, ['enable', 'contoso-sandbox', '-u', 'tester']);
    await run.waitFor('stdout', /▶ Restart/);
    run.child.kill('SIGINT');
    const done = await run.exit;
    expect(done.code).toBe(130);
    expect(done.stderr.trim()).toBe(
      `Stopped following ${OPERATION}; the operation keeps running. Follow it again with ` +
        `\`maint watch ${OPERATION}\` or see it with \`maint status contoso-sandbox\`.`,
    );
    expect((await handle(OPERATION).describe()).status.name).toBe('RUNNING');
    const result: ServicingResult = await handle(OPERATION).result();
    expect(result.result).toBe('Succeeded');
  });

  it('prints the started or decided operation as JSON on stdout with --no-wait --json: window, enable, abort, disable', async () => {
    const json = async (...args: string[]) => {
      const run = await e2e.maint(...args, '--no-wait', '--json');
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout) as Record<string, unknown>;
    };

    const window = await json('window', 'contoso-sandbox', '-d', '30', '-u', 'tester');
    expect(window).toEqual({ workflowId: 'window-contoso-sandbox', runId: expect.any(String) });
    const opened = handle('window-contoso-sandbox');
    await waitForStatus(opened, (s) => !!s.window?.endsAt);
    expect((await e2e.maint('end-window', 'contoso-sandbox', '-u', 'tester')).code).toBe(0);
    await opened.result();

    await e2e.env.fleet.setFaults({ startFailures: { 'aos-4': 1000 } });
    const enable = await json('enable', 'contoso-sandbox', '-u', 'tester');
    expect(enable).toEqual({ workflowId: OPERATION, runId: expect.any(String) });
    const failing = handle(OPERATION);
    await waitForDecision(failing);
    const abort = await json('abort', 'contoso-sandbox', '-u', 'tester');
    expect(abort).toMatchObject({ accepted: true });
    await expect(failing.result()).rejects.toThrow();
    await e2e.env.fleet.clearFaults();

    const disable = await json('disable', 'contoso-sandbox', '-u', 'tester');
    expect(disable).toEqual({ workflowId: OPERATION, runId: expect.any(String) });
    expect((await handle(OPERATION).result()).result).toBe('Succeeded');
  });
});

describe('losing the server', () => {
  let temporal: TestWorkflowEnvironment | undefined;
  let env: TestEnvironment;
  let worker: ChildProcess;
  beforeAll(async () => {
    temporal = await createDevServerEnv();
    env = await startTestEnvironment(temporal, { faults: true });
    // The worker runs as its own process, as `npm run worker` runs it, so the server can go away under it.
    worker = spawn(
      process.execPath,
      [path.resolve(__dirname, '../../dist/worker/index.js'), env.configFile],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) =>
      worker.stdout!.on('data', (d: Buffer) => d.toString().includes('Worker started') && resolve()),
    );
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await env?.stop();
    await temporal?.teardown();
  });

  it('exits 3 with one line naming the address when the server goes away while the CLI follows an operation', async () => {
    await env.fleet.setFaults({ startDelayMs: { 'aos-1': 60_000 } });
    const address = temporal!.address;
    const run = startCli(env.configFile, ['enable', 'contoso-sandbox', '-u', 'tester']);
    await run.waitFor('stdout', /▶ Restart/);
    await temporal!.teardown();
    temporal = undefined;
    const done = await run.exit;
    expect(done.code).toBe(3);
    expect(done.stderr).not.toMatch(STACK);
    expect(done.stderr.trim().split('\n')).toHaveLength(1);
    expect(done.stderr).toMatch(/^Lost the connection to Temporal at /);
    expect(done.stderr).toContain(
      `at ${address} (connect ECONNREFUSED ${address}). Is the server still running?`,
    );
  }, 90_000);
});
