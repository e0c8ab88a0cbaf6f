import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createRolloutActivities } from '../../activities/rollout';
import type { Config } from '../../config/schema';
import {
  resolveLimit,
  rolloutChildId,
  rolloutInputSchema,
  rolloutStatusQuery,
  rolloutUpdates,
  type RolloutInput,
  type RolloutResult,
  type RolloutStatus,
} from '../../contract/rollout';
import { decisionSignals, decisionUpdates, logQuery, statusQuery } from '../../contract/operation';
import { maintenanceRollout } from '../../workflows';
import { formatRollout } from '../../client/format';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordHistory } from '../helpers/record-history';
import { waitForClose, waitForDecision } from '../helpers/status';
import { timeSkippingTestbed } from '../helpers/testbed';
import { until } from '../helpers/until';

const names = [
  ...['ok', 'slow', 'fail', 'busy', 'decide', 'wait'].flatMap((p) =>
    Array.from({ length: 10 }, (_, i) => `${p}-${i + 1}`),
  ),
];
const environments = Object.fromEntries(
  names.map((n) => [n, { tags: n.startsWith('ok-') && Number(n.slice(3)) <= 4 ? ['sandbox'] : [] }]),
) as unknown as Config['environments'];

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `rollout-test-${process.pid}`;
/** Fake operations running now, and the most that ever ran at once. */
const active = new Set<string>();
let most = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../helpers/rollout-fakes'),
    interceptors: { workflowModules: [require.resolve('../../workflows/caller')] },
    activities: {
      ...createRolloutActivities({ environments, searchAttributes: false }),
      async began(environment: string) {
        active.add(environment);
        most = Math.max(most, active.size);
      },
      async ended(environment: string) {
        active.delete(environment);
      },
    },
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});
beforeEach(() => {
  active.clear();
  most = 0;
});

const start = (input: Partial<RolloutInput>) =>
  env.client.workflow.start('maintenanceRollout', {
    workflowId: `rollout-${randomUUID()}`,
    taskQueue,
    args: [{ action: 'enable', requestedBy: 'jane', reason: 'rollout test', ...input }],
  });

const run = async (input: Partial<RolloutInput>): Promise<RolloutResult> =>
  (await start(input)).result() as Promise<RolloutResult>;

/** Real-time polling (no time skipping while we only query) until the status matches. */
const untilRollout = (
  handle: { workflowId: string; query: Awaited<ReturnType<typeof start>>['query'] },
  done: (s: RolloutStatus) => boolean,
) =>
  until(
    () => handle.query(rolloutStatusQuery),
    // Before its targets are resolved a rollout has no rows yet: nothing to look at.
    (s) => s.environments.length > 0 && done(s),
    `a status of ${handle.workflowId} that fits`,
  );

/**
 * Waits in real time (time skipping stays locked) until a member's workflow has closed. The test
 * server hands a rollout's cancel request to its member on a thread of its own without holding
 * time (sdk-java's processRequestCancelExternalWorkflowExecution takes no timer lock, unlike the
 * child's answer to its parent), so a result() that let time skip before the member had it could
 * jump to the rollout's ten-year default timeout: CI saw that, and 1 run in 60 under CPU load.
 */
const untilClosed = (workflowId: string) => waitForClose(env.client.workflow.getHandle(workflowId));

const results = (r: { environments: { environment: string; result?: string }[] }) =>
  Object.fromEntries(r.environments.map((e) => [e.environment, e.result]));
const by = { by: 'jane', reason: 'test' };

describe('limits as AWS Systems Manager rounds them', () => {
  it('rounds a percentage down; a concurrency is at least 1, an error limit may be 0', () => {
    expect(resolveLimit('25%', 10, { atLeastOne: true })).toBe(2);
    expect(resolveLimit('10%', 5, { atLeastOne: true })).toBe(1);
    expect(resolveLimit('10%', 5, { atLeastOne: false })).toBe(0);
    expect(resolveLimit('10%', 50, { atLeastOne: false })).toBe(5);
    expect(resolveLimit(3, 50, { atLeastOne: false })).toBe(3);
  });

  it.each([
    [{}, 'give either "environments": ["a", "b"] or "tag": "sandbox"'],
    [{ tag: 'x', environments: ['a'] }, 'not both and not neither'],
    [{ tag: 'x', action: 'window' }, 'a window rollout needs "duration"'],
    [{ tag: 'x', maxConcurrency: 0 }, 'maxConcurrency is a whole number of environments (at least 1)'],
    [{ tag: 'x', maxErrors: '150%' }, 'maxErrors as a percentage is 0% to 100%'],
    [{ tag: 'x', onBusy: 'queue' }, 'onBusy is "skip"'],
    [
      { tag: 'x', action: 'window', duration: 'PT1H', cutoff: 'PT1H' },
      'the cutoff must be shorter than the duration: no member could start',
    ],
    [{ tag: 'x', cutoff: 'PT5M' }, '"duration", "changes" and "cutoff" go with action "window" only'],
  ])('refuses %j with a message that says how to fix it', (input, message) => {
    const parsed = rolloutInputSchema.safeParse({ action: 'enable', requestedBy: 'jane', ...input });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.message).join('\n')).toContain(message);
  });
});

describe('maintenanceRollout (time-skipping server, fake operations)', () => {
  it('never runs more than maxConcurrency operations at once', async () => {
    const r = await run({
      environments: names.filter((n) => n.startsWith('ok-')).slice(0, 7),
      maxConcurrency: 3,
    });
    expect(most).toBe(3);
    expect(r.result).toBe('Succeeded');
    expect(r.counts).toMatchObject({ targets: 7, succeeded: 7, errors: 0 });
  });

  it("starts no member once the cutoff of the rollout's window has passed, and its table says why", async () => {
    // Each window takes ten minutes, one at a time; the window's last 25 of its 30 minutes are cut off.
    const handle = await start({
      action: 'window',
      duration: 'PT30M',
      cutoff: 'PT25M',
      environments: ['slow-1', 'slow-2', 'slow-3'],
    });
    const r = (await handle.result()) as RolloutResult;
    recordHistory('rollout-cutoff.json', handle.workflowId, (await handle.fetchHistory()).events ?? []);
    expect(results(r)).toEqual({ 'slow-1': 'Succeeded', 'slow-2': 'NotStarted', 'slow-3': 'NotStarted' });
    expect(r.stopped).toMatch(/^the window's cutoff passed at \S+ \(no start in its last 25m\)$/);
    expect(Date.parse(r.stopped!.split(' ')[5]) - Date.parse(r.startedAt)).toBe(5 * 60_000);
    expect(formatRollout(r)).toContain("No new environment started: the window's cutoff passed at");
  });

  it('takes maxConcurrency as a percentage of the targets, rounded down (50% of 5 is 2)', async () => {
    const r = await run({ environments: ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5'], maxConcurrency: '50%' });
    expect(most).toBe(2);
    expect(r.counts.succeeded).toBe(5);
  });

  it('resolves a tag to its environments from the configuration', async () => {
    const r = await run({ tag: 'sandbox', maxConcurrency: '100%' });
    expect(r.environments.map((e) => e.environment)).toEqual(['ok-1', 'ok-2', 'ok-3', 'ok-4']);
    expect(most).toBe(4);
  });

  it('starts nothing new once errors exceed maxErrors (a number): maxErrors 1 stops at the second error', async () => {
    const r = await run({ environments: ['fail-1', 'ok-1', 'fail-2', 'ok-2', 'ok-3'], maxErrors: 1 });
    expect(results(r)).toEqual({
      'fail-1': 'Failed',
      'ok-1': 'Succeeded',
      'fail-2': 'Failed',
      'ok-2': 'NotStarted',
      'ok-3': 'NotStarted',
    });
    expect(r.result).toBe('Failed');
    expect(r.stopped).toBe('2 errors, more than maxErrors 1');
  });

  it('takes maxErrors as a percentage rounded down: 20% of 10 allows 2, the third error stops new starts', async () => {
    const list = ['fail-1', 'fail-2', 'ok-1', 'fail-3', 'ok-2', 'ok-3', 'ok-4', 'ok-5', 'ok-6', 'ok-7'];
    const r = await run({ environments: list, maxErrors: '20%' });
    expect(r.counts).toMatchObject({ targets: 10, failed: 3, succeeded: 1, notStarted: 6, errors: 3 });
    expect(r.stopped).toBe('3 errors, more than maxErrors 2');
  });

  it('lets operations in flight finish when the error limit stops new starts', async () => {
    const r = await run({ environments: ['slow-1', 'slow-2', 'fail-1', 'ok-1'], maxConcurrency: 3 });
    expect(results(r)).toEqual({
      'slow-1': 'Succeeded',
      'slow-2': 'Succeeded',
      'fail-1': 'Failed',
      'ok-1': 'NotStarted',
    });
    const slow = r.environments.find((e) => e.environment === 'slow-1')!;
    expect(slow.durationMs).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it('skips a busy environment with onBusy skip, and has its operation wait with onBusy wait', async () => {
    const skipped = await run({ environments: ['busy-1', 'ok-1'] });
    expect(results(skipped)).toEqual({ 'busy-1': 'Skipped', 'ok-1': 'Succeeded' });
    expect(skipped.result).toBe('Succeeded');
    expect(skipped.counts).toMatchObject({ skipped: 1, errors: 0 });
    const waited = await run({ environments: ['busy-1', 'ok-1'], onBusy: 'wait' });
    expect(results(waited)).toEqual({ 'busy-1': 'Succeeded', 'ok-1': 'Succeeded' });
  });

  it('counts an operation that waits for a decision as an error at once; the decision is still taken on it', async () => {
    const handle = await start({ environments: ['decide-1', 'ok-1'], maxConcurrency: 1 });
    const waiting = await untilRollout(handle, (s) => s.counts.errors === 1);
    expect(waiting.stopped).toBe('1 error, more than maxErrors 0');
    expect(waiting.environments.map((e) => [e.environment, e.state])).toEqual([
      ['decide-1', 'AwaitingDecision'],
      ['ok-1', 'Pending'],
    ]);
    await env.client.workflow
      .getHandle(waiting.environments[0].workflowId!)
      .signal(decisionSignals.resume, by);
    const r = (await handle.result()) as RolloutResult;
    expect(results(r)).toEqual({ 'decide-1': 'Succeeded', 'ok-1': 'NotStarted' });
    // Resumed to success: no longer an error; what it stopped stays stopped.
    expect(r.environments[0].countedAsError).toBe(false);
    expect(r.counts.errors).toBe(0);
    expect(r.stopped).toBe('1 error, more than maxErrors 0');
    expect(r.result).toBe('Failed');
  });

  it('pauses and resumes new starts, and abort lets the running operation finish and starts nothing new', async () => {
    const handle = await start({ environments: ['ok-1', 'ok-2', 'ok-3'] });
    await handle.executeUpdate(rolloutUpdates.pause, { args: [by] });
    await expect(handle.executeUpdate(rolloutUpdates.pause, { args: [by] })).rejects.toMatchObject({
      cause: { message: 'pause refused: the rollout is paused already' },
    });
    await env.sleep('5 minutes');
    const paused = await handle.query(rolloutStatusQuery);
    expect(paused.state).toBe('Paused');
    expect(paused.environments.map((e) => e.state)).toEqual(['Done', 'Pending', 'Pending']);
    await handle.executeUpdate(rolloutUpdates.resume, { args: [by] });
    await untilRollout(handle, (s) => s.environments[1].state === 'Running');
    const ack = await handle.executeUpdate(rolloutUpdates.abort, { args: [by] });
    expect(ack.message).toContain('abort accepted');
    const r = (await handle.result()) as RolloutResult;
    expect(results(r)).toEqual({ 'ok-1': 'Succeeded', 'ok-2': 'Succeeded', 'ok-3': 'NotStarted' });
    expect(r.result).toBe('Aborted');
    expect(r.stopped).toBe('aborted by jane (test)');
    expect(most).toBe(1);
    recordHistory(
      'rollout-paused-aborted.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
  });
});

describe('rollout members (time-skipping server, fake operations)', () => {
  it("gives each member an ID that no window member's children can take (environments x and x-enable)", () => {
    expect(`${rolloutChildId('a', 'x')}-enable`).not.toBe(rolloutChildId('a', 'x-enable'));
    expect(`${rolloutChildId('a', 'x')}-disable-rollback`).not.toBe(
      rolloutChildId('a', 'x-disable-rollback'),
    );
  });

  it('records a member whose operation could not start (its workflow ID taken) as that environment failing, and goes on', async () => {
    const rolloutId = `rollout-${randomUUID()}`;
    const squatter = await env.client.workflow.start('enableMaintenanceMode', {
      workflowId: rolloutChildId(rolloutId, 'ok-1'),
      taskQueue,
      args: [{ environment: 'ok-9', requestedBy: 'someone' }],
    });
    const handle = await env.client.workflow.start('maintenanceRollout', {
      workflowId: rolloutId,
      taskQueue,
      args: [{ action: 'enable', requestedBy: 'jane', environments: ['ok-1', 'ok-2'], maxErrors: 1 }],
    });
    const r = (await handle.result()) as RolloutResult;
    expect(results(r)).toEqual({ 'ok-1': 'Failed', 'ok-2': 'Succeeded' });
    expect(r.environments[0].error?.message).toContain('the operation did not start');
    expect(r.counts.errors).toBe(1);
    await expect(squatter.result()).resolves.toEqual({ result: 'Succeeded' });
  });

  it('frees the slot of a member awaiting a decision once counted as an error: maxConcurrency 1 and maxErrors 2 go on', async () => {
    const handle = await start({
      environments: ['decide-1', 'ok-1', 'ok-2'],
      maxConcurrency: 1,
      maxErrors: 2,
    });
    await untilRollout(handle, (s) => s.environments[0].state === 'AwaitingDecision');
    await env.sleep('5 minutes');
    const meanwhile = await handle.query(rolloutStatusQuery);
    expect(meanwhile.environments.map((e) => [e.environment, e.state, e.result])).toEqual([
      ['decide-1', 'AwaitingDecision', undefined],
      ['ok-1', 'Done', 'Succeeded'],
      ['ok-2', 'Done', 'Succeeded'],
    ]);
    await env.client.workflow
      .getHandle(meanwhile.environments[0].workflowId!)
      .signal(decisionSignals.resume, by);
    const r = (await handle.result()) as RolloutResult;
    expect(r.result).toBe('Succeeded');
    expect(r.counts.errors).toBe(0);
    recordHistory(
      'rollout-member-resumed.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
  });

  it('cancels a member still waiting for the lock when the rollout is aborted: it can no longer change its environment', async () => {
    const handle = await start({ environments: ['wait-1', 'ok-1'], maxConcurrency: 2 });
    await untilRollout(handle, (s) => s.environments[0].waiting === 'lock');
    await handle.executeUpdate(rolloutUpdates.abort, { args: [by] });
    await untilClosed(rolloutChildId(handle.workflowId, 'wait-1'));
    const r = (await handle.result()) as RolloutResult;
    expect(results(r)).toEqual({ 'wait-1': 'NotStarted', 'ok-1': 'Succeeded' });
    expect(r.environments[0].error?.message).toBe(
      'cancelled while it waited for the lock: aborted by jane (test)',
    );
    const member = await env.client.workflow.getHandle(r.environments[0].workflowId!).describe();
    expect(member.status.name).toBe('CANCELLED');
    recordHistory(
      'rollout-aborted-waiting-member.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
  });

  it('acts as abort when cancelled: a member still waiting for the lock is cancelled, a running one finishes', async () => {
    const handle = await start({ environments: ['wait-1', 'ok-1'], maxConcurrency: 2 });
    await untilRollout(
      handle,
      (s) => s.environments[0].waiting === 'lock' && s.environments[1].state === 'Running',
    );
    await handle.cancel();
    await untilClosed(rolloutChildId(handle.workflowId, 'wait-1'));
    await expect(handle.result()).rejects.toMatchObject({ cause: { name: 'CancelledFailure' } });
    const s = await handle.query(rolloutStatusQuery);
    expect(results(s)).toEqual({ 'wait-1': 'NotStarted', 'ok-1': 'Succeeded' });
    expect(s.result).toBe('Aborted');
    recordHistory('rollout-cancelled.json', handle.workflowId, (await handle.fetchHistory()).events ?? []);
  });

  it('cancels a member that starts waiting for the lock after the error limit stopped new starts', async () => {
    const handle = await start({ environments: ['fail-1', 'wait-1'], maxConcurrency: 2 });
    await untilClosed(rolloutChildId(handle.workflowId, 'wait-1'));
    const r = (await handle.result()) as RolloutResult;
    expect(results(r)).toEqual({ 'fail-1': 'Failed', 'wait-1': 'NotStarted' });
    expect(r.stopped).toBe('1 error, more than maxErrors 0');
  });
});

describe('maintenanceRollout with real operations (time-skipping server, real fleet)', () => {
  const bed = timeSkippingTestbed({ faults: true });
  afterEach(() => bed.env.fleet.clearFaults());

  const startReal = (input: Partial<RolloutInput>) =>
    bed.temporal.client.workflow.start(maintenanceRollout, {
      workflowId: `rollout-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [{ action: 'enable', environments: [bed.env.name], requestedBy: 'jane', ...input }],
    });
  const operation = (workflowId: string) => bed.temporal.client.workflow.getHandle(workflowId);
  const record = async (file: string, workflowId: string) =>
    recordHistory(file, workflowId, (await operation(workflowId).fetchHistory()).events ?? []);

  it('hears from a child operation that failed and waits for a decision, and counts it at once', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    await bed.withWorker(async () => {
      const handle = await startReal({});
      const waiting = await untilRollout(handle, (s) => s.environments[0]?.state === 'AwaitingDecision');
      expect(waiting.counts.errors).toBe(1);
      expect(waiting.stopped).toBe('1 error, more than maxErrors 0');
      expect(waiting.environments[0].error?.message).toContain('aos-1');
      const child = operation(waiting.environments[0].workflowId!);
      expect((await child.query(statusQuery)).awaitingDecision).toBe(true);
      await child.executeUpdate(decisionUpdates.abort, { args: [by] });
      const r = (await handle.result()) as RolloutResult;
      expect(results(r)).toEqual({ [bed.env.name]: 'Aborted' });
      expect(r.result).toBe('Failed');
      await record('rollout-child-awaited-decision.json', handle.workflowId);
      await record('enable-in-rollout-aborted.json', child.workflowId);
    });
  });

  it('skips an environment another operation holds, or with onBusy wait has the operation queue for it', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    await bed.withWorker(async () => {
      const blocker = await bed.temporal.client.workflow.start('enableMaintenanceMode', {
        workflowId: `blocker-${randomUUID()}`,
        taskQueue: bed.env.config.temporal.taskQueue,
        args: [{ environment: bed.env.name, requestedBy: 'someone' }],
      });
      await waitForDecision(blocker);
      const skipped = (await (await startReal({ action: 'disable' })).result()) as RolloutResult;
      expect(results(skipped)).toEqual({ [bed.env.name]: 'Skipped' });
      expect(skipped.environments[0].error?.message).toContain(blocker.workflowId);

      const waiting = await startReal({ action: 'disable', onBusy: 'wait' });
      await untilRollout(waiting, (s) => s.environments[0]?.state === 'Running');
      const child = operation(rolloutChildId(waiting.workflowId, bed.env.name));
      await until(
        () => child.query(logQuery),
        (log) => log.entries.some((e) => e.message.includes('number 1 in line')),
        'the member to say it waits first in line',
      );
      await bed.env.fleet.clearFaults();
      await blocker.executeUpdate(decisionUpdates.abort, { args: [by] });
      const r = (await waiting.result()) as RolloutResult;
      expect(results(r)).toEqual({ [bed.env.name]: 'Succeeded' });
      expect(bed.env.readFlag()).toBe(0);
      await record('rollout-disable-waited.json', waiting.workflowId);
      await record('disable-in-rollout-queued.json', child.workflowId);
    });
  });

  it('runs a window as a member: the window and its children under IDs of their own, the environment back as it was', async () => {
    await bed.withWorker(async () => {
      const handle = await startReal({ action: 'window', duration: 'PT1M' });
      const r = (await handle.result()) as RolloutResult;
      expect(results(r)).toEqual({ [bed.env.name]: 'Succeeded' });
      const window = r.environments[0].workflowId!;
      expect(window).toBe(rolloutChildId(handle.workflowId, bed.env.name));
      await expect(operation(`${window}-enable`).result()).resolves.toMatchObject({ result: 'Succeeded' });
      expect(bed.env.readFlag()).toBe(0);
      await record('rollout-window.json', handle.workflowId);
      await record('window-in-rollout.json', window);
    });
  });
});
