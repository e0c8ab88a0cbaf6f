import type { Client } from '@temporalio/client';
import { until } from './until';

/** The workflow ID of the run a schedule started last, once it has started one (after a trigger). */
export const startedBySchedule = (client: Client, scheduleId: string): Promise<string> =>
  until(
    async () => {
      const action = (await client.schedule.getHandle(scheduleId).describe()).info.recentActions[0]?.action;
      return action?.type === 'startWorkflow' ? action.workflow.workflowId : undefined;
    },
    () => true,
    `schedule ${scheduleId} to start a workflow`,
    { everyMs: 200, timeoutMs: 30_000 },
  );
