import type { WorkflowExecutionInfo } from '@temporalio/client';
import { logQuery, statusQuery } from '../../contract/operation';
import { extendWindowSignal, extendWindowUpdate, type ExtendWindowInput } from '../../contract/window';
import { maintenanceWindow } from '../../workflows';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { entityOf } from '../helpers/entity';
import { waitForStatus } from '../helpers/status';
import { until } from '../helpers/until';

/** Temporal warns about a workflow history past this many events. */
const HISTORY_WARNING = 10_240;
const FLOOD = 3_000;

let e2e: EndToEnd;
beforeAll(async () => {
  // Low, so that the flood crosses it several times however the server batches the signals.
  e2e = await startEndToEnd({ continueAsNewAfterEvents: 1000 });
});
afterAll(() => e2e?.stop());

const workflowId = 'window-flooded';
const latest = () => e2e.temporal.client.workflow.getHandle(workflowId);
/** Thousands of signals and a continue-as-new take a while on a busy machine: read less often. */
const SLOWLY = { everyMs: 200, timeoutMs: 90_000 };

/** Every log entry the window ever wrote, across its runs (the log keeps the newest, counts the rest). */
const written = async () => {
  const log = await latest().query(logQuery);
  return log.dropped + log.entries.length;
};

async function runs(): Promise<WorkflowExecutionInfo[]> {
  const all: WorkflowExecutionInfo[] = [];
  for await (const run of e2e.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    all.push(run);
  return all;
}

it(`an open window flooded with ${FLOOD} invalid signals continues as new, stays under the history warning, and closes normally`, async () => {
  await e2e.temporal.client.workflow.start(maintenanceWindow, {
    workflowId,
    taskQueue: e2e.env.config.temporal.taskQueue,
    args: [
      {
        environment: e2e.env.name,
        duration: 'PT2H',
        requestedBy: 'jane',
        changes: { enable: ['WHSandTMS'] },
      },
    ],
  });
  const opened = await waitForStatus(latest(), (s) => s.step === 'window');
  const before = await written();

  const invalid = { by: 'flood' } as ExtendWindowInput; // no duration: refused and noted
  for (let sent = 0; sent < FLOOD; sent += 50)
    await Promise.all(Array.from({ length: 50 }, () => latest().signal(extendWindowSignal, invalid)));
  await until(written, (n) => n - before >= FLOOD, `${FLOOD} log entries more`, SLOWLY);

  const chain = await until(
    runs,
    (r) => r.length >= 2 && r.some((x) => x.status.name === 'RUNNING'),
    'a run continued as new and its successor running',
    SLOWLY,
  );
  expect(chain.filter((r) => r.status.name === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
  for (const run of chain) {
    const { historyLength } = await e2e.temporal.client.workflow.getHandle(workflowId, run.runId).describe();
    expect(historyLength).toBeLessThan(HISTORY_WARNING);
  }

  // The new run is the same window: same deadline, same state, same lock, the log carried over.
  const status = await latest().query(statusQuery);
  expect(status).toMatchObject({ step: 'window', state: 'InMaintenance', startedAt: opened.startedAt });
  expect(status.window).toEqual(opened.window);
  const log = await latest().query(logQuery);
  expect(log.entries.length).toBe(500);
  // Each run that continued as new said so last; the newest run's own refusals may have pushed that
  // note out of the 500 entries the log keeps.
  const continued = chain.find((r) => r.status.name === 'CONTINUED_AS_NEW')!;
  const earlier = await e2e.temporal.client.workflow.getHandle(workflowId, continued.runId).query(logQuery);
  expect(earlier.entries.at(-1)?.message).toMatch(/continuing as new, still open until/);
  const ignored = log.entries.filter((e) => /^Signal extendWindow ignored: invalid input/.test(e.message));
  expect(ignored.length).toBeGreaterThan(400);
  expect((await entityOf(e2e.temporal.client, e2e.env).holder())?.workflowId).toBe(workflowId);
  const refused = await e2e.maint('enable', e2e.env.name, '--reason', 'during the window');
  expect(refused.code).toBe(4);
  expect(refused.stderr).toMatch(new RegExp(`being serviced by workflow ${workflowId}`));

  const extended = await latest().executeUpdate(extendWindowUpdate, {
    args: [{ by: 'jane', duration: 30 }],
  });
  expect(Date.parse(extended.endsAt!) - Date.parse(opened.window!.endsAt!)).toBe(30 * 60_000);
  const ended = await e2e.maint('end-window', e2e.env.name, '-r', 'flood survived');
  expect(ended.code).toBe(0);
  const result = await latest().result();
  expect(result).toMatchObject({
    result: 'Succeeded',
    changes: [{ name: 'WHSandTMS', from: false, to: true }],
    window: {
      // Who ended it and who extended it, with the client identity each sent (as for decisions).
      endedEarly: { reason: 'flood survived', identity: expect.stringMatching(/^maint-cli \S+@\S+$/) },
      extensions: [{ by: 'jane', duration: '30m', identity: expect.stringMatching(/^\d+@/) }],
    },
  });
  expect(result.summary.join('\n')).toMatch(
    /window ended early by \S+ \(client maint-cli \S+@\S+\) \(flood survived\)/,
  );
  expect(await e2e.observe()).toEqual({
    flag: 0,
    running: ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'],
  });
  const entries = await entityOf(e2e.temporal.client, e2e.env).history();
  expect(entries.filter((e) => e.operationId === workflowId)).toMatchObject([{ result: 'Succeeded' }]);
});
