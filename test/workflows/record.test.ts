import { randomUUID } from 'node:crypto';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { logQuery, type ServicingResult } from '../../contract/operation';
import { disableMaintenanceMode, enableMaintenanceMode } from '../../workflows';
import { entityOf } from '../helpers/entity';
import { timeSkippingTestbed } from '../helpers/testbed';
import { until } from '../helpers/until';

/**
 * Holds the next finishOperation (the record step's activity) until the test lets it go: before it
 * writes the history entry, or after (the entry is written, the answer has not reached the workflow).
 */
let hold: { when: 'before' | 'after'; entered(): void; release: Promise<void> } | undefined;
const holdRecord: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const held = ctx.info.activityType === 'finishOperation' ? hold : undefined;
      if (!held) return next(input);
      hold = undefined;
      const wait = async () => {
        held.entered();
        await held.release;
      };
      if (held.when === 'before') await wait();
      const result = await next(input);
      if (held.when === 'after') await wait();
      return result;
    },
  },
});

const bed = timeSkippingTestbed({}, { interceptors: { activity: [holdRecord] } });
const { withWorker } = bed;

const start = (workflow: typeof enableMaintenanceMode) =>
  bed.temporal.client.workflow.start(workflow, {
    workflowId: `test-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'test', reason: 'record test' }],
  });

/** How the workflow closed: completed with its result, or the failure it closed with. */
async function outcomeOf(result: Promise<ServicingResult>) {
  return result.then(
    (r) => ({ closed: 'completed', result: r.result }),
    (e: unknown) => ({
      closed:
        e instanceof WorkflowFailedError && e.cause instanceof CancelledFailure ? 'cancelled' : 'failed',
      error: String(e),
    }),
  );
}

describe('the record step (time-skipping server)', () => {
  afterEach(() => withWorker(async () => (await start(disableMaintenanceMode)).result()));

  it.each(['before', 'after'] as const)(
    'closes with the result it recorded when cancelled while the record step runs (%s the entry is written), with one history entry',
    async (when) => {
      let entered!: () => void;
      const recording = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      hold = { when, entered, release: new Promise<void>((resolve) => (release = resolve)) };

      const { outcome, log, runId } = await withWorker(async () => {
        const handle = await start(enableMaintenanceMode);
        await recording;
        await handle.cancel();
        // Lets the record go on once the workflow has taken the cancellation in (a task completed after it).
        await until(
          async () => (await handle.fetchHistory()).events ?? [],
          (events) => {
            const requested = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
            return (
              requested >= 0 && events.slice(requested).some((e) => e.workflowTaskCompletedEventAttributes)
            );
          },
          'a workflow task completed after the cancellation request',
        );
        release();
        return {
          outcome: await outcomeOf(handle.result()),
          log: await handle.query(logQuery),
          runId: handle.firstExecutionRunId,
        };
      });

      const entries = (await entityOf(bed.temporal.client, bed.env).history()).filter(
        (e) => e.runId === runId,
      );
      expect(entries).toHaveLength(1);
      expect(outcome).toEqual({ closed: 'completed', result: entries[0].result });
      expect(entries[0].result).toBe('Succeeded');
      expect(log.entries.map((e) => e.message)).toContain(
        'Cancellation requested after the record step started: too late, the operation ends Succeeded',
      );
      expect(bed.env.readFlag()).toBe(1);
    },
  );
});
