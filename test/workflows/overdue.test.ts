import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { EnvironmentEntities } from '../../client/environment-entity';
import { environmentWorkflowId } from '../../contract/environment';
import type { OperationEvent } from '../../contract/events';
import { operationWorkflowId, statusQuery, type ServicingResult } from '../../contract/operation';
import { disableMaintenanceMode, enableMaintenanceMode, maintenanceWindow } from '../../workflows';
import { recordHistory } from '../helpers/record-history';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForClose } from '../helpers/status';

const bed = timeSkippingTestbed({
  maximumInMaintenance: '8h',
  autoDisable: true,
  events: { sinks: [{ type: 'file', path: 'events.jsonl' }] },
});
const { withWorker } = bed;
const HOUR = 3_600_000;

const entities = () => new EnvironmentEntities(bed.temporal.client, bed.env.config.temporal.taskQueue);
const view = async () => (await entities().view(bed.env.name))!;
const overdueEvents = () => {
  const file = path.join(bed.env.dir, 'events.jsonl');
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : [];
  return lines
    .map((l) => JSON.parse(l) as OperationEvent)
    .filter((e) => e.type === 'maintenance.environment.overdue');
};

const start = <T>(workflow: T, workflowId: string, input: object) =>
  bed.temporal.client.workflow.start(workflow as typeof enableMaintenanceMode, {
    workflowId,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'jane', reason: 'overdue test', ...input }],
  });

/**
 * Runs an operation to its end without skipping time: awaiting a result lets the time-skipping server
 * jump to the next timer, the entity's watch included; polling runs in real time.
 */
async function run<T>(workflow: T, workflowId: string, input: object): Promise<void> {
  const handle = await start(workflow, workflowId, input);
  await waitForClose(handle);
}

/** The disable the policy started, once it exists (the time-skipping server runs it on its own). */
async function policyDisable(): Promise<ServicingResult> {
  const handle = bed.temporal.client.workflow.getHandle(operationWorkflowId(bed.env.name));
  for (;;) {
    try {
      return (await handle.result()) as ServicingResult;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('maintenance left on by mistake (time-skipping server)', () => {
  it('a plain enable left on past maximumInMaintenance: the overdue event, then a disable requested by the policy', async () => {
    const enableId = `enable-${randomUUID()}`;
    const disabled = await withWorker(async () => {
      await run(enableMaintenanceMode, enableId, {});
      expect(bed.env.readFlag()).toBe(1);
      const watched = await view();
      expect(watched.state).toBe('InMaintenance');
      expect(watched.maintenance).toMatchObject({ operationId: enableId, requestedBy: 'jane' });
      expect(watched.maintenance?.overdueSince).toBeUndefined();
      // Seven hours in: not overdue yet, nothing sent, nothing started.
      await bed.temporal.sleep(7 * HOUR);
      expect((await view()).maintenance?.overdueSince).toBeUndefined();
      expect(overdueEvents()).toEqual([]);
      await bed.temporal.sleep(2 * HOUR);
      return policyDisable();
    });
    expect(disabled.result).toBe('Succeeded');
    expect(bed.env.readFlag()).toBe(0);
    const status = await bed.temporal.client.workflow
      .getHandle(operationWorkflowId(bed.env.name))
      .query(statusQuery);
    expect(status.requestedBy).toBe('policy maximumInMaintenance');
    expect(status.reason).toMatch(
      new RegExp(`^in maintenance since .* \\(enable ${enableId} by jane\\), longer than 8h$`),
    );
    const [event] = overdueEvents();
    expect(event).toMatchObject({
      subject: enableId,
      source: `/maintenance/default/${bed.env.name}`,
      data: {
        environment: bed.env.name,
        operationId: enableId,
        requestedBy: 'jane',
        overdue: { maximum: '8h', autoDisable: `started ${operationWorkflowId(bed.env.name)}` },
      },
    });
    expect(Date.parse(event.time) - Date.parse(event.data.overdue!.since)).toBeGreaterThanOrEqual(8 * HOUR);
    // Out of maintenance: the watch is over.
    const after = await view();
    expect(after.state).toBe('Deployed');
    expect(after.maintenance).toBeUndefined();
    const entity = bed.temporal.client.workflow.getHandle(environmentWorkflowId(bed.env.name));
    recordHistory('entity-overdue.json', entity.workflowId, (await entity.fetchHistory()).events ?? []);
  });

  it('watches only a plain enable: a window, and a disable in time, leave nothing overdue', async () => {
    const before = overdueEvents().length;
    await withWorker(async () => {
      // A window's own enable is not watched: skipping its ten hours sends nothing.
      await (await start(maintenanceWindow, `window-${randomUUID()}`, { duration: 'PT10H' })).result();
      await run(enableMaintenanceMode, `enable-${randomUUID()}`, {});
      await bed.temporal.sleep(7 * HOUR);
      await run(disableMaintenanceMode, `disable-${randomUUID()}`, {});
      await bed.temporal.sleep(10 * HOUR);
      expect(await view()).toMatchObject({ state: 'Deployed' });
      expect((await view()).maintenance).toBeUndefined();
    });
    expect(overdueEvents().length).toBe(before);
  });
});
