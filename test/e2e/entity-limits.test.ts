import { EnvironmentEntities } from '../../client/environment-entity';
import { environmentWorkflowId, recordEntryUpdate, type HistoryEntry } from '../../contract/environment';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';

/**
 * The environment entity under the server's limits on updates, made small here: 10 updates a run
 * (the server suggests continuing as new at 9; its default is 2,000) and 2 in flight at once (default
 * 10). The entity continues as new before the limit refuses an update, and requests beyond those in
 * flight are answered too. Its history never counts toward continuing here (40,000 events).
 */
const LIMITS = { 'history.maxTotalUpdates': 10, 'history.maxInFlightUpdates': 2 };

let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({ continueAsNewAfterEvents: 40_000 }, { dynamicConfig: LIMITS });
});
afterAll(() => e2e?.stop());

const entities = () => new EnvironmentEntities(e2e.temporal.client, e2e.env.config.temporal.taskQueue);
const run = (action: 'enable' | 'disable', i: number) =>
  e2e.temporal.client.workflow.execute(
    action === 'enable' ? 'enableMaintenanceMode' : 'disableMaintenanceMode',
    {
      workflowId: `${action}-${i}`,
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [{ environment: e2e.env.name, requestedBy: 'test', reason: `limits ${i}` }],
    },
  );

/** The entity's runs, oldest first (each continue-as-new makes one). */
async function entityRuns(): Promise<string[]> {
  const runs = [];
  const query = `WorkflowId = '${environmentWorkflowId(e2e.env.name)}'`;
  for await (const wf of e2e.temporal.client.workflow.list({ query })) runs.push(wf);
  return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime()).map((wf) => wf.runId);
}

const entry = (i: number): HistoryEntry => ({
  operationId: `imported-${i}`,
  runId: `run-${i}`,
  environment: e2e.env.name,
  action: 'enable',
  requestedBy: 'test',
  reason: `in flight ${i}`,
  startedAt: new Date().toISOString(),
  finishedAt: new Date().toISOString(),
  result: 'Succeeded',
  detail: '',
  decisions: [],
});

it('continues as new before the updates a run may take run out: 12 operations take and release the lock', async () => {
  for (let i = 0; i < 6; i++) {
    await expect(run('enable', i)).resolves.toMatchObject({ result: 'Succeeded' });
    await expect(run('disable', i)).resolves.toMatchObject({ result: 'Succeeded' });
  }
  // 24 updates: at most 9 a run.
  expect((await entityRuns()).length).toBeGreaterThanOrEqual(3);
  const view = await entities().view(e2e.env.name);
  expect(view).toMatchObject({ state: 'Deployed', historyLength: 12 });
  expect(view?.holder).toBeUndefined();
});

it('answers more requests at once than the server lets be in flight', async () => {
  const before = (await entities().view(e2e.env.name))!.historyLength;
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) => entities().update(e2e.env.name, recordEntryUpdate, entry(i))),
  );
  expect(answers).toEqual(Array(8).fill({ inserted: true }));
  expect((await entities().view(e2e.env.name))!.historyLength).toBe(before + 8);
});
