import { createHash } from 'node:crypto';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type CalendarSpec,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { windowInputOf, type ScheduleConfig } from '../config/schema';
import type { LoadedConfig } from '../config/load';
import { WORKFLOW_TYPES } from '../contract/operation';

/** Schedules this tool created carry this memo; `schedule sync` touches no others. */
export const MANAGED_BY = 'maintenance-orchestrator';

export type ScheduleChange =
  'created' | 'updated' | 'deleted' | 'paused' | 'unpaused' | 'unchanged' | 'conflict';
export interface SyncLine {
  id: string;
  change: ScheduleChange;
  detail: string;
}

function describeWhen(s: ScheduleConfig): string {
  return `${s.cron ? `cron "${s.cron}"` : `calendar ${JSON.stringify(s.calendar)}`} (${s.timezone})`;
}

/** The Temporal Schedule a declared window becomes. The fingerprint says when it must be updated. */
export function desiredSchedule(
  config: LoadedConfig,
  s: ScheduleConfig,
): ScheduleOptions & { fingerprint: string } {
  const spec = s.cron
    ? { cronExpressions: [s.cron], timezone: s.timezone }
    : { calendars: [s.calendar as CalendarSpec], timezone: s.timezone };
  const input = windowInputOf(s);
  const policies = {
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: config.policies.windows.catchupWindow,
  };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ spec, input, policies, taskQueue: config.temporal.taskQueue }))
    .digest('hex')
    .slice(0, 16);
  return {
    scheduleId: s.id,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPES.window,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowId: `window-${s.id}`,
      memo: { managedBy: MANAGED_BY, scheduleFingerprint: fingerprint },
      staticSummary: `Maintenance window on ${s.environment} (schedule ${s.id})`,
      staticDetails: `${describeWhen(s)}, for ${String(s.duration)}${s.reason ? `: ${s.reason}` : ''}`,
    },
    policies,
    state: { paused: s.paused, note: s.paused ? 'paused in temporal.yaml' : undefined },
    memo: { managedBy: MANAGED_BY },
    fingerprint,
  };
}

const isManaged = (d: { memo?: Record<string, unknown> }) => d.memo?.managedBy === MANAGED_BY;

async function describe(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Makes the server's Schedules match `temporal.yaml`: creates the declared ones that are missing,
 * updates those whose definition changed, pauses or unpauses, and deletes the ones this tool made
 * that the file no longer declares. Schedules made by anyone else are left alone.
 */
export async function syncSchedules(
  client: Client,
  config: LoadedConfig,
  { dryRun = false } = {},
): Promise<SyncLine[]> {
  const lines: SyncLine[] = [];
  const declared = new Set(config.schedules.map((s) => s.id));

  for await (const summary of client.schedule.list()) {
    if (!isManaged(summary) || declared.has(summary.scheduleId)) continue;
    if (!dryRun) await client.schedule.getHandle(summary.scheduleId).delete();
    lines.push({ id: summary.scheduleId, change: 'deleted', detail: 'no longer declared in temporal.yaml' });
  }

  for (const s of config.schedules) {
    const { fingerprint, ...desired } = desiredSchedule(config, s);
    const current = await describe(client, s.id);
    const when = `${s.environment}, ${describeWhen(s)}`;
    if (!current) {
      if (!dryRun) await client.schedule.create(desired);
      lines.push({ id: s.id, change: 'created', detail: when });
      continue;
    }
    if (!isManaged(current)) {
      lines.push({
        id: s.id,
        change: 'conflict',
        detail: 'a schedule with this id exists and was not made by this tool; left alone',
      });
      continue;
    }
    if (current.action.memo?.scheduleFingerprint !== fingerprint) {
      if (!dryRun) {
        await client.schedule.getHandle(s.id).update((prev) => ({
          ...prev,
          spec: desired.spec,
          action: desired.action,
          policies: desired.policies,
          state: { ...prev.state, paused: s.paused, note: desired.state?.note },
        }));
      }
      lines.push({ id: s.id, change: 'updated', detail: when });
      continue;
    }
    if (current.state.paused !== s.paused) {
      const handle = client.schedule.getHandle(s.id);
      if (!dryRun)
        await (s.paused
          ? handle.pause('paused in temporal.yaml')
          : handle.unpause('unpaused in temporal.yaml'));
      lines.push({
        id: s.id,
        change: s.paused ? 'paused' : 'unpaused',
        detail: 'as declared in temporal.yaml',
      });
      continue;
    }
    lines.push({ id: s.id, change: 'unchanged', detail: when });
  }
  return lines;
}

export interface ScheduleRow {
  id: string;
  environment?: string;
  managed: boolean;
  paused: boolean;
  nextRuns: string[];
  recentRuns: { workflowId: string; scheduledAt: string }[];
  note?: string;
}

/** Every Schedule on the server, with the next run times; ours first. */
export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const summary of client.schedule.list()) {
    const d = await describe(client, summary.scheduleId);
    if (!d) continue;
    const input = d.action.args?.[0] as { environment?: string } | undefined;
    rows.push({
      id: d.scheduleId,
      environment: input?.environment,
      managed: isManaged(d),
      paused: d.state.paused,
      nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      recentRuns: d.info.recentActions.slice(-3).map((a) => ({
        workflowId: a.action.workflow.workflowId,
        scheduledAt: a.scheduledAt.toISOString(),
      })),
      note: d.state.note,
    });
  }
  return rows.sort((a, b) => Number(b.managed) - Number(a.managed) || a.id.localeCompare(b.id));
}
