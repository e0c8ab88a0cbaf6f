import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { entityOf } from '../helpers/entity';
import {
  logQuery,
  operationWorkflowId,
  searchAttributes,
  type OperationLog,
  type ServicingResult,
} from '../../contract/operation';
import { temporalCliPath } from '../../scripts/binaries';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { recordHistory } from '../helpers/record-history';
import { waitForDecision, waitForStatus } from '../helpers/status';
import { until } from '../helpers/until';

/**
 * Taking the lock as when the environment entity does not answer: the call fails (a transient
 * error), or hangs, heartbeating as the real call does while it waits, until cancelled.
 */
let entityDown: 'fails' | 'hangs' | undefined;
const lockFault: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      if (ctx.info.activityType === 'acquireLock') {
        if (entityDown === 'fails')
          throw ApplicationFailure.retryable(
            'take the servicing lock: the environment entity did not answer',
          );
        while (entityDown === 'hangs') {
          ctx.heartbeat();
          await ctx.sleep(200);
        }
      }
      return next(input);
    },
  },
});

let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({ faults: true }, {}, { interceptors: { activity: [lockFault] } });
});
afterAll(() => e2e?.stop());
afterEach(async () => {
  entityDown = undefined;
  await e2e.env.fleet.clearFaults();
  const { flag, running } = await e2e.observe();
  if (flag !== 0 || running.length !== 5 || running.some((r) => r.includes('maintenance'))) {
    expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'cleanup')).code).toBe(0);
  }
});

const input = { environment: 'contoso-sandbox', requestedBy: 'ui-user', reason: 'on-call test' };
const startFromUi = (workflowId: string, type = 'enableMaintenanceMode') =>
  e2e.temporal.client.workflow.start(type, {
    workflowId,
    taskQueue: e2e.env.config.temporal.taskQueue,
    args: [input],
  });

const entity = () => entityOf(e2e.temporal.client, e2e.env);

/** The runbook's first step in the Web UI: the running operations whose MaintenanceState is Failed. */
async function failedInVisibility(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({
    query: 'MaintenanceState = "Failed" AND ExecutionStatus = "Running"',
  }))
    ids.push(w.workflowId);
  return ids;
}

/** Starts enable from the CLI with a persistent fault and returns once it waits for a decision. */
async function failedOperation() {
  await e2e.env.fleet.setFaults({ startFailures: { 'aos-4': 1000 } });
  expect((await e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(6);
  return e2e.temporal.client.workflow.getHandle(operationWorkflowId('contoso-sandbox'));
}

describe('on-call: one operation per environment, refusals, cancellation, locks, logs, history', () => {
  it('runs exactly one of two enables started at the same moment with different workflow IDs', async () => {
    const before = (await entity().history()).length;
    const handles = await Promise.all([startFromUi('ui-enable-a'), startFromUi('ui-enable-b')]);
    const outcomes = await Promise.allSettled(handles.map((h) => h.result()));
    const won = outcomes.findIndex((o) => o.status === 'fulfilled');
    const lost = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toBeGreaterThanOrEqual(0);
    expect(lost).toBeDefined();
    expect(lost!.reason).toBeInstanceOf(WorkflowFailedError);
    const cause = (lost!.reason as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('EnvironmentBusy');
    expect(cause.message).toContain(
      `contoso-sandbox is being serviced by workflow ${handles[won].workflowId}`,
    );
    expect((await entity().history()).length).toBe(before + 1);
    expect(await entity().holder()).toBeUndefined();
  });

  it('refuses decisions that do not fit: resume while running, rollback before any change, anything after the end', async () => {
    // Long enough that the resume below (a CLI process) arrives while aos-1 starts, even on a busy machine.
    await e2e.env.fleet.setFaults({ startDelayMs: { 'aos-1': 10_000 } });
    const running = e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall');
    const handle = e2e.temporal.client.workflow.getHandle(operationWorkflowId('contoso-sandbox'));
    await waitForStatus(handle, (s) => s.step === 'restartAos');
    const resume = await e2e.maint('resume', 'contoso-sandbox', '-u', 'jane');
    expect(resume.code).toBe(4);
    expect(resume.stderr.trim()).toBe(
      'resume refused: nothing has failed: the operation is running restartAos',
    );
    expect((await running).code).toBe(0);

    const late = await e2e.maint('abort', 'contoso-sandbox', '-u', 'jane');
    expect(late.code).toBe(4);
    expect(late.stderr.trim()).toBe(
      'Operation maintenance-contoso-sandbox has ended: there is nothing to decide.',
    );
    expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(0);

    await e2e.env.fleet.setFaults({ databaseUnreachable: true });
    expect((await e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(6);
    const rollback = await e2e.maint('rollback', 'contoso-sandbox', '-u', 'jane');
    expect(rollback.code).toBe(4);
    expect(rollback.stderr.trim()).toBe(
      'rollback refused: nothing to roll back: it failed before changing anything; resume or abort',
    );
    expect((await e2e.maint('abort', 'contoso-sandbox', '-u', 'jane')).code).toBe(0);
  });

  it('treats cancelling a failed operation as abort, records it and releases the lock', async () => {
    const handle = await failedOperation();
    const atFailure = await e2e.observe();
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(await e2e.observe()).toEqual(atFailure);
    expect((await entity().history(1))[0]).toMatchObject({
      result: 'Aborted',
      decisions: [{ kind: 'cancel', step: 'restartAos' }],
    });
    expect(await entity().holder()).toBeUndefined();
  });

  it('records who decided with the client identity: maint-cli for the CLI, unknown for the temporal CLI', async () => {
    const handle = await failedOperation();
    await e2e.env.fleet.clearFaults();
    const identity = `maint-cli ${os.userInfo().username}@${os.hostname()}`;
    expect((await e2e.maint('resume', 'contoso-sandbox', '--by', 'alice', '-r', 'fixed')).code).toBe(0);
    const result = (await handle.result()) as ServicingResult;
    expect(result.decisions).toMatchObject([{ kind: 'resume', by: 'alice', identity }]);
    expect((await e2e.maint('status', 'contoso-sandbox')).stdout).toContain(
      `decision: resume by alice (client ${identity}) at `,
    );
    expect((await e2e.maint('logs', 'contoso-sandbox')).stdout).toContain(
      `resume by alice (client ${identity}): fixed`,
    );
    expect((await entity().history(1))[0].decisions).toMatchObject([{ by: 'alice', identity }]);
    expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(0);

    // The temporal CLI (as the Web UI) sends no identity header: the decision says so.
    const next = await failedOperation();
    await promisify(execFile)(temporalCliPath(), [
      ...['workflow', 'signal', '--address', e2e.temporal.address, '--namespace', 'default'],
      ...['--workflow-id', next.workflowId, '--name', 'abort', '--input', '{"by": "bob"}'],
    ]);
    await expect(next.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const [aborted] = await entity().history(1);
    expect(aborted).toMatchObject({ result: 'Aborted', decisions: [{ kind: 'abort', by: 'bob' }] });
    expect(aborted.decisions[0]).not.toHaveProperty('identity');
    expect((await e2e.maint('history', 'contoso-sandbox')).stdout).toContain('abort by bob (client unknown)');
  });

  it("shows an operation that failed before it held the lock as Failed in the runbook's Web UI view", async () => {
    entityDown = 'fails';
    expect((await e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(6);
    const handle = e2e.temporal.client.workflow.getHandle(operationWorkflowId('contoso-sandbox'));
    expect(await waitForDecision(handle)).toMatchObject({ step: 'preflight', state: 'Failed' });
    await until(
      () => failedInVisibility(e2e.temporal.client),
      (ids) => ids.includes(handle.workflowId),
      'the failed operation in the Web UI view',
    );
    expect((await e2e.maint('list', '--state', 'Failed')).stdout).toContain('contoso-sandbox');
    const attributes = async () => {
      const found = (await handle.describe()).typedSearchAttributes;
      return Object.values(searchAttributes).map((key) => found.get(key));
    };
    expect(await attributes()).toEqual(['contoso-sandbox', 'enable', 'Failed', undefined]);

    entityDown = undefined;
    expect((await e2e.maint('resume', 'contoso-sandbox', '-u', 'jane', '-r', 'entity back')).code).toBe(0);
    await expect(handle.result()).resolves.toMatchObject({ result: 'Succeeded', state: 'InMaintenance' });
    expect(await attributes()).toEqual(['contoso-sandbox', 'enable', 'InMaintenance', 'Succeeded']);
    recordHistory(
      'enable-failed-before-lock.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
  });

  it('leaves the environment as it was when an operation that failed before the lock is aborted', async () => {
    entityDown = 'fails';
    expect((await e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(6);
    entityDown = undefined;
    expect((await e2e.maint('abort', 'contoso-sandbox', '-u', 'jane', '-r', 'not now')).code).toBe(0);
    const handle = e2e.temporal.client.workflow.getHandle(operationWorkflowId('contoso-sandbox'));
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    recordHistory(
      'enable-aborted-before-lock.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
    expect((await entity().history(1))[0]).toMatchObject({
      result: 'Aborted',
      decisions: [{ kind: 'abort' }],
    });
    const status = JSON.parse((await e2e.maint('status', 'contoso-sandbox', '--json')).stdout);
    expect(status.state).toBe('Deployed');
    expect((await e2e.maint('list', '--state', 'Failed')).stdout).not.toContain('contoso-sandbox');
  });

  it('leaves the environment as it was when an operation is cancelled while it takes the lock', async () => {
    entityDown = 'hangs';
    const handle = await startFromUi('cancelled-at-the-lock');
    await until(
      () => handle.describe(),
      (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'acquireLock'),
      'the lock to be asked for',
    );
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    recordHistory(
      'enable-cancelled-at-the-lock.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
    expect((await entity().history(1))[0]).toMatchObject({
      operationId: handle.workflowId,
      result: 'Aborted',
      decisions: [{ kind: 'cancel', step: 'preflight' }],
    });
    expect(JSON.parse((await e2e.maint('status', 'contoso-sandbox', '--json')).stdout).state).toBe(
      'Deployed',
    );
  });

  it('takes over the lock of an operation terminated from the UI', async () => {
    const handle = await failedOperation();
    await handle.terminate('stuck, terminated from the Web UI');
    expect((await entity().holder())?.workflowId).toBe(handle.workflowId);
    await e2e.env.fleet.clearFaults();
    const next = await startFromUi('after-terminate', 'disableMaintenanceMode');
    await expect(next.result()).resolves.toMatchObject({ result: 'Succeeded' });
    expect(await entity().holder()).toBeUndefined();
    const [disabled, released] = await entity().history(2);
    expect(disabled).toMatchObject({ operationId: 'after-terminate', result: 'Succeeded' });
    expect(released).toMatchObject({
      operationId: handle.workflowId,
      result: 'Released',
      detail: expect.stringContaining('closed (TERMINATED) without releasing the lock'),
    });
  });

  it('unlocks by force only when told so and confirmed', async () => {
    const handle = await failedOperation();
    const noForce = await e2e.maint('unlock', 'contoso-sandbox');
    expect(noForce.code).toBe(2);
    expect(noForce.stderr).toContain("required option '--force' not specified");
    const unconfirmed = await e2e.maint('unlock', 'contoso-sandbox', '--force');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(`contoso-sandbox is locked by workflow ${handle.workflowId}`);
    expect(unconfirmed.stderr).toContain('Not unlocked: confirmation missing');
    expect(await entity().holder()).toBeDefined();
    const forced = await e2e.maint(
      'unlock',
      'contoso-sandbox',
      '--force',
      '--yes',
      '-u',
      'jane',
      '-r',
      'stuck',
    );
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).toBe(
      `Released the lock of contoso-sandbox (held by ${handle.workflowId}); recorded in its history.`,
    );
    expect((await entity().history(1))[0]).toMatchObject({
      action: 'unlock',
      requestedBy: 'jane',
      reason: 'stuck',
      result: 'Released',
      detail: expect.stringContaining(`it was held by ${handle.workflowId} (enable requested by`),
    });
    expect(await entity().holder()).toBeUndefined();
    expect((await e2e.maint('abort', 'contoso-sandbox', '-u', 'jane')).code).toBe(0);
  });

  it('downloads the operation log and prints the environment history, newest first', async () => {
    await e2e.env.fleet.setFaults({ startFailures: { 'aos-4': 1 } });
    expect((await e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall', '-r', 'log test')).code).toBe(0);
    const file = path.join(e2e.env.dir, 'operation.log');
    const logs = await e2e.maint('logs', 'contoso-sandbox', '-o', file);
    expect(logs.code).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(
      /^Operation log of maintenance-contoso-sandbox \(run .*\): enable maintenance mode on contoso-sandbox/,
    );
    expect(text).toMatch(
      /attempt\s+restartAos aos-4\s+restart: attempt 1 failed \(\d+ ms\)\n\s+AosStartFailed: restart aos-4: aos-4 failed to start/,
    );
    expect(text).toMatch(/restartAos aos-4\s+restart: attempt 2 succeeded/);
    const json = JSON.parse(
      (await e2e.maint('logs', operationWorkflowId('contoso-sandbox'), '--json')).stdout,
    ) as OperationLog;
    const viaQuery = await e2e.temporal.client.workflow
      .getHandle(operationWorkflowId('contoso-sandbox'))
      .query(logQuery);
    expect(json).toEqual(viaQuery);

    expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'oncall', '-r', 'done')).code).toBe(0);
    const table = (await e2e.maint('history', 'contoso-sandbox')).stdout.split('\n');
    expect(table[0]).toMatch(
      /^started\s+finished\s+action\s+result\s+requested by\s+reason\s+decisions\s+operation$/,
    );
    expect(table[2]).toMatch(/disable\s+Succeeded\s+oncall\s+done/);
    expect(table[3]).toMatch(/enable\s+Succeeded\s+oncall\s+log test/);
    const entries = JSON.parse((await e2e.maint('history', 'contoso-sandbox', '--json', '-n', '2')).stdout);
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['disable', 'enable']);

    const list = JSON.parse((await e2e.maint('list', '--json')).stdout);
    expect(list).toMatchObject([{ environment: 'contoso-sandbox', state: 'Deployed' }]);
    const unknown = await e2e.maint('logs', 'no-such-workflow');
    expect(unknown.code).toBe(5);
    expect(unknown.stderr.trim()).toBe(
      '"no-such-workflow" is neither an environment (contoso-sandbox) nor a workflow ID.',
    );
  });
});
