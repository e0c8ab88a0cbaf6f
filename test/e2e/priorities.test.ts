import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startRollout } from '../../client/rollouts';
import { operationWorkflowId } from '../../contract/operation';
import { PRIORITIES } from '../../contract/priority';
import { rolloutChildId } from '../../contract/rollout';
import { createWorker, type RunningWorker } from '../../worker/create-worker';
import { cli } from '../helpers/cli';
import { recordHistory } from '../helpers/record-history';
import { startFleetOfEnvironments, type FleetOfEnvironments } from '../helpers/fleet-of-environments';
import { createDevServerEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/until';

/**
 * Task-queue priorities on the dev server, which dispatches by priority: a rollout of eight keeps the
 * worker's two activity slots busy (each AOS restart holds one for 1.5 s), with a backlog on the
 * task queue; an operation started by hand meanwhile, and one an operator has answered, have their
 * activities served before that backlog.
 */
let temporal: TestWorkflowEnvironment;
let fleet: FleetOfEnvironments;
let worker: RunningWorker;
let running: Promise<void>;
beforeAll(async () => {
  temporal = await createDevServerEnv();
  fleet = await startFleetOfEnvironments(temporal, { count: 10, aosStartupMs: 1500 });
  worker = await createWorker(fleet.config, {
    connection: temporal.nativeConnection,
    workflowBundle: await workflowBundle(),
    // Few slots: the members' activities queue on the server, where priority orders them.
    maxConcurrentActivityTaskExecutions: SLOTS,
  });
  running = worker.worker.run();
});
afterAll(async () => {
  worker?.worker.shutdown();
  await running;
  await worker?.close();
  await fleet?.stop();
  await temporal?.teardown();
});

const SLOTS = 2;
const maint = (...args: string[]) => cli(fleet.configFile, args);
const MEMBERS = ['env-01', 'env-02', 'env-03', 'env-04', 'env-05', 'env-06', 'env-07', 'env-08'];

interface Dispatch {
  priorityKey: number;
  scheduledAt: number;
  /** From scheduled to picked up by the worker: the time on the task queue. */
  waitedMs: number;
}

/** Each activity a workflow ran: its priority key (0: unset, the default 3) and its time on the queue. */
async function dispatches(client: Client, workflowId: string): Promise<Dispatch[]> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { priorityKey: number; at: number }>();
  const out: Dispatch[] = [];
  for (const e of events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a)
      scheduled.set(String(e.eventId), {
        priorityKey: a.priority?.priorityKey ?? 0,
        at: tsToMs(e.eventTime),
      });
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const s = scheduled.get(String(started.scheduledEventId))!;
      out.push({ priorityKey: s.priorityKey, scheduledAt: s.at, waitedMs: tsToMs(e.eventTime) - s.at });
    }
  }
  return out;
}

/** The priority key a workflow was started with (0: unset, the default 3). */
async function workflowPriority(client: Client, workflowId: string): Promise<number> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  return events?.[0]?.workflowExecutionStartedEventAttributes?.priority?.priorityKey ?? 0;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The rollout over `environments`, to its end; its members' workflow IDs. */
async function rollout(action: 'enable' | 'disable', environments: string[], maxConcurrency: number) {
  const handle = await startRollout(temporal.client, fleet.config, {
    action,
    environments,
    maxConcurrency,
    maxErrors: 0,
    requestedBy: 'release-train',
    reason: 'priorities e2e',
  });
  return { handle, members: environments.map((n) => rolloutChildId(handle.workflowId, n)) };
}

it('serves an operation started by hand during a busy rollout, and one resumed, before the members’ backlog', async () => {
  const client = temporal.client;
  // Every environment's entity made first, fewer at once than the slots: a new entity runs an activity
  // before it answers, which a take of the lock holding every slot would wait for.
  const warmUp = await rollout('disable', [...MEMBERS, 'env-10'], SLOTS - 1);
  expect((await warmUp.handle.result()).result).toBe('Succeeded');

  // env-09 fails its restart and waits for a decision; it is resumed once the rollout is busy.
  await fleet.fleet('env-09').setFaults({ startFailures: { 'aos-1': 1000 } });
  expect((await maint('enable', 'env-09', '-u', 'oncall', '-r', 'urgent fix')).code).toBe(6);
  await fleet.fleet('env-09').clearFaults();

  const busy = await rollout('enable', MEMBERS, MEMBERS.length);
  await until(
    () => dispatches(client, busy.members[MEMBERS.length - 1]),
    (dispatched) => dispatched.length > 0,
    'the last member to run',
    { everyMs: 200 },
  );
  const [byHand, resumed] = await Promise.all([
    maint('enable', 'env-10', '-u', 'oncall', '-r', 'urgent fix'),
    maint('resume', 'env-09', '-u', 'oncall', '-r', 'fault cleared'),
  ]);
  expect(byHand.stderr).toBe('');
  expect(byHand.code).toBe(0);
  expect(resumed.code).toBe(0);
  await client.workflow.getHandle(operationWorkflowId('env-09')).result();
  expect((await busy.handle.result()).result).toBe('Succeeded');

  // What the server was told: members at 4 (their activities inherit it), by hand the default,
  // after the resume 2.
  for (const id of busy.members) expect(await workflowPriority(client, id)).toBe(PRIORITIES.rolloutMember);
  expect(await workflowPriority(client, operationWorkflowId('env-10'))).toBe(0);
  const members = (await Promise.all(busy.members.map((id) => dispatches(client, id)))).flat();
  const hand = await dispatches(client, operationWorkflowId('env-10'));
  const afterResume = (await dispatches(client, operationWorkflowId('env-09'))).filter(
    (d) => d.priorityKey === PRIORITIES.decided,
  );
  expect(new Set(members.map((d) => d.priorityKey))).toEqual(new Set([0]));
  expect(new Set(hand.map((d) => d.priorityKey))).toEqual(new Set([0]));
  expect(afterResume.length).toBeGreaterThan(0);

  // What it did: the members' activities on the queue while theirs were waited long, theirs hardly
  // (for a slot to free: an AOS restart holds one 1.5 s).
  const from = Math.min(hand[0].scheduledAt, afterResume[0].scheduledAt);
  const to = Math.max(hand[hand.length - 1].scheduledAt, afterResume[afterResume.length - 1].scheduledAt);
  const meanwhile = members.filter((d) => d.scheduledAt <= to && d.scheduledAt + d.waitedMs >= from);
  expect(meanwhile.length).toBeGreaterThan(SLOTS);
  const waited = {
    members: mean(meanwhile.map((d) => d.waitedMs)),
    byHand: mean(hand.map((d) => d.waitedMs)),
    resumed: mean(afterResume.map((d) => d.waitedMs)),
  };
  expect(waited.byHand * 2).toBeLessThan(waited.members);
  expect(waited.resumed * 2).toBeLessThan(waited.members);

  // Replay fixtures of these shapes (RECORD_HISTORY_DIR=test/replay/histories/lean): the rollout that
  // starts members at 4, one member, and the operation whose activities after the resume run at 2.
  const history = async (id: string) => (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
  recordHistory(
    'rollout-members-at-priority-4.json',
    busy.handle.workflowId,
    await history(busy.handle.workflowId),
  );
  recordHistory('rollout-member-at-priority-4.json', busy.members[0], await history(busy.members[0]));
  const resumedId = operationWorkflowId('env-09');
  recordHistory('enable-resumed-at-priority-2.json', resumedId, await history(resumedId));
});
