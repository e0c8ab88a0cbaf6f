import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { entityOf } from '../helpers/entity';
import { faultMatrix } from '../helpers/fault-matrix';
import { until } from '../helpers/until';

/** The fault matrix of the fleet driver, then retries, resumes and cancellation that fit. */
const { e2e, workflowId, log, history, failAt } = faultMatrix();

describe('retries, resumes and timeouts that fit', () => {
  it('a resume after a partial restart does not restart the AOS already in maintenance mode', async () => {
    await failAt({
      step: 'restartAos',
      persistent: { startFailures: { 'aos-4': 1000 } },
      errorType: 'AosStartFailed',
    });
    const aos1 = await e2e().env.fleet.getAos('aos-1');
    expect(aos1).toMatchObject({ status: 'running', maintenanceMode: true });
    await e2e().env.fleet.clearFaults();
    const resumed = await e2e().maint('resume', 'contoso-sandbox', '-u', 'jane');
    expect(resumed.stdout).toContain('contoso-sandbox is InMaintenance (Succeeded).');
    expect(await e2e().env.fleet.getAos('aos-1')).toMatchObject({ pid: aos1.pid, startedAt: aos1.startedAt });
    expect((await log()).entries).toContainEqual(
      expect.objectContaining({ kind: 'note', message: 'aos-1: already in the target mode, not restarted' }),
    );
    expect(await e2e().observe()).toEqual({
      flag: 1,
      running: ['aos-1 (maintenance)', 'aos-4 (maintenance)'],
    });
  });

  it('gives every activity the heartbeat timeout, since every one heartbeats', async () => {
    expect((await e2e().maint('enable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(0);
    const { events } = await e2e().temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const heartbeatTimeouts = new Map<string, number>();
    for (const e of events ?? []) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (!scheduled) continue;
      const { seconds, nanos } = scheduled.heartbeatTimeout ?? {};
      heartbeatTimeouts.set(scheduled.activityType!.name!, Number(seconds ?? 0) * 1000 + (nanos ?? 0) / 1e6);
    }
    // The entity's calls heartbeat too (the entity may hold them long), as do the flag and the checks:
    // a worker that dies in any of them must be noticed within the heartbeat timeout, not the
    // start-to-close one (test/e2e/two-hosts.test.ts kills one in the middle of them).
    expect(Object.fromEntries(heartbeatTimeouts)).toEqual({
      acquireLock: 10_000,
      snapshotEnvironment: 10_000,
      setConfigurationMode: 10_000,
      restartAos: 10_000,
      stopAos: 10_000,
      verifyEnvironment: 10_000,
      finishOperation: 10_000,
    });
  });
});

describe('cancellation', () => {
  it('records a cancelled enable and releases the lock only once no AOS is starting or stopping', async () => {
    // Longer than the restart activity takes to hear of the cancellation: at its next heartbeat that
    // reaches the server, at most 8 s apart (0.8 × the 10 s heartbeat timeout).
    await e2e().env.fleet.setFaults({ startDelayMs: { 'aos-1': 12_000 } });
    const handle = await e2e().temporal.client.workflow.start('enableMaintenanceMode', {
      workflowId,
      taskQueue: e2e().env.config.temporal.taskQueue,
      args: [{ environment: 'contoso-sandbox', requestedBy: 'oncall', reason: 'cancelled mid-restart' }],
    });
    await until(
      () => e2e().env.fleet.getAos('aos-1'),
      (a) => a.status === 'starting',
      'aos-1 to be starting',
      {
        everyMs: 50,
      },
    );
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    const inMotion = (await e2e().env.fleet.listAos()).filter(
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
    expect(await entityOf(e2e().temporal.client, e2e().env).holder()).toBeUndefined();
    expect((await log()).entries).toContainEqual(
      expect.objectContaining({ kind: 'note', message: 'cancel: waited for in-flight activities to stop' }),
    );

    // The next operation finds nothing to wait for: its snapshot succeeds at once.
    await e2e().env.fleet.clearFaults();
    expect((await e2e().maint('disable', 'contoso-sandbox', '-u', 'oncall')).code).toBe(0);
    const snapshots = (await log()).entries.filter(
      (e) => e.kind === 'attempt' && e.message === 'snapshot the environment',
    );
    expect(snapshots).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
    expect(snapshots[0].durationMs).toBeLessThan(5_000);
  });
});
