import { randomUUID } from 'node:crypto';
import type { ApplicationFailure } from '@temporalio/client';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SqliteServicingStore } from '../../activities/servicing-store';
import { decisionSignals, logQuery, statusQuery, type OperationStatus } from '../../contract/operation';
import { createWorker } from '../../worker/create-worker';
import { disableMaintenanceMode, enableMaintenanceMode } from '../../workflows';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { createTimeSkippingEnv, workflowBundle } from '../helpers/temporal';

let temporal: TestWorkflowEnvironment;
let env: TestEnvironment;

beforeAll(async () => {
  temporal = await createTimeSkippingEnv();
  env = await startTestEnvironment(temporal);
});
afterAll(async () => {
  await env?.stop();
  await temporal?.teardown();
});

/** Runs `body` with a worker (real activities, real fleet) on the time-skipping server. */
async function withWorker<T>(body: () => Promise<T>): Promise<T> {
  const { worker, close } = await createWorker(env.config, {
    connection: temporal.nativeConnection,
    workflowBundle: await workflowBundle(),
  });
  try {
    return await worker.runUntil(body);
  } finally {
    await close();
  }
}

const start = (workflow: typeof enableMaintenanceMode) =>
  temporal.client.workflow.start(workflow, {
    workflowId: `test-${randomUUID()}`,
    taskQueue: env.config.temporal.taskQueue,
    args: [{ environment: env.name, requestedBy: 'test', reason: 'decision test' }],
  });

/** Polls the status query (real time: the fleet's processes do not skip time) until `done`. */
async function waitForStatus(
  handle: WorkflowHandle,
  done: (s: OperationStatus) => boolean,
): Promise<OperationStatus> {
  for (;;) {
    const s = await handle.query(statusQuery);
    if (done(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function historyOf(runId: string) {
  const store = new SqliteServicingStore(env.config.history.database);
  try {
    return { entries: store.list(env.name).filter((e) => e.runId === runId), holder: store.holder(env.name) };
  } finally {
    store.close();
  }
}

describe('decisions on a failed operation (time-skipping server)', () => {
  afterEach(async () => {
    await env.fleet.clearFaults();
    await withWorker(async () => (await start(disableMaintenanceMode)).result());
  });

  it('ends Failed after 7 days without a decision, leaving the environment as it is and recording it', async () => {
    await env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
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

    expect(env.readFlag()).toBe(1);
    expect((await env.fleet.getAos('aos-1')).status).toBe('stopped');
    const { entries, holder } = historyOf(runId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      result: 'Failed',
      action: 'enable',
      decisions: [{ kind: 'timeout' }],
    });
    expect(holder).toBeUndefined();
  });

  it('resumes on a signal from the Web UI once the fault is cleared, and ignores a signal without a name', async () => {
    await env.fleet.setFaults({ startFailures: { 'aos-4': 1000 } });
    const { result, log } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      const failed = await waitForStatus(handle, (s) => s.awaitingDecision);
      expect(failed).toMatchObject({
        state: 'Failed',
        step: 'restartAos',
        availableDecisions: ['resume', 'rollback', 'abort'],
      });
      await handle.signal(decisionSignals.resume, {} as never);
      await env.fleet.clearFaults();
      await handle.signal(decisionSignals.resume, { by: 'jane.doe', reason: 'start fault fixed' });
      return { result: await handle.result(), log: await handle.query(logQuery) };
    });
    expect(result).toMatchObject({
      result: 'Succeeded',
      state: 'InMaintenance',
      decisions: [{ kind: 'resume', by: 'jane.doe', reason: 'start fault fixed', step: 'restartAos' }],
    });
    expect(log.entries.map((e) => e.message)).toContain(
      'Signal resume ignored: invalid input: say who decides, e.g. {"by": "jane.doe"}',
    );
    expect(env.readFlag()).toBe(1);
  });
});
