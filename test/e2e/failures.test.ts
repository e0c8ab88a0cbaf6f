import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { logQuery, operationWorkflowId } from '../../contract/operation';
import type { FaultsPatch } from '../../fleet/schemas';
import { entityOf } from '../helpers/entity';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';

/**
 * The fault matrix: for each step of an enable operation, a transient fault is retried to success
 * without anyone deciding; a persistent one makes the operation Failed, and then resume (after the
 * fault is cleared), rollback and abort each do what they promise. Faults come from the fleet's
 * switches; decisions come through the CLI.
 */
let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({ faults: true });
});
afterAll(() => e2e?.stop());

const normal = {
  flag: 0,
  running: ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'],
};

afterEach(async () => {
  await e2e.env.fleet.clearFaults();
  if (JSON.stringify(await e2e.observe()) !== JSON.stringify(normal)) {
    expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'cleanup')).code).toBe(0);
  }
});

interface StepFault {
  step: 'flipFlag' | 'restartAos' | 'verify';
  persistent: FaultsPatch;
  /** A fault that clears by itself after two failures; undefined: cleared by the test. */
  transient?: FaultsPatch;
  errorType: string;
}

const matrix: StepFault[] = [
  { step: 'flipFlag', persistent: { databaseWritesBlocked: true }, errorType: 'DatabaseUnreachable' },
  {
    step: 'restartAos',
    persistent: { startFailures: { 'aos-1': 1000 } },
    transient: { startFailures: { 'aos-1': 2 } },
    errorType: 'AosStartFailed',
  },
  {
    step: 'verify',
    persistent: { signInFailures: { 'aos-1': 1000 } },
    transient: { signInFailures: { 'aos-1': 2 } },
    errorType: 'AosUnavailable',
  },
];

const workflowId = operationWorkflowId('contoso-sandbox');
const log = () => e2e.temporal.client.workflow.getHandle(workflowId).query(logQuery);
const failedAttempts = async (step: string) =>
  (await log()).entries.filter((e) => e.kind === 'attempt' && e.step === step && e.outcome === 'failed');

/** The newest entry of the environment history. */
async function history() {
  return (await entityOf(e2e.temporal.client, e2e.env).history(1))[0];
}

/** Starts enable with a persistent fault on and waits (through the CLI) until it needs a decision. */
async function failAt(fault: StepFault) {
  await e2e.env.fleet.setFaults(fault.persistent);
  const run = await e2e.maint(
    'enable',
    'contoso-sandbox',
    '--reason',
    `fault at ${fault.step}`,
    '-u',
    'oncall',
  );
  expect(run.code).toBe(6);
  expect(run.stdout).toContain('contoso-sandbox: maintenance-contoso-sandbox needs a decision.');
  expect(run.stdout).toContain(`error: `);
  const status = await e2e.maint('status', 'contoso-sandbox', '--json');
  const op = JSON.parse(status.stdout).operation.status;
  expect(op).toMatchObject({
    state: 'Failed',
    awaitingDecision: true,
    availableDecisions: ['resume', 'rollback', 'abort'],
    failure: { step: fault.step, error: { type: fault.errorType } },
  });
  const list = await e2e.maint('list', '--state', 'Failed');
  expect(list.stdout).toMatch(/contoso-sandbox\s+Failed \(needs a decision\)/);
  expect(await failedAttempts(fault.step)).toHaveLength(4);
}

describe.each(matrix)('a fault at $step', (fault) => {
  it('that is transient is retried to success without a decision', async () => {
    const enable = e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall');
    if (fault.transient) {
      await e2e.env.fleet.setFaults(fault.transient);
    } else {
      await e2e.env.fleet.setFaults(fault.persistent);
      // Cleared by hand once it has failed once: an outage that ends while the policy retries.
      while ((await failedAttempts(fault.step).catch(() => [])).length === 0)
        await new Promise((r) => setTimeout(r, 100));
      await e2e.env.fleet.clearFaults();
    }
    const run = await enable;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((await failedAttempts(fault.step)).length).toBeGreaterThan(0);
    expect(await history()).toMatchObject({ result: 'Succeeded', decisions: [] });
  });

  it('that persists makes it Failed; resume after the fault is cleared succeeds', async () => {
    await failAt(fault);
    await e2e.env.fleet.clearFaults();
    const resumed = await e2e.maint('resume', 'contoso-sandbox', '--reason', 'fault cleared', '-u', 'jane');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resume accepted');
    expect(resumed.stdout).toContain('contoso-sandbox is InMaintenance (Succeeded).');
    expect(await e2e.observe()).toEqual({ flag: 1, running: ['aos-1 (maintenance)', 'aos-4 (maintenance)'] });
    expect(await history()).toMatchObject({
      result: 'Succeeded',
      requestedBy: 'oncall',
      decisions: [{ kind: 'resume', by: 'jane', reason: 'fault cleared', step: fault.step }],
    });
  });

  it('that persists makes it Failed; rollback puts back the flag, the AOS and their modes', async () => {
    const before = await e2e.observe();
    await failAt(fault);
    if (fault.step === 'restartAos') {
      // The rollback's own restart of aos-1 fails too: the rollback is Failed and can be resumed.
      const stuck = await e2e.maint('rollback', 'contoso-sandbox', '-u', 'jane');
      expect(stuck.code).toBe(6);
      const status = JSON.parse((await e2e.maint('status', 'contoso-sandbox', '--json')).stdout).operation
        .status;
      expect(status).toMatchObject({
        phase: 'rollback',
        failure: { step: 'restoreAos' },
        availableDecisions: ['resume', 'abort'],
      });
      const refused = await e2e.maint('rollback', 'contoso-sandbox', '-u', 'jane');
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(
        /rollback refused: the operation is rolling back already: resume or abort/,
      );
      await e2e.env.fleet.clearFaults();
      const resumed = await e2e.maint('resume', 'contoso-sandbox', '-u', 'jane');
      expect(resumed.code).toBe(1); // the operation ends RolledBack, not Succeeded
      expect(resumed.stdout).toContain('contoso-sandbox is Deployed (RolledBack).');
    } else {
      await e2e.env.fleet.clearFaults();
      const rolledBack = await e2e.maint(
        'rollback',
        'contoso-sandbox',
        '--reason',
        'not today',
        '-u',
        'jane',
      );
      expect(rolledBack.stderr).toBe('');
      expect(rolledBack.code).toBe(0);
      expect(rolledBack.stdout).toContain('contoso-sandbox is Deployed (RolledBack).');
    }
    expect(await e2e.observe()).toEqual(before);
    expect(await history()).toMatchObject({
      result: 'RolledBack',
      decisions: expect.arrayContaining([expect.objectContaining({ kind: 'rollback' })]),
    });
  });

  it('that persists makes it Failed; abort leaves the environment as it was at the failure', async () => {
    await failAt(fault);
    const atFailure = await e2e.observe();
    const aborted = await e2e.maint('abort', 'contoso-sandbox', '--reason', 'giving up', '-u', 'jane');
    expect(aborted.code).toBe(0);
    expect(aborted.stdout).toMatch(
      /Aborted by jane \(giving up\) after ".*" failed: .*The environment was left as it was\./,
    );
    expect(await e2e.observe()).toEqual(atFailure);
    expect(await history()).toMatchObject({
      result: 'Aborted',
      decisions: [{ kind: 'abort', by: 'jane', reason: 'giving up' }],
    });
    const status = JSON.parse((await e2e.maint('status', 'contoso-sandbox', '--json')).stdout);
    expect(status).toMatchObject({
      state: 'Failed',
      operation: { execution: 'FAILED', status: { result: 'Aborted' } },
    });
  });
});

describe('retries, resumes and timeouts that fit', () => {
  it('a resume after a partial restart does not restart the AOS already in maintenance mode', async () => {
    await failAt({
      step: 'restartAos',
      persistent: { startFailures: { 'aos-4': 1000 } },
      errorType: 'AosStartFailed',
    });
    const aos1 = await e2e.env.fleet.getAos('aos-1');
    expect(aos1).toMatchObject({ status: 'running', maintenanceMode: true });
    await e2e.env.fleet.clearFaults();
    const resumed = await e2e.maint('resume', 'contoso-sandbox', '-u', 'jane');
    expect(resumed.stdout).toContain('contoso-sandbox is InMaintenance (Succeeded).');
    expect(await e2e.env.fleet.getAos('aos-1')).toMatchObject({ pid: aos1.pid, startedAt: aos1.startedAt });
    expect((await log()).entries).toContainEqual(
      expect.objectContaining({ kind: 'note', message: 'aos-1: already in the target mode, not restarted' }),
    );
    expect(await e2e.observe()).toEqual({ flag: 1, running: ['aos-1 (maintenance)', 'aos-4 (maintenance)'] });
  });

  it('gives a heartbeat timeout only to the activities that heartbeat', async () => {
    expect((await e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(0);
    const { events } = await e2e.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const heartbeatTimeouts = new Map<string, number>();
    for (const e of events ?? []) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (!scheduled) continue;
      const { seconds, nanos } = scheduled.heartbeatTimeout ?? {};
      heartbeatTimeouts.set(scheduled.activityType!.name!, Number(seconds ?? 0) * 1000 + (nanos ?? 0) / 1e6);
    }
    expect(Object.fromEntries(heartbeatTimeouts)).toEqual({
      acquireLock: 0,
      snapshotEnvironment: 10_000,
      setConfigurationMode: 0,
      restartAos: 10_000,
      stopAos: 10_000,
      verifyEnvironment: 0,
      finishOperation: 0,
    });
  });
});

describe('cancellation', () => {
  it('records a cancelled enable and releases the lock only once no AOS is starting or stopping', async () => {
    // Longer than the restart activity takes to hear of the cancellation: at its next heartbeat that
    // reaches the server, at most 8 s apart (0.8 × the 10 s heartbeat timeout).
    await e2e.env.fleet.setFaults({ startDelayMs: { 'aos-1': 12_000 } });
    const handle = await e2e.temporal.client.workflow.start('enableMaintenanceMode', {
      workflowId,
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [{ environment: 'contoso-sandbox', requestedBy: 'oncall', reason: 'cancelled mid-restart' }],
    });
    while ((await e2e.env.fleet.getAos('aos-1')).status !== 'starting')
      await new Promise((r) => setTimeout(r, 50));
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    const inMotion = (await e2e.env.fleet.listAos()).filter(
      (a) => a.status === 'starting' || a.status === 'stopping',
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(inMotion.map((a) => `${a.id} ${a.status}`)).toEqual([]);
    expect(await history()).toMatchObject({
      operationId: workflowId,
      result: 'Aborted',
      decisions: [{ kind: 'cancel', step: 'restartAos' }],
    });
    expect(await entityOf(e2e.temporal.client, e2e.env).holder()).toBeUndefined();
    expect((await log()).entries).toContainEqual(
      expect.objectContaining({ kind: 'note', message: 'cancel: waited for in-flight activities to stop' }),
    );

    // The next operation finds nothing to wait for: its snapshot succeeds at once.
    await e2e.env.fleet.clearFaults();
    expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(0);
    const snapshots = (await log()).entries.filter(
      (e) => e.kind === 'attempt' && e.message === 'snapshot the environment',
    );
    expect(snapshots).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
    expect(snapshots[0].durationMs).toBeLessThan(5_000);
  });
});
