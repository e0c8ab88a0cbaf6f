import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/client';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  decisionUpdates,
  logQuery,
  statusQuery,
  type ServicingInput,
  type ServicingResult,
} from '../../contract/operation';
import { EnvironmentEntities } from '../../client/environment-entity';
import type { WindowInput } from '../../contract/window';
import {
  disableMaintenanceMode,
  enableMaintenanceMode,
  maintenanceRollout,
  maintenanceWindow,
} from '../../workflows';
import { entityOf } from '../helpers/entity';
import { observeEnvironment } from '../helpers/environment';
import { recordHistory } from '../helpers/record-history';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForDecision } from '../helpers/status';

/**
 * Hooks (temporal.yaml `hooks`) on the time-skipping server with the real fleet: each hook is a shell
 * command in the test's folder that notes it ran in `ran`, and fails when a file says so (`veto`,
 * `after-fails`). Their variables hold a secret that they print: it must never come out unmasked.
 */
const TOKEN = `hook-token-${randomUUID()}`;
process.env.HOOKS_TEST_TOKEN = TOKEN;
const ran = (hook: string, failsIf?: string, exit = 1) =>
  `echo "${hook} for $MAINTENANCE_REQUESTED_BY ($MAINTENANCE_ACTION)" >> ran; ` +
  (failsIf
    ? `if [ -f ${failsIf} ]; then echo "${hook} says no, token $HOOK_TOKEN" >&2; exit ${exit}; fi; `
    : '') +
  `echo "${hook} done, token $HOOK_TOKEN"`;

const bed = timeSkippingTestbed({
  hooks: {
    env: { HOOK_TOKEN: '${env:HOOKS_TEST_TOKEN}' },
    timeout: '30s',
    beforeEnable: { shell: ran('beforeEnable', 'veto', 3) },
    afterEnable: { shell: ran('afterEnable', 'after-fails') },
    beforeDisable: { shell: ran('beforeDisable') },
    afterDisable: { shell: ran('afterDisable') },
  },
});
const { withWorker } = bed;
const file = (name: string) => path.join(bed.env.dir, name);
const hooksRan = () =>
  fs.existsSync(file('ran')) ? fs.readFileSync(file('ran'), 'utf8').trim().split('\n') : [];

beforeEach(() => {
  for (const f of ['ran', 'veto', 'after-fails']) fs.rmSync(file(f), { force: true });
});
afterEach(async () => {
  for (const f of ['veto', 'after-fails']) fs.rmSync(file(f), { force: true });
  if (bed.env.readFlag() === 1) await withWorker(async () => (await start(disableMaintenanceMode)).result());
});

const input = (): ServicingInput => ({
  environment: bed.env.name,
  requestedBy: 'jane',
  reason: 'hooks test',
});

function start(workflow: typeof enableMaintenanceMode) {
  return bed.temporal.client.workflow.start(workflow, {
    workflowId: `hooks-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [input()],
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return (error as WorkflowFailedError).cause as ApplicationFailure;
}

/** The environment's state as its entity keeps it (`maint status`). */
const stateOfEnvironment = async () =>
  (await new EnvironmentEntities(bed.temporal.client, bed.env.config.temporal.taskQueue).view(bed.env.name))
    ?.state;

/** Everything the workflow's history holds, as text: where a leaked secret would show. */
const historyText = async (handle: WorkflowHandle) => JSON.stringify(await handle.fetchHistory());

it('a before hook that fails refuses the enable: HookRefused, flag and AOS untouched, lock free, history Rejected, secret masked', async () => {
  fs.writeFileSync(file('veto'), '');
  const before = await observeEnvironment(bed.env.fleet, bed.env.databaseFile);
  const { failure, log, history, handle } = await withWorker(async () => {
    const handle = await start(enableMaintenanceMode);
    const failure = await failureOf(handle.result());
    return { failure, handle, log: await handle.query(logQuery), history: await historyText(handle) };
  });
  expect(failure.type).toBe('HookRefused');
  expect(failure.message).toMatch(
    /^The enable was refused by hook beforeEnable: hook beforeEnable \(.*\) exited 3; stderr: beforeEnable says no, token \$\{env:HOOKS_TEST_TOKEN\}\. Nothing was changed on contoso-sandbox\./,
  );
  expect(await observeEnvironment(bed.env.fleet, bed.env.databaseFile)).toEqual(before);
  expect(hooksRan()).toEqual(['beforeEnable for jane (enable)']);
  const entity = entityOf(bed.temporal.client, bed.env);
  expect(await entity.holder()).toBeUndefined();
  expect(await stateOfEnvironment()).toBe('Deployed');
  const [entry] = await entity.history(1);
  expect(entry).toMatchObject({ operationId: handle.workflowId, result: 'Rejected' });
  expect(entry.detail).toContain('refused by hook beforeEnable');
  const steps = (await handle.query(statusQuery)).steps.map((s) => `${s.name} ${s.status}`);
  expect(steps).toEqual([
    'preflight succeeded',
    'beforeEnable failed',
    'flipFlag pending',
    'restartAos pending',
    'verify pending',
    'afterEnable pending',
    'record succeeded',
  ]);
  expect(log.entries.map((e) => e.message).join('\n')).toContain('beforeEnable failed');
  for (const text of [history, JSON.stringify(log), failure.message]) expect(text).not.toContain(TOKEN);
  recordHistory('enable-vetoed-by-hook.json', handle.workflowId, JSON.parse(history).events);
});

it('hooks run around enable and disable as steps, their output in the log with the secret masked', async () => {
  const { enabled, disabled, log } = await withWorker(async () => {
    const handle = await start(enableMaintenanceMode);
    const enabled = await handle.result();
    const log = await handle.query(logQuery);
    recordHistory('enable-with-hooks.json', handle.workflowId, (await handle.fetchHistory()).events ?? []);
    return { enabled, log, disabled: await (await start(disableMaintenanceMode)).result() };
  });
  expect(enabled.steps.map((s) => `${s.name} ${s.status}`)).toEqual([
    'preflight succeeded',
    'beforeEnable succeeded',
    'flipFlag succeeded',
    'restartAos succeeded',
    'verify succeeded',
    'afterEnable succeeded',
    'record succeeded',
  ]);
  expect(disabled.result).toBe('Succeeded');
  expect(hooksRan()).toEqual([
    'beforeEnable for jane (enable)',
    'afterEnable for jane (enable)',
    'beforeDisable for jane (disable)',
    'afterDisable for jane (disable)',
  ]);
  const notes = log.entries.filter((e) => e.step === 'afterEnable').map((e) => e.message);
  expect(notes).toContainEqual(
    expect.stringMatching(
      /^ran afterEnable: .* → exit 0 .*afterEnable done, token \$\{env:HOOKS_TEST_TOKEN\}$/,
    ),
  );
  expect(JSON.stringify(log)).not.toContain(TOKEN);
});

it('an after hook that fails is a Failed step: resume runs it again and the enable succeeds', async () => {
  fs.writeFileSync(file('after-fails'), '');
  const result = await withWorker(async () => {
    const handle = await start(enableMaintenanceMode);
    const status = await waitForDecision(handle);
    expect(status).toMatchObject({
      step: 'afterEnable',
      availableDecisions: ['resume', 'rollback', 'abort'],
    });
    expect(bed.env.readFlag()).toBe(1);
    fs.rmSync(file('after-fails'));
    await handle.executeUpdate(decisionUpdates.resume, {
      args: [{ by: 'jane', reason: 'notified by hand' }],
    });
    const result: ServicingResult = await handle.result();
    recordHistory(
      'enable-after-hook-resumed.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
    return result;
  });
  expect(result).toMatchObject({ result: 'Succeeded', state: 'InMaintenance' });
  expect(hooksRan().filter((h) => h.startsWith('afterEnable'))).toHaveLength(2);
});

it('an after hook that fails can be rolled back: the flag and AOS are back as they were', async () => {
  fs.writeFileSync(file('after-fails'), '');
  const before = await observeEnvironment(bed.env.fleet, bed.env.databaseFile);
  const result = await withWorker(async () => {
    const handle = await start(enableMaintenanceMode);
    await waitForDecision(handle);
    await handle.executeUpdate(decisionUpdates.rollback, {
      args: [{ by: 'jane', reason: 'users not told' }],
    });
    return handle.result();
  });
  expect(result).toMatchObject({ result: 'RolledBack', state: 'Deployed' });
  expect(await observeEnvironment(bed.env.fleet, bed.env.databaseFile)).toEqual(before);
});

it('a window runs the hooks of its enable and disable children; a veto of its enable refuses the window', async () => {
  const windowInput: WindowInput = { ...input(), duration: 'PT10M' };
  const opened = await withWorker(async () => {
    const handle = await bed.temporal.client.workflow.start(maintenanceWindow, {
      workflowId: `hooks-window-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [windowInput],
    });
    const result = await handle.result();
    recordHistory('window-with-hooks.json', handle.workflowId, (await handle.fetchHistory()).events ?? []);
    return result;
  });
  expect(opened.result).toBe('Succeeded');
  expect(hooksRan().map((l) => l.split(' ')[0])).toEqual([
    'beforeEnable',
    'afterEnable',
    'beforeDisable',
    'afterDisable',
  ]);

  fs.writeFileSync(file('veto'), '');
  const before = await observeEnvironment(bed.env.fleet, bed.env.databaseFile);
  const failure = await withWorker(async () => {
    const handle = await bed.temporal.client.workflow.start(maintenanceWindow, {
      workflowId: `hooks-window-vetoed-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [windowInput],
    });
    const failure = await failureOf(handle.result());
    recordHistory(
      'window-vetoed-by-hook.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
    return failure;
  });
  expect(failure.type).toBe('HookRefused');
  expect(failure.message).toMatch(/^The window did not open: The enable was refused by hook beforeEnable/);
  expect(await observeEnvironment(bed.env.fleet, bed.env.databaseFile)).toEqual(before);
  const entity = entityOf(bed.temporal.client, bed.env);
  expect(await entity.holder()).toBeUndefined();
  expect(await stateOfEnvironment()).toBe('Deployed');
  const entries = await entity.history(2);
  expect(entries.map((e) => `${e.action} ${e.result}`).sort()).toEqual([
    'enable Rejected',
    'window Rejected',
  ]);
  expect(entries.find((e) => e.action === 'window')!.detail).toContain('refused by hook beforeEnable');
});

it('a rollout skips an environment whose before hook refuses, with the hook reason in its row', async () => {
  fs.writeFileSync(file('veto'), '');
  const result = await withWorker(async () =>
    bed.temporal.client.workflow.execute(maintenanceRollout, {
      workflowId: `hooks-rollout-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [{ action: 'enable', environments: [bed.env.name], requestedBy: 'jane', reason: 'hooks test' }],
    }),
  );
  expect(result.environments).toEqual([
    expect.objectContaining({
      environment: bed.env.name,
      result: 'Skipped',
      error: expect.objectContaining({ type: 'HookRefused' }),
    }),
  ]);
  expect(result.counts).toMatchObject({ skipped: 1, failed: 0, errors: 0 });
  expect(bed.env.readFlag()).toBe(0);
});
