import { randomUUID } from 'node:crypto';
import type { OperationEvent } from '../../contract/events';
import { approvalUpdates } from '../../contract/approval';
import { statusQuery } from '../../contract/operation';
import { enableMaintenanceMode } from '../../workflows';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { timeSkippingTestbed } from '../helpers/testbed';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

const bed = timeSkippingTestbed(() => ({
  protected: true,
  events: { sinks: [{ type: 'webhook', url: receiver.url }] },
}));

it('an operation waiting for approval sends decision_required (approve, reject, deadline), then decided by the approver', async () => {
  const result = await bed.withWorker(async () => {
    const handle = await bed.temporal.client.workflow.start(enableMaintenanceMode, {
      workflowId: `approval-events-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [{ environment: bed.env.name, requestedBy: 'jane', reason: 'release' }],
    });
    while ((await handle.query(statusQuery).catch(() => undefined))?.state !== 'AwaitingApproval')
      await new Promise((r) => setTimeout(r, 100));
    await handle.executeUpdate(approvalUpdates.approve, { args: [{ by: 'bob', reason: 'go' }] });
    return handle.result();
  });
  expect(result.result).toBe('Succeeded');
  // Deliveries run in parallel: they may arrive in any order, so each is found by its type.
  const events = receiver.received.map((r) => JSON.parse(r.body) as OperationEvent);
  expect(events.map((e) => e.type).sort()).toEqual([
    'maintenance.operation.decided',
    'maintenance.operation.decision_required',
    'maintenance.operation.finished',
    'maintenance.operation.started',
  ]);
  const of = (type: string) => events.find((e) => e.type === `maintenance.operation.${type}`)!;
  const [required, decided] = [of('decision_required'), of('decided')];
  expect(required.data).toMatchObject({
    state: 'AwaitingApproval',
    availableDecisions: ['approve', 'reject'],
    decisionDeadline: expect.any(String),
  });
  expect(Date.parse(decided.time)).toBeGreaterThanOrEqual(Date.parse(required.time));
  expect(decided.data.decision).toMatchObject({ kind: 'approve', by: 'bob', reason: 'go' });
});
