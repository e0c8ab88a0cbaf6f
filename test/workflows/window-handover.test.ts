import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, type OperationEvent } from '../../contract/events';
import { endWindowUpdate, extendWindowSignal, type ExtendWindowInput } from '../../contract/window';
import { maintenanceWindow } from '../../workflows';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { recordHistory } from '../helpers/record-history';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForStatus } from '../helpers/status';
import { until } from '../helpers/until';

/**
 * An open window hands over to its next run when its history grows long; before it does, it lets its
 * event deliveries settle. An operator who ends the window in that moment is answered "accepted":
 * the end must hold. Here the window.opened event is refused by the receiver until the test lets it
 * through, so that the hand-over waits exactly there.
 */
let letOpenedThrough = false;
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver((body) =>
    (JSON.parse(body) as OperationEvent).type === EVENT_TYPES.windowOpened && !letOpenedThrough ? 500 : 200,
  );
});
afterAll(() => receiver?.close());

const bed = timeSkippingTestbed(() => ({
  continueAsNewAfterEvents: 100,
  events: {
    timeout: '5s',
    retry: { initialInterval: '1s', backoffCoefficient: 1, maximumInterval: '1s', maximumAttempts: 1000 },
    sinks: [{ type: 'webhook', url: receiver.url }],
  },
}));

it('keeps an end requested while the window settles its events before continuing as new: it closes then, not at its end time', async () => {
  const result = await bed.withWorker(async () => {
    const handle = await bed.temporal.client.workflow.start(maintenanceWindow, {
      workflowId: `window-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [{ environment: bed.env.name, duration: 'PT2H', requestedBy: 'scheduler' }],
    });
    await waitForStatus(handle, (s) => s.step === 'window');
    // Refused extensions (no duration) grow the history past 100 events: the window starts its hand-over.
    const invalid = { by: 'flood' } as ExtendWindowInput;
    while ((await handle.describe()).historyLength < 110) await handle.signal(extendWindowSignal, invalid);
    await new Promise((r) => setTimeout(r, 1000)); // settling: window.opened is still being refused
    await handle.executeUpdate(endWindowUpdate, { args: [{ by: 'jane', reason: 'done early' }] });
    letOpenedThrough = true;
    const r = await handle.result();
    recordHistory(
      'window-ended-during-handover.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );
    return r;
  });
  expect(result.result).toBe('Succeeded');
  expect(result.window.endedEarly).toMatchObject({ by: 'jane', reason: 'done early' });
  expect(Date.parse(result.window.closedAt!)).toBeLessThan(Date.parse(result.window.endsAt!));
  expect(bed.env.readFlag()).toBe(0);
});

it('continues as new while open, re-takes its lock at the entity in the new run, and ends there when asked', async () => {
  letOpenedThrough = true;
  const result = await bed.withWorker(async () => {
    const handle = await bed.temporal.client.workflow.start(maintenanceWindow, {
      workflowId: `window-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [{ environment: bed.env.name, duration: 'PT2H', requestedBy: 'scheduler' }],
    });
    await waitForStatus(handle, (s) => s.step === 'window');
    const invalid = { by: 'flood' } as ExtendWindowInput;
    const latest = bed.temporal.client.workflow.getHandle(handle.workflowId);
    while ((await handle.describe()).historyLength < 110) await handle.signal(extendWindowSignal, invalid);
    // No more signals: a continue-as-new is refused while new ones keep arriving.
    await until(
      () => latest.describe(),
      (d) => d.runId !== handle.firstExecutionRunId,
      'the window to continue as new',
    );
    const next = await waitForStatus(latest, (s) => s.step === 'window');
    expect(next.window?.openedAt).toBeDefined();
    await latest.executeUpdate(endWindowUpdate, { args: [{ by: 'jane' }] });
    const r = await latest.result();
    const second = (await latest.describe()).runId;
    const first = bed.temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    recordHistory(
      'window-continued-run-1.json',
      handle.workflowId,
      (await first.fetchHistory()).events ?? [],
    );
    const run2 = bed.temporal.client.workflow.getHandle(handle.workflowId, second);
    recordHistory('window-continued-run-2.json', handle.workflowId, (await run2.fetchHistory()).events ?? []);
    return r;
  });
  expect(result.window.endedEarly).toMatchObject({ by: 'jane' });
  expect(bed.env.readFlag()).toBe(0);
});
