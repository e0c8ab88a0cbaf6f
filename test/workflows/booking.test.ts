import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { cancelBookingSignal, cancelBookingUpdate } from '../../contract/booking';
import { decisionUpdates, statusQuery } from '../../contract/operation';
import { endWindowUpdate, type WindowInput, type WindowResult } from '../../contract/window';
import { enableMaintenanceMode, maintenanceWindow } from '../../workflows';
import { entityOf } from '../helpers/entity';
import { recordHistory } from '../helpers/record-history';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForDecision, waitForStatus } from '../helpers/status';

const bed = timeSkippingTestbed({ faults: true });
const { withWorker } = bed;
afterEach(() => bed.env.fleet.clearFaults());

const DAY = 86_400_000;

const start = (input: Partial<WindowInput>, workflowId = `window-${randomUUID()}`) =>
  bed.temporal.client.workflow.start(maintenanceWindow, {
    workflowId,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [
      {
        environment: bed.env.name,
        duration: 'PT2H',
        requestedBy: 'jane',
        reason: 'booking test',
        ...input,
      },
    ],
  });

/** A time `ms` after the server's now (the time-skipping server's clock runs ahead of ours once it skipped). */
const serverNow = async () => (await bed.temporal.currentTimeMs()) as number;
const inTheFuture = async (ms: number) => new Date((await serverNow()) + ms).toISOString();

async function history(handle: WorkflowHandle) {
  return (await handle.fetchHistory()).events ?? [];
}

describe('a window booked ahead (time-skipping server)', () => {
  it('waits, booked and changing nothing, until its time, then opens and closes as any window', async () => {
    const at = await inTheFuture(3 * DAY);
    const result = await withWorker(async () => {
      const handle = await start({ at, timezone: 'Europe/Berlin', changes: { enable: ['WHSandTMS'] } });
      const booked = await waitForStatus(handle, (s) => s.state === 'Booked');
      expect(booked.booking).toMatchObject({
        startsAt: at,
        endsAt: new Date(Date.parse(at) + 2 * 3_600_000).toISOString(),
        timezone: 'Europe/Berlin',
        waiting: true,
        changes: { enable: ['WHSandTMS'], disable: [] },
      });
      // Booked, it holds no lock and has changed nothing.
      expect(await entityOf(bed.temporal.client, bed.env).holder()).toBeUndefined();
      expect(bed.env.readFlag()).toBe(0);
      const r: WindowResult = await handle.result();
      recordHistory('window-booked.json', handle.workflowId, await history(handle));
      return r;
    });
    expect(result.result).toBe('Succeeded');
    // It opened at its time (not before), and stayed open its two hours.
    expect(Date.parse(result.window.openedAt!)).toBeGreaterThanOrEqual(Date.parse(at));
    expect(Date.parse(result.window.openedAt!) - Date.parse(at)).toBeLessThan(60_000);
    expect(result.changes).toEqual([{ name: 'WHSandTMS', from: false, to: true }]);
    expect(bed.env.readFlag()).toBe(0);
  });

  it('is cancelled before its time: ends Rejected, having changed nothing, and the history says who cancelled', async () => {
    const at = await inTheFuture(2 * DAY);
    const { result, handle } = await withWorker(async () => {
      const h = await start({ at });
      await waitForStatus(h, (s) => s.state === 'Booked');
      const ack = await h.executeUpdate(cancelBookingUpdate, {
        args: [{ by: 'bob', reason: 'not needed after all' }],
      });
      expect(ack).toMatchObject({ accepted: true, decision: { kind: 'cancel', by: 'bob' } });
      // Cancelled once is enough: a second cancel is refused, saying why.
      await expect(
        h.executeUpdate(cancelBookingUpdate, { args: [{ by: 'bob', reason: 'again' }] }),
      ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/cancelled already by bob/) } });
      const r: WindowResult = await h.result();
      recordHistory('window-booked-cancelled.json', h.workflowId, await history(h));
      return { result: r, handle: h };
    });
    expect(result.result).toBe('Rejected');
    const status = await handle.query(statusQuery);
    expect(status.booking).toMatchObject({
      waiting: false,
      cancelled: { by: 'bob', reason: 'not needed after all' },
    });
    const [entry] = await entityOf(bed.temporal.client, bed.env).history(1);
    expect(entry).toMatchObject({ operationId: handle.workflowId, result: 'Rejected' });
    expect(entry.detail).toMatch(
      /booking cancelled before its time \(cancel by bob.*not needed after all\); nothing was changed/,
    );
    expect(bed.env.readFlag()).toBe(0);
  });

  it('takes a cancel from the Web UI as a signal, and a Temporal cancellation, both ending Rejected', async () => {
    const at = await inTheFuture(DAY);
    await withWorker(async () => {
      const signalled = await start({ at });
      const cancelled = await start({ at: await inTheFuture(DAY + 60_000) });
      await waitForStatus(signalled, (s) => s.state === 'Booked');
      await waitForStatus(cancelled, (s) => s.state === 'Booked');
      await signalled.signal(cancelBookingSignal, { by: 'carol', reason: 'from the UI' });
      await cancelled.cancel();
      expect(((await signalled.result()) as WindowResult).result).toBe('Rejected');
      await expect(cancelled.result()).rejects.toThrow(WorkflowFailedError);
      expect((await cancelled.query(statusQuery)).result).toBe('Rejected');
    });
    const entries = await entityOf(bed.temporal.client, bed.env).history(2);
    expect(entries.map((e) => e.result)).toEqual(['Rejected', 'Rejected']);
    expect(bed.env.readFlag()).toBe(0);
  });

  it('refuses a cancel of a window that was not booked, and a start in the past, changing nothing', async () => {
    await withWorker(async () => {
      const now = await start({});
      await waitForStatus(now, (s) => !!s.window?.endsAt);
      await expect(
        now.executeUpdate(cancelBookingUpdate, { args: [{ by: 'bob', reason: '' }] }),
      ).rejects.toMatchObject({
        cause: { message: expect.stringMatching(/not booked ahead: end it with `maint end-window`/) },
      });
      await now.executeUpdate(endWindowUpdate, { args: [{ by: 'test', reason: '' }] });
      await now.result();

      const past = await start({ at: new Date((await serverNow()) - 60_000).toISOString() });
      const failure = await past.result().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(
        /at: .* is in the past .*give a later time, or leave out --at/,
      );
    });
    expect(bed.env.readFlag()).toBe(0);
  });

  it('refuses a start typed with a time without offset and an unknown zone, saying how to write them', async () => {
    // Validation happens in the workflow too (the Web UI's start form): both fields, both hints.
    const failure = await withWorker(async () =>
      (await start({ at: '2026-12-31 22:00', timezone: 'Mars/Olympus' })).result().catch((e: unknown) => e),
    );
    const message = String((failure as WorkflowFailedError).cause?.message);
    expect(message).toMatch(/give the start with its offset, e\.g\. "2026-12-31T22:00\+01:00"/);
    expect(message).toMatch(/unknown time zone "Mars\/Olympus": give an IANA name/);
  });
});

describe('the cutoff of a window (time-skipping server)', () => {
  it('does not open once the last minutes of its slot have come while it waited for the lock: refused, nothing changed', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const result = await withWorker(async () => {
      const blocker = await bed.temporal.client.workflow.start(enableMaintenanceMode, {
        workflowId: `blocker-${randomUUID()}`,
        taskQueue: bed.env.config.temporal.taskQueue,
        args: [{ environment: bed.env.name, requestedBy: 'someone' }],
      });
      await waitForDecision(blocker);
      // Its slot is ten minutes; the last 9m50s are cut off: it may open only in its first 10 seconds.
      const window = await start({ duration: 'PT10M', cutoff: 'PT9M50S' });
      const failure = await window.result().catch((e: unknown) => e);
      recordHistory('window-cutoff-refused.json', window.workflowId, await history(window));
      await bed.env.fleet.clearFaults();
      await blocker.executeUpdate(decisionUpdates.rollback, { args: [{ by: 'test', reason: 'cleanup' }] });
      await blocker.result().catch(() => undefined);
      return failure;
    });
    expect(result).toBeInstanceOf(WorkflowFailedError);
    const cause = (result as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('CutoffPassed');
    expect(cause.message).toMatch(
      /The window did not open: its cutoff passed at .* \(the last 10m of its slot\)\. Nothing was changed\. It was held by workflow blocker-/,
    );
  });

  it('refuses a cutoff that is not shorter than the window', async () => {
    const failure = await withWorker(async () =>
      (await start({ duration: 'PT1H', cutoff: 'PT1H' })).result().catch((e: unknown) => e),
    );
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(
      /cutoff 1h is not shorter than the duration 1h: give a shorter cutoff or a longer window/,
    );
  });
});
