import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { approvalSignals, approvalUpdates } from '../../contract/approval';
import { logQuery, statusQuery, type OperationStatus } from '../../contract/operation';
import type { WindowInput } from '../../contract/window';
import { disableMaintenanceMode, enableMaintenanceMode, maintenanceWindow } from '../../workflows';
import { EnvironmentEntities } from '../../client/environment-entity';
import { entityOf } from '../helpers/entity';
import { timeSkippingTestbed } from '../helpers/testbed';

/** The schedule declared in the test's temporal.yaml, with a standing approval by "cab". */
const SCHEDULE = {
  id: 'weekly-keys',
  environment: 'contoso-sandbox',
  cron: '0 2 * * SUN',
  duration: 'PT1H',
  requestedBy: 'scheduler',
  approvedBy: 'cab',
  reason: 'weekly keys',
};
const bed = timeSkippingTestbed({ protected: true, approvalTimeout: '24h', schedules: [SCHEDULE] });
const { withWorker } = bed;

const start = (workflow: typeof enableMaintenanceMode, requestedBy = 'alice') =>
  bed.temporal.client.workflow.start(workflow, {
    workflowId: `test-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy, reason: 'approval test' }],
  });

const startWindow = (workflowId: string, input: Partial<WindowInput> = {}) =>
  bed.temporal.client.workflow.start(maintenanceWindow, {
    workflowId,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [
      {
        environment: bed.env.name,
        duration: 'PT1H',
        requestedBy: 'scheduler',
        reason: 'weekly keys',
        approvedBy: 'cab',
        ...input,
      },
    ],
  });

/** Polls the status query (real time: the fleet's processes do not skip time) until `done`. */
async function waitForStatus(
  handle: WorkflowHandle,
  done: (s: OperationStatus) => boolean,
): Promise<OperationStatus> {
  const giveUpAt = Date.now() + 30_000;
  for (;;) {
    const s = await handle.query(statusQuery).catch(() => undefined);
    if (s && done(s)) return s;
    if (Date.now() > giveUpAt) throw new Error(`${handle.workflowId} never got there: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const awaitingApproval = (h: WorkflowHandle) => waitForStatus(h, (s) => !!s.approval?.awaiting);

const entity = () => entityOf(bed.temporal.client, bed.env);
const entityState = async () =>
  (await new EnvironmentEntities(bed.temporal.client, bed.env.config.temporal.taskQueue).view(bed.env.name))
    ?.state;
/** What users would see: the flag and each AOS with its status and the mode it read. */
const observe = async () => ({
  flag: bed.env.readFlag(),
  aos: (await bed.env.fleet.listAos()).map((a) => `${a.id} ${a.status} ${a.maintenanceMode}`),
});

describe('approval on a protected environment (time-skipping server)', () => {
  afterEach(async () => {
    // Leave maintenance mode off for the next test; on a protected environment that needs approval too.
    if (bed.env.readFlag() === 0) return;
    await withWorker(async () => {
      const handle = await start(disableMaintenanceMode, 'cleanup');
      await awaitingApproval(handle);
      await handle.executeUpdate(approvalUpdates.approve, { args: [{ by: 'cleanup-approver' }] });
      return handle.result();
    });
  });

  it('waits in AwaitingApproval without the lock or any change, then proceeds once someone else approves; the approver is recorded with their client identity', async () => {
    const before = await observe();
    const identity = `${process.pid}@${os.hostname()}`; // the test client's: the SDK's default
    const { waiting, holderWhileWaiting, seenWhileWaiting, ack, result, runId } = await withWorker(
      async () => {
        const handle = await start(enableMaintenanceMode);
        const waiting = await awaitingApproval(handle);
        const holderWhileWaiting = await entity().holder();
        const seenWhileWaiting = await observe();
        const ack = await handle.executeUpdate(approvalUpdates.approve, {
          args: [{ by: 'bob', reason: 'CAB-42' }],
        });
        return {
          waiting,
          holderWhileWaiting,
          seenWhileWaiting,
          ack,
          result: await handle.result(),
          runId: handle.firstExecutionRunId,
        };
      },
    );
    expect(waiting).toMatchObject({ state: 'AwaitingApproval', step: null, requestedBy: 'alice' });
    const waitsFor = Date.parse(waiting.approval!.deadline!) - Date.parse(waiting.startedAt);
    expect(waitsFor).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(waitsFor).toBeLessThan(24 * 3600_000 + 60_000);
    expect(holderWhileWaiting).toBeUndefined();
    expect(seenWhileWaiting).toEqual(before);
    const approval = { kind: 'approve', by: 'bob', reason: 'CAB-42', identity, step: null };
    expect(ack.decision).toMatchObject(approval);
    expect(result).toMatchObject({ result: 'Succeeded', state: 'InMaintenance', decisions: [approval] });
    expect(bed.env.readFlag()).toBe(1);
    const [entry] = (await entity().history()).filter((e) => e.runId === runId);
    expect(entry).toMatchObject({ result: 'Succeeded', decisions: [approval] });
  });

  it('refuses self-approval with the reason, and a reject ends it Rejected with nothing changed and a history entry', async () => {
    const before = await observe();
    const stateBefore = await entityState();
    const { refusal, result, runId } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      await awaitingApproval(handle);
      const refusal = await handle
        .executeUpdate(approvalUpdates.approve, { args: [{ by: 'Alice' }] })
        .catch((e: unknown) => e);
      await handle.executeUpdate(approvalUpdates.reject, {
        args: [{ by: 'bob', reason: 'not in the freeze' }],
      });
      return { refusal, result: await handle.result(), runId: handle.firstExecutionRunId };
    });
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refusal as WorkflowUpdateFailedError).cause?.message).toBe(
      'approve refused: you requested it; someone else must approve',
    );
    expect(result).toMatchObject({
      result: 'Rejected',
      state: 'Rejected',
      decisions: [{ kind: 'reject', by: 'bob', reason: 'not in the freeze' }],
    });
    expect(result.steps.filter((s) => s.status !== 'pending').map((s) => s.name)).toEqual(['record']);
    expect(await observe()).toEqual(before);
    expect(await entityState()).toBe(stateBefore);
    expect(await entity().holder()).toBeUndefined();
    const [entry] = (await entity().history()).filter((e) => e.runId === runId);
    expect(entry).toMatchObject({
      result: 'Rejected',
      requestedBy: 'alice',
      decisions: [{ kind: 'reject', by: 'bob' }],
    });
    expect(entry.detail).toMatch(/^reject by bob \(client .+\) \(not in the freeze\); nothing was changed$/);
  });

  it('ends Rejected after policies.approvalTimeout (24h) without an answer, with nothing changed', async () => {
    const before = await observe();
    const { result, runId } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      return { result: await handle.result(), runId: handle.firstExecutionRunId };
    });
    expect(result).toMatchObject({
      result: 'Rejected',
      decisions: [{ kind: 'timeout', by: 'system' }],
    });
    expect(Date.parse(result.finishedAt) - Date.parse(result.startedAt)).toBeGreaterThanOrEqual(
      24 * 3600_000,
    );
    expect(await observe()).toEqual(before);
    const [entry] = (await entity().history()).filter((e) => e.runId === runId);
    expect(entry).toMatchObject({ result: 'Rejected', decisions: [{ kind: 'timeout' }] });
    expect(entry.detail).toMatch(/^no approval by .+; nothing was changed$/);
  });

  it('proceeds on an approve signal from the Web UI, and notes a self-approval signal as ignored', async () => {
    const { result, log } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      await awaitingApproval(handle);
      // The Web UI's signal carries no client identity header: a client without the interceptor.
      const webUi = new Client({ connection: bed.temporal.connection }).workflow.getHandle(handle.workflowId);
      await webUi.signal(approvalSignals.approve, { by: 'alice' });
      await webUi.signal(approvalSignals.approve, { by: 'carol', reason: 'looks fine' });
      return { result: await handle.result(), log: await handle.query(logQuery) };
    });
    expect(result).toMatchObject({
      result: 'Succeeded',
      decisions: [{ kind: 'approve', by: 'carol', reason: 'looks fine' }],
    });
    expect(result.decisions[0]).not.toHaveProperty('identity');
    const messages = log.entries.map((e) => e.message);
    expect(messages).toContain('Signal approve ignored: you requested it; someone else must approve');
    expect(messages).toContain('approve by carol (client unknown): looks fine');
    expect(bed.env.readFlag()).toBe(1);
  });

  it('lets a window of a schedule with a standing approval proceed at once, its children too, but not a typed approvedBy that matches no declared schedule', async () => {
    const { typed, typedLog, scheduled } = await withWorker(async () => {
      // Typed into the Web UI: the same input, but not started by the schedule.
      const forged = await startWindow(`window-by-hand-${randomUUID()}`);
      const typed = await awaitingApproval(forged);
      await forged.executeUpdate(approvalUpdates.reject, { args: [{ by: 'bob' }] });
      await forged.result();
      const typedLog = await forged.query(logQuery);
      // As the schedule starts it: window-<schedule id>-<time>.
      const handle = await startWindow(`window-${SCHEDULE.id}-${new Date().toISOString()}`);
      return { typed, typedLog, scheduled: await handle.result() };
    });
    expect(typed.state).toBe('AwaitingApproval');
    expect(typedLog.entries.map((e) => e.message)).toContain(
      'approvedBy "cab" ignored: it matches no standing approval of a schedule in temporal.yaml',
    );
    expect(scheduled).toMatchObject({
      result: 'Succeeded',
      decisions: [
        {
          kind: 'approve',
          by: 'cab',
          reason: `standing approval of schedule ${SCHEDULE.id} (temporal.yaml)`,
        },
      ],
    });
    expect(scheduled.steps.map((s) => `${s.name} ${s.status}`)).toEqual([
      'preflight succeeded',
      'enable succeeded',
      'applyChanges skipped',
      'window succeeded',
      'disable succeeded',
      'record succeeded',
    ]);
    expect(bed.env.readFlag()).toBe(0);
  });
});
