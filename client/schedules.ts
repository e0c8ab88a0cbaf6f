import { createHash } from 'node:crypto';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type CalendarSpec,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { createDrivers } from '../drivers';
import {
  DEFAULT_INSTALLATION,
  scheduleIdOnServer,
  scheduleTargets,
  scheduledWorkflowOf,
  type ScheduleConfig,
} from '../config/schema';
import type { LoadedConfig } from '../config/load';
import { workerSecrets } from '../config/secrets';

/**
 * Schedules this tool created carry this memo with their installation; `schedule sync` touches only
 * its own installation's.
 */
export const MANAGED_BY = 'maintenance-orchestrator';

/** What an operator typed: a schedule declared in temporal.yaml, or any id `schedule list` shows. */
export function resolveScheduleId(config: LoadedConfig, id: string): string {
  return config.schedules.some((s) => s.id === id) ? scheduleIdOnServer(config.installation, id) : id;
}

/**
 * The installation that made a schedule, from its memo; undefined when this tool did not make it.
 * Schedules made before installations existed have none and are the default installation's.
 */
function installationOf(d: { memo?: Record<string, unknown> }): string | undefined {
  if (d.memo?.managedBy !== MANAGED_BY) return undefined;
  return typeof d.memo.installation === 'string' ? d.memo.installation : DEFAULT_INSTALLATION;
}

export type ScheduleChange =
  'created' | 'updated' | 'deleted' | 'paused' | 'unpaused' | 'unchanged' | 'conflict' | 'refused';
export interface SyncLine {
  id: string;
  change: ScheduleChange;
  detail: string;
}

/** What a schedule's runs service: "sbx-a", or "rollout on tag sandbox (sbx-a, sbx-b)". */
export function describeTargets(config: LoadedConfig, s: ScheduleConfig): string {
  if (s.environment) return s.environment;
  const targets = scheduleTargets(config.environments, s).join(', ');
  return s.rollout?.tag ? `rollout on tag ${s.rollout.tag} (${targets})` : `rollout on ${targets}`;
}

function describeWhen(s: ScheduleConfig): string {
  return `${s.cron ? `cron "${s.cron}"` : `calendar ${JSON.stringify(s.calendar)}`} (${s.timezone})`;
}

/**
 * The Temporal Schedule a declared window (or rollout of windows) becomes. The fingerprint says when
 * it must be updated. The action's memo also records the `paused` value of temporal.yaml at this
 * sync: the schedule's own memo cannot be changed after creation, the action's can.
 */
export function desiredSchedule(
  config: LoadedConfig,
  s: ScheduleConfig,
): ScheduleOptions & { fingerprint: string } {
  const spec = s.cron
    ? { cronExpressions: [s.cron], timezone: s.timezone }
    : { calendars: [s.calendar as CalendarSpec], timezone: s.timezone };
  const { workflowType, input } = scheduledWorkflowOf(s);
  const policies = {
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: config.policies.windows.catchupWindow,
  };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ spec, input, policies, taskQueue: config.temporal.taskQueue }))
    .digest('hex')
    .slice(0, 16);
  const scheduleId = scheduleIdOnServer(config.installation, s.id);
  const managed = { managedBy: MANAGED_BY, installation: config.installation };
  // The tag, not its environments: the worker resolves it at each run, so the summary stays true.
  const what = s.rollout
    ? `Rollout of maintenance windows on ${s.rollout.tag ? `tag ${s.rollout.tag}` : s.rollout.environments?.join(', ')}`
    : `Maintenance window on ${s.environment}`;
  return {
    scheduleId,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowId: `${s.rollout ? 'rollout' : 'window'}-${scheduleId}`,
      memo: { ...managed, scheduleFingerprint: fingerprint, declaredPaused: s.paused },
      staticSummary: `${what} (schedule ${s.id})`.slice(0, 200),
      staticDetails: `${describeWhen(s)}, for ${String(s.duration)}${s.reason ? `: ${s.reason}` : ''}`,
    },
    policies,
    state: { paused: s.paused, note: s.paused ? 'paused in temporal.yaml' : undefined },
    memo: managed,
    fingerprint,
  };
}

async function describe(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** The configuration keys an environment's License configuration has, read through its driver. */
export type KnownKeys = (environment: string) => Promise<string[]>;

export function readKnownKeys(config: LoadedConfig): KnownKeys {
  return async (environment) => {
    const drivers = createDrivers(config.environments[environment], {
      environment,
      env: process.env,
      secrets: workerSecrets(config, process.env),
    });
    try {
      return Object.keys(await drivers.license.list(AbortSignal.timeout(10_000)));
    } finally {
      drivers.close();
    }
  };
}

/**
 * Why a declared schedule must not be synced (it names a key that one of its environments does not
 * have), or a note when some environment's keys could not be checked (it is down: its window checks
 * again in preflight).
 */
async function checkKeys(
  config: LoadedConfig,
  s: ScheduleConfig,
  knownKeys: KnownKeys,
): Promise<{ refusal?: string; note?: string }> {
  const named = [...s.changes.enable, ...s.changes.disable];
  if (named.length === 0) return {};
  const refusals: string[] = [];
  const unchecked: string[] = [];
  for (const environment of scheduleTargets(config.environments, s)) {
    let known: string[];
    try {
      known = await knownKeys(environment);
    } catch (err) {
      unchecked.push(s.rollout ? `${environment}: ${(err as Error).message}` : (err as Error).message);
      continue;
    }
    const unknown = named.filter((k) => !known.includes(k));
    if (unknown.length > 0)
      refusals.push(
        `unknown configuration key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} on ${environment} ` +
          `(known keys: ${known.join(', ')})`,
      );
  }
  return {
    ...(refusals.length > 0 && {
      refusal: `${refusals.join('; ')}; correct schedules[id=${s.id}].changes in temporal.yaml. Left as it was on the server.`,
    }),
    ...(unchecked.length > 0 && { note: `; configuration keys not checked (${unchecked.join('; ')})` }),
  };
}

/**
 * Makes the server's Schedules match `temporal.yaml`: creates the declared ones that are missing,
 * updates those whose definition changed, and deletes the ones this installation made that the file
 * no longer declares. Schedules of other installations, or made by anyone else, are left alone. A
 * schedule whose key changes name a key that one of its environments does not have is refused.
 */
export async function syncSchedules(
  client: Client,
  config: LoadedConfig,
  { dryRun = false, knownKeys = readKnownKeys(config) }: { dryRun?: boolean; knownKeys?: KnownKeys } = {},
): Promise<SyncLine[]> {
  const lines: SyncLine[] = [];
  const declared = new Set(config.schedules.map((s) => scheduleIdOnServer(config.installation, s.id)));

  for await (const summary of client.schedule.list()) {
    if (installationOf(summary) !== config.installation || declared.has(summary.scheduleId)) continue;
    if (!dryRun) await client.schedule.getHandle(summary.scheduleId).delete();
    lines.push({ id: summary.scheduleId, change: 'deleted', detail: 'no longer declared in temporal.yaml' });
  }
  const cached = new Map<string, Promise<string[]>>();
  const keysOnce: KnownKeys = (env) => cached.get(env) ?? cached.set(env, knownKeys(env)).get(env)!;
  for (const s of config.schedules) {
    const { refusal, note = '' } = await checkKeys(config, s, keysOnce);
    const id = scheduleIdOnServer(config.installation, s.id);
    if (refusal) lines.push({ id, change: 'refused', detail: refusal });
    else {
      const line = await syncOne(client, config, s, dryRun);
      lines.push({ ...line, detail: line.detail + note });
    }
  }
  return lines;
}

/**
 * One declared schedule. Pausing belongs to operators too: a schedule is paused or unpaused only when
 * the file's `paused` value changed since the last sync, so `schedule pause` survives restarts.
 */
async function syncOne(
  client: Client,
  config: LoadedConfig,
  s: ScheduleConfig,
  dryRun: boolean,
): Promise<SyncLine> {
  const { fingerprint, ...desired } = desiredSchedule(config, s);
  const id = desired.scheduleId;
  const when = `${describeTargets(config, s)}, ${describeWhen(s)}`;
  const current = await describe(client, id);
  if (!current) {
    if (!dryRun) await client.schedule.create(desired);
    return { id, change: 'created', detail: when };
  }
  const owner = installationOf(current);
  if (owner !== config.installation) {
    const whose = owner ? `belongs to installation "${owner}"` : 'exists and was not made by this tool';
    return { id, change: 'conflict', detail: `a schedule with this id ${whose}; left alone` };
  }

  const recorded = current.action.memo?.declaredPaused;
  // Not recorded (made by an earlier release) counts as unchanged: the operator's state is kept.
  const applyPaused =
    typeof recorded === 'boolean' && recorded !== s.paused && current.state.paused !== s.paused;
  const redefined = current.action.memo?.scheduleFingerprint !== fingerprint;
  if (!dryRun && (redefined || recorded !== s.paused)) {
    const note = `${s.paused ? 'paused' : 'unpaused'} in temporal.yaml`;
    await client.schedule.getHandle(id).update((prev) => ({
      ...prev,
      spec: desired.spec,
      action: desired.action,
      policies: desired.policies,
      state: applyPaused ? { ...prev.state, paused: s.paused, note } : prev.state,
    }));
  }
  const paused = applyPaused ? s.paused : current.state.paused;
  const state = (p: boolean) => (p ? 'paused' : 'active');
  const kept =
    paused === s.paused
      ? ''
      : `; ${state(paused)} as an operator left it (temporal.yaml says ${state(s.paused)})`;
  if (redefined) return { id, change: 'updated', detail: `${when}${kept}` };
  if (applyPaused)
    return { id, change: s.paused ? 'paused' : 'unpaused', detail: 'as declared in temporal.yaml' };
  return { id, change: 'unchanged', detail: `${when}${kept}` };
}

export interface ScheduleRow {
  id: string;
  environment?: string;
  /** A rollout schedule's targets: "tag sandbox", or its list of environments. */
  rollout?: string;
  /** Made by this installation: `schedule sync` keeps it. */
  managed: boolean;
  /** The installation that made it; undefined when this tool did not. */
  installation?: string;
  paused: boolean;
  nextRuns: string[];
  recentRuns: { workflowId: string; scheduledAt: string }[];
  note?: string;
  /** A window booked ahead (`maint window --at`), listed beside the schedules: `id` is its workflow ID. */
  booked?: { state: string; timezone?: string; endsAt: string; requestedBy: string };
}

/** Every Schedule on the server, with the next run times; this installation's first. */
export async function listSchedules(client: Client, installation: string): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const summary of client.schedule.list()) {
    const d = await describe(client, summary.scheduleId);
    if (!d) continue;
    const input = d.action.args?.[0] as
      { environment?: string; tag?: string; environments?: string[] } | undefined;
    const rollout = input?.tag ? `tag ${input.tag}` : input?.environments?.join(', ');
    rows.push({
      id: d.scheduleId,
      environment: input?.environment,
      ...(rollout && { rollout }),
      managed: installationOf(d) === installation,
      installation: installationOf(d),
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
