import { randomUUID } from 'node:crypto';
import {
  WorkflowUpdateFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { EnvironmentEntities } from '../../client/environment-entity';
import {
  ENVIRONMENT_WORKFLOW_TYPE,
  LIMITS,
  environmentQuery,
  environmentWorkflowId,
  forceUnlockUpdate,
  importHistoryUpdate,
  jsonBytes,
  operationStateSignal,
  recordEntryUpdate,
  type HistoryEntry,
} from '../../contract/environment';
import type { Action } from '../../contract/operation';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { recordHistory } from '../helpers/record-history';
import { waitForDecision, waitForStatus } from '../helpers/status';
import { until } from '../helpers/until';

/**
 * One operation per environment, whatever happens to the environment's entity workflow: terminated
 * (and recreated by the next call, or started by hand with a record of someone's making), run by a
 * worker that does not know the environment, or asked to unlock a holder that changed meanwhile. And
 * the environment's state tells the truth about a queued operation that was granted the lock.
 */
let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({ faults: true, lockCheckInterval: '1s', busyTimeout: '8s' });
});
afterAll(() => e2e?.stop());
afterEach(async () => {
  await e2e.env.fleet.clearFaults();
  for (const { workflowId } of (await view())?.queue ?? []) await terminate(workflowId);
  const holder = (await view())?.holder;
  if (holder) await e2e.maint('abort', holder.workflowId, '-u', 'cleanup');
  if ((await e2e.observe()).flag !== 0) await run('disable');
});

const client = () => e2e.temporal.client;
const entities = () => new EnvironmentEntities(client(), e2e.env.config.temporal.taskQueue);
const view = () => entities().view(e2e.env.name);
/** The entity's view once it answers (it is started on demand). */
const entityView = async () => (await view())!;
const entityHandle = () => client().workflow.getHandle(environmentWorkflowId(e2e.env.name));

const start = (action: Action, extra: { onBusy?: 'wait' } = {}) =>
  client().workflow.start(action === 'enable' ? 'enableMaintenanceMode' : 'disableMaintenanceMode', {
    workflowId: `${action}-${randomUUID()}`,
    taskQueue: e2e.env.config.temporal.taskQueue,
    args: [{ environment: e2e.env.name, requestedBy: 'test', reason: 'entity recovery', ...extra }],
  });
const run = async (action: Action) => (await start(action)).result();
const terminate = (workflowId: string) =>
  client()
    .workflow.getHandle(workflowId)
    .terminate('test cleanup')
    .catch(() => undefined);

const statusOf = (handle: WorkflowHandle) => waitForStatus(handle, () => true);
const untilEntity = (done: (v: Awaited<ReturnType<typeof entityView>>) => boolean) =>
  until(entityView, done, 'an entity view that fits');

/** An enable that fails at the AOS restart and waits for a decision, holding the lock. */
async function failedEnable(): Promise<WorkflowHandleWithFirstExecutionRunId> {
  await e2e.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
  const handle = await start('enable');
  await waitForDecision(handle);
  return handle;
}

/** A queued operation: started with onBusy wait while another holds the environment. */
async function queued(action: Action) {
  const handle = await start(action, { onBusy: 'wait' });
  await untilEntity((v) => v.queue.some((w) => w.workflowId === handle.workflowId));
  return handle;
}

async function expectRefusedAsBusy(...args: string[]) {
  const refused = await e2e.maint(...args);
  expect(refused.code).toBe(4);
  expect(refused.stdout + refused.stderr).toContain('is being serviced by');
}

describe('a recreated environment entity', () => {
  it('keeps the lock of an enable awaiting a decision when the entity is terminated: `maint window` and `maint enable` are refused', async () => {
    const holder = await failedEnable();
    // Terminated before the holder's last state signal (Failed) reached it, as an operator may: the
    // entity's own record still says EnablingMaintenance. The recreated one must not believe it.
    await untilEntity((v) => v.state === 'Failed');
    const lineage = holder.firstExecutionRunId;
    await entityHandle().signal(operationStateSignal, {
      workflowId: holder.workflowId,
      lineage,
      state: 'EnablingMaintenance',
    });
    await untilEntity((v) => v.state === 'EnablingMaintenance');
    const before = await entityHandle().describe();
    await entityHandle().terminate('terminated by an operator');

    await expectRefusedAsBusy('enable', e2e.env.name, '-u', 'intruder', '-r', 'second operation');
    const recreated = await entityHandle().describe();
    expect(recreated.runId).not.toBe(before.runId);
    expect(await view()).toMatchObject({
      state: 'Failed',
      holder: { workflowId: holder.workflowId, lineage },
    });
    // A window waits for the environment (busyTimeout 8s here), then is refused having changed nothing.
    const window = await e2e.maint('window', e2e.env.name, '-d', 'PT1H', '-u', 'intruder');
    expect(window.code).toBe(4);
    expect(window.stdout + window.stderr).toContain('stayed busy');
    expect((await view())?.holder?.workflowId).toBe(holder.workflowId);

    await e2e.env.fleet.clearFaults();
    expect((await e2e.maint('resume', holder.workflowId, '-u', 'oncall')).code).toBe(0);
    const after = await entityView();
    expect(after.state).toBe('InMaintenance');
    expect(after.holder).toBeUndefined();
    const { events } = await client()
      .workflow.getHandle(environmentWorkflowId(e2e.env.name), recreated.runId)
      .fetchHistory();
    recordHistory('environment-entity-recreated.json', environmentWorkflowId(e2e.env.name), events ?? []);
  });

  it('does not believe a record typed into a start by hand: it finds its previous run and its lock by itself', async () => {
    const holder = await failedEnable();
    await entityHandle().terminate('terminated by an operator');
    const empty = { state: 'Deployed', sharers: [], queue: [], history: [], dropped: 0 };
    await client().workflow.start(ENVIRONMENT_WORKFLOW_TYPE, {
      workflowId: environmentWorkflowId(e2e.env.name),
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [{ environment: e2e.env.name, record: { environment: e2e.env.name, ...empty } }],
    });

    await expectRefusedAsBusy('enable', e2e.env.name, '-u', 'intruder');
    expect(await view()).toMatchObject({ state: 'Failed', holder: { workflowId: holder.workflowId } });
    expect((await view())!.historyLength).toBeGreaterThan(0);
  });

  it('waits rather than ends on a worker whose temporal.yaml lacks the environment, and says so', async () => {
    const ghost = await client().workflow.start(ENVIRONMENT_WORKFLOW_TYPE, {
      workflowId: environmentWorkflowId('ghost'),
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [{ environment: 'ghost' }],
    });
    // Its settings' local activity fails three times (a few seconds) before the entity waits.
    const { currentDetails } = await until(
      () => ghost.query<{ currentDetails?: string }>('__temporal_workflow_metadata'),
      (m) => !!m.currentDetails?.includes('Waiting'),
      'Current Details that say the entity waits',
    );
    expect(currentDetails).toContain('Unknown environment "ghost"');
    expect(currentDetails).toContain('Declare ghost in the temporal.yaml of every worker of this task queue');
    expect((await ghost.query(environmentQuery)).state).toBe('Deployed');
    await new Promise((r) => setTimeout(r, 3000));
    expect((await ghost.describe()).status.name).toBe('RUNNING');
    await ghost.terminate('test over');
  });
});

describe('the environment state never lies', () => {
  it('takes the state of a queued enable granted the lock; terminated mid-restart, it leaves the environment Failed and `maint status` not ready', async () => {
    await run('enable');
    await e2e.env.fleet.setFaults({ startFailures: { 'aos-2': 1000 } });
    const disabling = await start('disable');
    await waitForDecision(disabling);
    const enabling = await queued('enable');

    // The disable goes through; the queued enable is granted the lock and hangs restarting aos-1 (long
    // enough to be terminated there; what the test waits for once aos-1 is up again).
    await e2e.env.fleet.setFaults({ startFailures: { 'aos-2': 0 }, startDelayMs: { 'aos-1': 6_000 } });
    expect((await e2e.maint('resume', disabling.workflowId, '-u', 'oncall')).code).toBe(0);
    const granted = await untilEntity((v) => v.holder?.workflowId === enabling.workflowId);
    expect(granted.state).toBe('EnablingMaintenance');
    await waitForStatus(enabling, (s) => s.step === 'restartAos');
    await enabling.terminate('stuck: terminated from the Web UI');

    const released = await untilEntity((v) => v.holder === undefined);
    expect(released.state).toBe('Failed');
    const status = await e2e.maint('status', e2e.env.name);
    expect(status.code).toBe(8);
    expect(status.stdout).toContain('Failed');
  });
});

describe('the queue', () => {
  it('serves an operation reset from the Web UI while it waited in its new run, at once', async () => {
    const holder = await failedEnable();
    const waiting = await queued('disable');
    const { events } = await waiting.fetchHistory();
    const lastTask = [...(events ?? [])].reverse().find((e) => e.workflowTaskCompletedEventAttributes);
    const { runId } = await client().workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: waiting.workflowId, runId: waiting.firstExecutionRunId },
      workflowTaskFinishEventId: lastTask!.eventId,
      requestId: randomUUID(),
      reason: 'reset from the Web UI',
    });
    const reset = client().workflow.getHandle(waiting.workflowId, runId!);
    await statusOf(reset);

    await e2e.env.fleet.clearFaults();
    const aborted = Date.now();
    expect((await e2e.maint('abort', holder.workflowId, '-u', 'oncall')).code).toBe(0);
    await expect(reset.result()).resolves.toMatchObject({ result: 'Succeeded' });
    // Granted at once: a run that waited out busyTimeout (8 s here) would have been refused.
    expect(Date.now() - aborted).toBeLessThan(8_000);
    recordHistory('disable-queued-reset.json', reset.workflowId, (await reset.fetchHistory()).events ?? []);
  });

  it('drops an operation cancelled while it waited; its end does not touch the environment', async () => {
    const holder = await failedEnable();
    const waiting = await queued('disable');
    await waiting.cancel();
    await expect(waiting.result()).rejects.toBeDefined();
    const after = await view();
    expect(after?.queue).toEqual([]);
    expect(after?.holder?.workflowId).toBe(holder.workflowId);
    recordHistory(
      'disable-queued-cancelled.json',
      waiting.workflowId,
      (await waiting.fetchHistory()).events ?? [],
    );
  });
});

describe('unlock --force', () => {
  it('releases nothing when the lock changed hands after the operator was shown its holder', async () => {
    const holder = await failedEnable();
    const refused = entities().update(e2e.env.name, forceUnlockUpdate, {
      by: 'oncall',
      reason: 'stuck',
      expected: { workflowId: 'enable-that-ended', lineage: 'some-run' },
    });
    await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(refused).rejects.toMatchObject({
      cause: { message: expect.stringContaining('the lock changed hands') },
    });
    expect((await view())?.holder?.workflowId).toBe(holder.workflowId);

    const unlocked = await e2e.maint('unlock', e2e.env.name, '--force', '--yes', '-u', 'oncall');
    expect(unlocked.code).toBe(0);
    expect((await view())?.holder).toBeUndefined();
    expect((await e2e.maint('abort', holder.workflowId, '-u', 'oncall')).code).toBe(0);
    const { events } = await entityHandle().fetchHistory();
    recordHistory('environment-entity-forced-unlock.json', environmentWorkflowId(e2e.env.name), events ?? []);
  });
});

describe('the record is bounded', () => {
  const entry = (i: number, detail: string): HistoryEntry => ({
    operationId: `imported-${i}`,
    runId: `run-${i}`,
    environment: e2e.env.name,
    action: 'enable',
    requestedBy: 'first.release',
    reason: 'imported',
    startedAt: new Date(Date.UTC(2020, 0, 1, 0, 0, i)).toISOString(),
    finishedAt: new Date(Date.UTC(2020, 0, 1, 0, 0, i)).toISOString(),
    result: 'Succeeded',
    detail,
    decisions: [],
  });

  it('refuses an entry whose strings are too long, saying which and how long they may be', async () => {
    await entities().update(e2e.env.name, importHistoryUpdate, { entries: [entry(10_000, 'imported')] });
    const { events } = await entityHandle().fetchHistory();
    recordHistory('environment-entity-import.json', environmentWorkflowId(e2e.env.name), events ?? []);
    await expect(
      entities().update(e2e.env.name, recordEntryUpdate, { ...entry(0, ''), reason: 'x'.repeat(501) }),
    ).rejects.toMatchObject({
      cause: { message: expect.stringContaining('reason has at most 500 characters') },
    });
  });

  it('keeps the history under its byte limit, counting the entries it let go', async () => {
    const before = (await view())!.historyLength;
    for (let batch = 0; batch < 3; batch++) {
      const entries = Array.from({ length: LIMITS.importBatch }, (_, i) =>
        // About 2 KB each (é is 2 bytes), 1 MB a batch: under the server's 2 MB payload limit.
        entry(batch * LIMITS.importBatch + i, 'é'.repeat(LIMITS.detail / 2)),
      );
      await entities().update(e2e.env.name, importHistoryUpdate, { entries });
    }
    const after = (await view())!;
    expect(after.historyLength).toBe(before + 3 * LIMITS.importBatch);
    const kept = await entities().history(e2e.env.name, 10_000);
    expect(kept.length).toBeLessThan(3 * LIMITS.importBatch);
    expect(jsonBytes(kept)).toBeLessThanOrEqual(LIMITS.historyBytes);
  });
});
