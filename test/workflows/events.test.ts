import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { HTTP } from 'cloudevents';
import type { OperationEvent } from '../../contract/events';
import { decisionUpdates, logQuery, type OperationLog, type ServicingResult } from '../../contract/operation';
import type { WindowResult } from '../../contract/window';
import { disableMaintenanceMode, enableMaintenanceMode, maintenanceWindow } from '../../workflows';
import { recordHistory, type HistoryEvent } from '../helpers/record-history';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { waitForDecision } from '../helpers/status';
import { timeSkippingTestbed } from '../helpers/testbed';
import { until } from '../helpers/until';

const TOKEN = `token-${randomUUID()}`;
process.env.EVENTS_TEST_TOKEN = TOKEN;

let good: Receiver;
let failing: Receiver;
/** The first delivery of the first `decided` event is answered 500: the retry must carry the same id. */
let refusedOnce: string | undefined;
beforeAll(async () => {
  good = await startReceiver((body) => {
    const { type, id } = JSON.parse(body) as OperationEvent;
    if (type !== 'maintenance.operation.decided' || refusedOnce) return 200;
    refusedOnce = id;
    return 500;
  });
  failing = await startReceiver(() => 500);
});
afterAll(async () => {
  await good?.close();
  await failing?.close();
});

const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 };
const bed = timeSkippingTestbed(() => ({
  faults: true,
  events: {
    timeout: '5s',
    retry: RETRY,
    sinks: [
      { type: 'webhook', url: good.url, headers: { Authorization: 'Bearer ${env:EVENTS_TEST_TOKEN}' } },
      { type: 'webhook', name: 'always-500', url: failing.url },
      { type: 'file', path: 'audit/events.jsonl' },
    ],
  },
}));
const { withWorker } = bed;

const events = (r: Receiver) => r.received.map((x) => JSON.parse(x.body) as OperationEvent);
/** Each occurrence once, in the order it first arrived. */
const firstArrivals = (all: OperationEvent[]) =>
  all.filter((e, i) => all.findIndex((x) => x.id === e.id) === i);
const fileEvents = () =>
  fs
    .readFileSync(path.join(bed.env.dir, 'audit/events.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as OperationEvent);

const start = <W extends typeof enableMaintenanceMode | typeof maintenanceWindow>(workflow: W, extra = {}) =>
  bed.temporal.client.workflow.start(workflow as typeof enableMaintenanceMode, {
    workflowId: `test-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'test', reason: 'events test', ...extra }],
  });

/** The delivery activity of `id` to the sink named `sink`: when it was scheduled and when it ended, as history positions. */
function delivery(history: HistoryEvent[], id: string, sink: string) {
  const scheduled = history.find((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityType?.name !== 'deliverEvent') return false;
    const input = defaultPayloadConverter.fromPayload<{ event: OperationEvent; sink: string }>(
      a.input!.payloads![0],
    );
    return input.event.id === id && input.sink === sink;
  })!;
  const ended = history.find(
    (e) =>
      Number(
        (e.activityTaskFailedEventAttributes ?? e.activityTaskCompletedEventAttributes)?.scheduledEventId ??
          -1,
      ) === Number(scheduled.eventId),
  )!;
  return { scheduled: Number(scheduled.eventId), ended: Number(ended.eventId) };
}
const scheduledActivity = (history: HistoryEvent[], name: string) =>
  Number(history.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name)!.eventId);

describe('operation events (CloudEvents to a webhook, a failing webhook and a file)', () => {
  let workflowId: string;
  let result: ServicingResult;
  let log: OperationLog;
  let history: HistoryEvent[];
  /** When the good receiver first had the decision_required event (real time). */
  let decisionRequiredAt: number;

  beforeAll(async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-4': 1000 } });
    await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      workflowId = handle.workflowId;
      await waitForDecision(handle);
      await until(
        () => events(good),
        (received) => received.some((e) => e.type === 'maintenance.operation.decision_required'),
        'the decision_required event',
        { everyMs: 50 },
      );
      decisionRequiredAt = Date.now();
      await bed.env.fleet.clearFaults();
      await handle.executeUpdate(decisionUpdates.resume, {
        args: [{ by: 'jane.doe', reason: 'fault cleared' }],
      });
      result = await handle.result();
      log = await handle.query(logQuery);
      history = (await handle.fetchHistory()).events ?? [];
      recordHistory('enable-resumed-with-events.json', workflowId, history);
    });
  });
  afterAll(() => withWorker(async () => (await start(disableMaintenanceMode)).result()));

  it('sends started, decision_required, decided and finished, each once by id, as valid CloudEvents in structured mode', () => {
    expect(result.result).toBe('Succeeded');
    const mine = firstArrivals(events(good)).filter((e) => e.subject === workflowId);
    expect(mine.map((e) => e.type)).toEqual([
      'maintenance.operation.started',
      'maintenance.operation.decision_required',
      'maintenance.operation.decided',
      'maintenance.operation.finished',
    ]);
    expect(new Set(mine.map((e) => e.id)).size).toBe(4);
    for (const r of good.received) {
      expect(r.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(() => HTTP.toEvent({ headers: r.headers, body: r.body })).not.toThrow();
    }
    const [started, required, decided, finished] = mine;
    expect(started).toMatchObject({
      specversion: '1.0',
      source: `/maintenance/default/${bed.env.name}`,
      data: {
        environment: bed.env.name,
        action: 'enable',
        requestedBy: 'test',
        state: 'EnablingMaintenance',
      },
    });
    expect(required.data).toMatchObject({
      state: 'Failed',
      step: 'restartAos',
      availableDecisions: ['resume', 'rollback', 'abort'],
      decisionDeadline: expect.any(String),
      error: { type: 'AosStartFailed', message: expect.stringMatching(/aos-4 failed to start/) },
    });
    expect(decided.data.decision).toMatchObject({
      kind: 'resume',
      by: 'jane.doe',
      reason: 'fault cleared',
      identity: expect.any(String),
    });
    expect(finished.data).toMatchObject({ result: 'Succeeded', state: 'InMaintenance' });
    expect(mine.map((e) => Date.parse(e.time))).toEqual([...mine.map((e) => Date.parse(e.time))].sort());
  });

  it('redelivers an event the receiver refused with the same id and body', () => {
    const decided = good.received.filter((r) => (JSON.parse(r.body) as OperationEvent).id === refusedOnce);
    expect(decided.map((r) => r.status)).toEqual([500, 200]);
    expect(decided[1].body).toBe(decided[0].body);
  });

  it('appends the same events to the file sink, one CloudEvent a line', () => {
    const mine = fileEvents().filter((e) => e.subject === workflowId);
    expect(mine).toEqual(firstArrivals(events(good)).filter((e) => e.subject === workflowId));
  });

  it('retries a sink that always fails, then drops each event with a note, and the operation still succeeds', () => {
    for (const e of firstArrivals(events(good)).filter((x) => x.subject === workflowId)) {
      expect(events(failing).filter((x) => x.id === e.id)).toHaveLength(RETRY.maximumAttempts);
      expect(log.entries.map((x) => x.message)).toContain(
        `event ${e.type} ${e.id} to always-500 dropped after 5 attempts: the webhook answered 500 Internal Server Error`,
      );
    }
    expect(result).toMatchObject({ result: 'Succeeded', state: 'InMaintenance' });
  });

  it('does not hold the operation up while a sink fails: it goes on at once and reaches its decision during the retries', () => {
    const started = firstArrivals(events(good)).find(
      (e) => e.subject === workflowId && e.type === 'maintenance.operation.started',
    )!;
    const toFailing = delivery(history, started.id, 'always-500');
    // The lock was asked for in the same workflow task that scheduled the delivery, long before it ended.
    expect(scheduledActivity(history, 'acquireLock')).toBeLessThan(toFailing.ended);
    expect(scheduledActivity(history, 'snapshotEnvironment')).toBeLessThan(toFailing.ended);
    // The AOS restart had failed and the good sink had the decision_required before the failing sink's last attempt.
    const lastAttempt = failing.received
      .filter((r) => (JSON.parse(r.body) as OperationEvent).id === started.id)
      .at(-1)!;
    expect(decisionRequiredAt).toBeLessThan(lastAttempt.at);
  });

  it('never writes a header secret into the history or the log', () => {
    expect(JSON.stringify(historyToJSON({ events: history }))).not.toContain(TOKEN);
    expect(JSON.stringify(log)).not.toContain(TOKEN);
  });
});

describe('window events', () => {
  it('a window sends started, window.opened, window.closing and finished; its child operations send their own', async () => {
    const { result, workflowId } = await withWorker(async () => {
      const handle = await start(maintenanceWindow as unknown as typeof enableMaintenanceMode, {
        duration: 'PT30M',
      });
      const done = (await handle.result()) as unknown as WindowResult;
      recordHistory('window-with-events.json', handle.workflowId, (await handle.fetchHistory()).events ?? []);
      return { result: done, workflowId: handle.workflowId };
    });
    expect(result.result).toBe('Succeeded');
    const all = firstArrivals(events(good));
    const mine = all.filter((e) => e.subject === workflowId);
    expect(mine.map((e) => e.type)).toEqual([
      'maintenance.operation.started',
      'maintenance.window.opened',
      'maintenance.window.closing',
      'maintenance.operation.finished',
    ]);
    expect(mine[1].data).toMatchObject({ action: 'window', window: { openedAt: expect.any(String) } });
    expect(mine[2].data.window).toMatchObject({ closedAt: expect.any(String) });
    expect(all.filter((e) => e.subject === `${workflowId}-enable`).map((e) => e.type)).toEqual([
      'maintenance.operation.started',
      'maintenance.operation.finished',
    ]);
    expect(fileEvents().filter((e) => e.subject === workflowId)).toEqual(mine);
  });
});
