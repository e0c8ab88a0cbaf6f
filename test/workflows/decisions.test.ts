import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ApplicationFailure } from '@temporalio/client';
import { ApplicationFailure as Failure, Client, WorkflowFailedError } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { entityOf } from '../helpers/entity';
import { decisionSignals, decisionUpdates, logQuery } from '../../contract/operation';
import { disableMaintenanceMode, enableMaintenanceMode } from '../../workflows';
import { waitForDecision } from '../helpers/status';
import { timeSkippingTestbed } from '../helpers/testbed';

/** While set, taking the lock fails as when the environment entity does not answer (a transient error). */
let entityDown = false;
const lockFault: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute(input, next) {
      if (entityDown && ctx.info.activityType === 'acquireLock')
        throw Failure.retryable('take the servicing lock: the environment entity did not answer');
      return next(input);
    },
  },
});

const bed = timeSkippingTestbed({ faults: true }, { interceptors: { activity: [lockFault] } });
const { withWorker } = bed;

const start = (workflow: typeof enableMaintenanceMode) =>
  bed.temporal.client.workflow.start(workflow, {
    workflowId: `test-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'test', reason: 'decision test' }],
  });

async function historyOf(runId: string) {
  const entity = entityOf(bed.temporal.client, bed.env);
  return {
    entries: (await entity.history()).filter((e) => e.runId === runId),
    holder: await entity.holder(),
  };
}

describe('decisions on a failed operation (time-skipping server)', () => {
  afterEach(async () => {
    entityDown = false;
    await bed.env.fleet.clearFaults();
    await withWorker(async () => (await start(disableMaintenanceMode)).result());
  });

  it('ends Failed after 7 days without a decision, leaving the environment as it is and recording it', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const { error, runId } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      return { error: await handle.result().catch((e: unknown) => e), runId: handle.firstExecutionRunId };
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('OperationFailed');
    expect(cause.message).toMatch(
      /No decision came by the deadline after "Restart AOS instances" failed: restart aos-1: aos-1 failed to start/,
    );
    expect(cause.details?.[0]).toMatchObject({
      result: 'Failed',
      state: 'Failed',
      decisions: [{ kind: 'timeout', by: 'system' }],
    });

    expect(bed.env.readFlag()).toBe(1);
    expect((await bed.env.fleet.getAos('aos-1')).status).toBe('stopped');
    const { entries, holder } = await historyOf(runId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      result: 'Failed',
      action: 'enable',
      decisions: [{ kind: 'timeout' }],
    });
    expect(holder).toBeUndefined();
  });

  it('ends Failed after 7 days without a decision on a lock it never took, leaving the environment Deployed', async () => {
    entityDown = true;
    const { error, runId } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      return { error: await handle.result().catch((e: unknown) => e), runId: handle.firstExecutionRunId };
    });
    expect(((error as WorkflowFailedError).cause as ApplicationFailure).message).toMatch(
      /No decision came by the deadline after "Preflight: take the lock, snapshot state" failed: take the servicing lock: the environment entity did not answer/,
    );
    const { entries, holder } = await historyOf(runId);
    expect(entries).toMatchObject([
      { result: 'Failed', decisions: [{ kind: 'timeout', step: 'preflight' }] },
    ]);
    expect(holder).toBeUndefined();
    expect(await entityOf(bed.temporal.client, bed.env).state()).toBe('Deployed');
    expect(bed.env.readFlag()).toBe(0);
  });

  it('resumes on a signal from the Web UI once the fault is cleared, and ignores a signal without a name', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-4': 1000 } });
    const { result, log } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      const failed = await waitForDecision(handle);
      expect(failed).toMatchObject({
        state: 'Failed',
        step: 'restartAos',
        availableDecisions: ['resume', 'rollback', 'abort'],
      });
      // The Web UI's signal carries no client identity header: a client without the interceptor.
      const webUi = new Client({ connection: bed.temporal.connection }).workflow.getHandle(handle.workflowId);
      await webUi.signal(decisionSignals.resume, {} as never);
      await bed.env.fleet.clearFaults();
      await webUi.signal(decisionSignals.resume, { by: 'jane.doe', reason: 'start fault fixed' });
      return { result: await handle.result(), log: await handle.query(logQuery) };
    });
    expect(result).toMatchObject({
      result: 'Succeeded',
      state: 'InMaintenance',
      decisions: [{ kind: 'resume', by: 'jane.doe', reason: 'start fault fixed', step: 'restartAos' }],
    });
    expect(result.decisions[0]).not.toHaveProperty('identity');
    expect(log.entries.map((e) => e.message)).toContain(
      'Signal resume ignored: invalid input: say who decides, e.g. {"by": "jane.doe"}',
    );
    expect(log.entries.map((e) => e.message)).toContain(
      'resume by jane.doe (client unknown): start fault fixed',
    );
    expect(bed.env.readFlag()).toBe(1);
  });

  it("records the sending client's identity beside `by` for an update, in the answer, the log, the result and the history", async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-4': 1000 } });
    const identity = `${process.pid}@${os.hostname()}`; // the test client's: the SDK's default
    const { ack, result, log, runId } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      await waitForDecision(handle);
      await bed.env.fleet.clearFaults();
      const ack = await handle.executeUpdate(decisionUpdates.resume, { args: [{ by: 'alice' }] });
      return {
        ack,
        result: await handle.result(),
        log: await handle.query(logQuery),
        runId: handle.firstExecutionRunId,
      };
    });
    const decision = { kind: 'resume', by: 'alice', identity, step: 'restartAos' };
    expect(ack.decision).toMatchObject(decision);
    expect(result.decisions).toMatchObject([decision]);
    expect(log.entries.map((e) => e.message)).toContain(`resume by alice (client ${identity})`);
    const { entries } = await historyOf(runId);
    expect(entries[0].decisions).toMatchObject([decision]);
  });
});
