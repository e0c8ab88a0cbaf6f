/**
 * Change freezes on the time-skipping server: a window open when a freeze begins is not cut (its
 * closing disable runs during the freeze), but an extension into the freeze is refused. (Refused
 * starts are tested on the dev server, test/e2e/freezes.test.ts: skipping time here also skips past
 * the entity's timers, so the server's time after a skip is not one a freeze can be declared around.)
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { extendWindowUpdate } from '../../contract/window';
import { maintenanceWindow } from '../../workflows';
import { minutesFromNow } from '../helpers/freezes';
import { recordHistory } from '../helpers/record-history';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForStatus } from '../helpers/status';

// Relative to the worker's clock at load: the time-skipping server's time starts there and runs ahead.
const loaded = Date.now();
const bed = timeSkippingTestbed(() => ({
  freezes: [
    {
      name: 'quarter-close',
      reason: 'Quarter close',
      start: minutesFromNow(90, loaded),
      end: minutesFromNow(360, loaded),
      environments: ['contoso-sandbox'],
    },
  ],
}));

describe('change freezes (time-skipping server)', () => {
  it('a window open when the freeze begins closes as planned, but is not extended into the freeze', async () => {
    await bed.withWorker(async () => {
      const handle = await bed.temporal.client.workflow.start(maintenanceWindow, {
        workflowId: `window-${randomUUID()}`,
        taskQueue: bed.env.config.temporal.taskQueue,
        args: [
          { environment: bed.env.name, duration: 'PT2H', requestedBy: 'jane', reason: 'before the close' },
        ],
      });
      await waitForStatus(handle, (s) => !!s.window?.openedAt);
      const refused = await handle
        .executeUpdate(extendWindowUpdate, { args: [{ by: 'jane', duration: 'PT10M', reason: 'more' }] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(
        /^extendWindow refused: it would stay open until .*, into the change freeze "quarter-close" \(Quarter close\), from .* until .*: a window open when a freeze starts is not cut, but it is not extended into one$/,
      );
      const result = await handle.result();
      expect(result.result).toBe('Succeeded');
      expect(result.window.extensions).toEqual([]);
      // The disable ran after the freeze began: a window's children are the window's, not new starts.
      expect(Date.parse(result.window.closedAt!)).toBeGreaterThan(
        Date.parse(`${minutesFromNow(90, loaded)}:00Z`),
      );
      expect(result.steps.find((s) => s.name === 'disable')?.status).toBe('succeeded');
      expect(bed.env.readFlag()).toBe(0);
      recordHistory(
        'window-extension-into-freeze-refused.json',
        handle.workflowId,
        (await handle.fetchHistory()).events ?? [],
      );
    });
  });
});
