import { randomUUID } from 'node:crypto';
import type { OperationEvent } from '../../contract/events';
import { approvalUpdates } from '../../contract/approval';
import type { OperationStatus } from '../../contract/operation';
import { signedAnswer, signedStart, signingKey } from '../../client/signing';
import { enableMaintenanceMode } from '../../workflows';
import { testPeople } from '../helpers/people';
import { recordHistory } from '../helpers/record-history';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForStatus } from '../helpers/status';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

const keys = testPeople();
afterAll(() => keys.remove());
const bed = timeSkippingTestbed(() => ({
  protected: true,
  people: keys.people,
  approvers: keys.approvers,
  events: { sinks: [{ type: 'webhook', url: receiver.url }] },
}));
const keyOf = (name: 'alice' | 'bob') => signingKey(bed.env.config, keys.person(name).key);

/** Starts an enable on the protected environment, signed by alice, or not signed at all. */
async function start(signed: boolean) {
  const workflowId = `approval-events-${randomUUID()}`;
  const input = { environment: bed.env.name, requestedBy: 'alice', reason: 'release' };
  return bed.temporal.client.workflow.start(enableMaintenanceMode, {
    workflowId,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [
      signed
        ? signedStart(
            bed.env.config,
            keyOf('alice'),
            { workflowId, workflowType: 'enableMaintenanceMode' },
            input,
            new Date(await bed.temporal.currentTimeMs()),
          )
        : input,
    ],
  });
}

afterEach(() => receiver.received.splice(0));

it('an operation waiting for approval sends decision_required (approve, reject, deadline, who it affects), then decided by the approver with the key that signed', async () => {
  const session = await bed.env.fleet.addSession('alice');
  const now = new Date(await bed.temporal.currentTimeMs()).toISOString();
  await bed.env.fleet.addBatchJob({ caption: 'Post invoices', status: 'executing', startsAt: now });
  let awaiting: OperationStatus | undefined;
  const result = await bed.withWorker(async () => {
    const handle = await start(true);
    awaiting = await waitForStatus(handle, (s) => s.state === 'AwaitingApproval');
    const approve = await signedAnswer(bed.env.config, keyOf('bob'), handle, 'approve', {
      payload: { by: 'bob', reason: 'go' },
      answers: 0,
    });
    await handle.executeUpdate(approvalUpdates.approve, { args: [approve] });
    const result = await handle.result();
    recordHistory(
      'approved-enable-with-impact.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
    return result;
  });
  await bed.env.fleet.endSession(session.id);
  expect(result.result).toBe('Succeeded');
  const impact = {
    available: true,
    users: { count: 1, names: ['Alice Accountant'] },
    batchJobs: { count: 1, listed: [{ name: 'Post invoices', status: 'executing' }] },
  };
  // The request carries the preview from the moment it waits.
  expect(awaiting?.approval?.impact).toMatchObject(impact);
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
    impact,
  });
  expect(Date.parse(decided.time)).toBeGreaterThanOrEqual(Date.parse(required.time));
  expect(decided.data.decision).toEqual({
    kind: 'approve',
    by: 'bob',
    reason: 'go',
    identity: expect.any(String),
    fingerprint: keyOf('bob').fingerprint,
  });
});

it('an unsigned start is refused and says so to the sinks: the audit trail of who tried what', async () => {
  const error = await bed.withWorker(async () => (await start(false)).result().catch((e: unknown) => e));
  expect(error).toBeDefined();
  const events = receiver.received.map((r) => JSON.parse(r.body) as OperationEvent);
  expect(events.map((e) => e.type)).toEqual(['maintenance.operation.finished']);
  expect(events[0].data).toMatchObject({
    result: 'Failed',
    requestedBy: 'alice',
    error: { type: 'NotTrusted', message: expect.stringContaining('its start is not signed') },
  });
});
