import { randomUUID } from 'node:crypto';
import type { WorkflowFailedError } from '@temporalio/client';
import { type ApplicationFailure, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { environmentWorkflowId } from '../../contract/environment';
import type { Action } from '../../contract/operation';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { entityOf } from '../helpers/entity';
import { recordHistory } from '../helpers/record-history';
import { waitForDecision } from '../helpers/status';
import { until } from '../helpers/until';

/**
 * The environment entity on its own terms: it notices a holder that closed without anyone asking
 * for the lock, keeps the lock for an operation reset from the Web UI, and continues as new with
 * its lock and history intact. Checks every second and continues as new past 100 events here.
 */
let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({ faults: true, lockCheckInterval: '1s', continueAsNewAfterEvents: 100 });
});
afterAll(() => e2e?.stop());
afterEach(async () => {
  await e2e.env.fleet.clearFaults();
  if ((await e2e.observe()).flag !== 0) await run('disable');
});

const entity = () => entityOf(e2e.temporal.client, e2e.env);
const start = (action: Action, workflowId = `${action}-${randomUUID()}`) =>
  e2e.temporal.client.workflow.start(
    action === 'enable' ? 'enableMaintenanceMode' : 'disableMaintenanceMode',
    {
      workflowId,
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [{ environment: e2e.env.name, requestedBy: 'test', reason: workflowId }],
    },
  );
const run = async (action: Action) => (await start(action)).result();

/** An enable that fails at the AOS restart and waits for a decision, holding the lock. */
async function failedEnable(): Promise<WorkflowHandleWithFirstExecutionRunId> {
  await e2e.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
  const handle = await start('enable');
  await waitForDecision(handle);
  return handle;
}

describe('the environment entity workflow', () => {
  it('releases the lock of a holder terminated from the Web UI by itself, and records why', async () => {
    const handle = await failedEnable();
    expect((await entity().holder())?.workflowId).toBe(handle.workflowId);
    await handle.terminate('stuck: terminated from the Web UI');
    await until(
      async () => ({ holder: await entity().holder() }),
      ({ holder }) => holder === undefined,
      'the entity to release the lock',
    );
    expect((await entity().history(1))[0]).toMatchObject({
      operationId: handle.workflowId,
      result: 'Released',
      detail: expect.stringContaining('closed (TERMINATED) without releasing the lock'),
    });
    const entityHandle = e2e.temporal.client.workflow.getHandle(environmentWorkflowId(e2e.env.name));
    const view = await entityHandle.describe();
    expect(view.status.name).toBe('RUNNING');
    const { events } = await entityHandle.fetchHistory();
    recordHistory('environment-entity-periodic-release.json', entityHandle.workflowId, events ?? []);
  });

  it('keeps the lock for an operation reset from the Web UI; the reset run finishes and releases it', async () => {
    const handle = await failedEnable();
    const { events } = await handle.fetchHistory();
    const lastTask = [...(events ?? [])].reverse().find((e) => e.workflowTaskCompletedEventAttributes);
    const { runId } = await e2e.temporal.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
      workflowTaskFinishEventId: lastTask!.eventId,
      requestId: randomUUID(),
      reason: 'reset from the Web UI',
    });
    const reset = e2e.temporal.client.workflow.getHandle(handle.workflowId, runId!);
    await waitForDecision(reset);

    const intruder = await start('disable');
    const refused = await intruder.result().catch((e: unknown) => e);
    expect(((refused as WorkflowFailedError).cause as ApplicationFailure).type).toBe('EnvironmentBusy');
    expect((await entity().holder())?.workflowId).toBe(handle.workflowId);

    await e2e.env.fleet.clearFaults();
    expect((await e2e.maint('resume', handle.workflowId, '-u', 'oncall')).code).toBe(0);
    expect(await entity().holder()).toBeUndefined();
    const entries = (await entity().history()).filter((e) => e.operationId === handle.workflowId);
    expect(entries).toEqual([expect.objectContaining({ result: 'Succeeded', runId })]);
  });

  it('continues as new before its history grows large, keeping its lock, state and history', async () => {
    const entityHandle = e2e.temporal.client.workflow.getHandle(environmentWorkflowId(e2e.env.name));
    const before = (await entity().history()).length;
    for (let i = 0; i < 6; i++) {
      await expect(run('enable')).resolves.toMatchObject({ result: 'Succeeded' });
      await expect(run('disable')).resolves.toMatchObject({ result: 'Succeeded' });
    }
    const described = await entityHandle.describe();
    expect(described.runId).not.toBe(described.raw.workflowExecutionInfo?.firstRunId);
    const { events } = await entityHandle.fetchHistory();
    recordHistory('environment-entity-continued.json', entityHandle.workflowId, events ?? []);
    expect(await entity().history()).toHaveLength(before + 12);

    const holder = await failedEnable();
    const refused = await (await start('disable')).result().catch((e: unknown) => e);
    expect(((refused as WorkflowFailedError).cause as ApplicationFailure).type).toBe('EnvironmentBusy');
    expect((await e2e.maint('abort', holder.workflowId, '-u', 'oncall')).code).toBe(0);
    expect(await entity().holder()).toBeUndefined();
  });
});
