import { msToNumber } from '@temporalio/common/lib/time';
import { environmentFreezePeriods } from '../config/freezes';
import { DEFAULT_INSTALLATION, type Config } from '../config/schema';
import type { ApprovalSettings } from '../contract/approval';
import type { EventSettings } from '../contract/events';
import type { FreezePeriod } from '../contract/freeze';
import { eventSettings } from './events';
import { requireEnvironment, type EnvironmentRef } from './guards';
import { approvalSettings } from './trust';
import { OVERRUN_MS } from '../drivers/command/process';
import { HOOKS, type HookSettings } from '../contract/hooks';
import type { HooksConfig } from '../config/hooks';

/** What the workflow needs from the configuration, durations in milliseconds. */
export interface OperationSettings {
  searchAttributes: boolean;
  decisionTimeoutMs: number;
  windows: {
    maximumDurationMs: number;
    busyTimeoutMs: number;
    busyPollIntervalMs: number;
    /** Absent in settings recorded by releases before the cap: those windows replay uncapped. */
    maximumExtensions?: number;
    /** `policies.windows.cutoff`: no window opens in the last this-much of its slot (absent: none). */
    cutoffMs?: number;
  };
  /** `maximumInMaintenance` (the environment's, else the policy's) and `autoDisable`; absent: no limit. */
  overdue?: { maximumMs: number; autoDisable: boolean };
  activity: { startToCloseTimeoutMs: number; heartbeatTimeoutMs: number };
  /** For the environment entity workflow (`continueAsNewAfterEvents` also for open windows). */
  environment: { historyKeep: number; lockCheckIntervalMs: number; continueAsNewAfterEvents: number };
  retry: {
    initialIntervalMs: number;
    backoffCoefficient: number;
    maximumIntervalMs: number;
    maximumAttempts: number;
  };
  /** Absent in settings recorded before events, and when no sink is configured: no event is sent. */
  events?: EventSettings;
  /** Absent in settings recorded by releases before approval: those operations replay without it. */
  approval?: ApprovalSettings;
  /**
   * The change-freeze periods of this environment from now until the latest a window started now could
   * close (approval, busy wait and maximum duration, plus a day). Absent before freezes, and when none applies.
   */
  freezes?: FreezePeriod[];
  /** The environment's hooks; absent when it has none (and in settings of earlier releases). */
  hooks?: HookSettings;
}

export interface SettingsDeps {
  environments: Config['environments'];
  policies: Config['policies'];
  history: Config['history'];
  searchAttributes: boolean;
  installation?: string;
  events?: Config['events'];
  people?: Config['people'];
  schedules?: Config['schedules'];
  freezes?: Config['freezes'];
}

/** How long the environment may stay in maintenance after a plain enable, and whether a disable follows. */
function overdueSettings(deps: SettingsDeps, environment: string): Pick<OperationSettings, 'overdue'> {
  const env = deps.environments[environment];
  const maximum = env.maximumInMaintenance ?? deps.policies.maximumInMaintenance;
  if (maximum === undefined) return {};
  const autoDisable = env.autoDisable ?? deps.policies.autoDisable;
  return { overdue: { maximumMs: msToNumber(maximum), autoDisable } };
}

/** What a workflow needs of an environment's hooks: which there are, the failure policy, the longest timeout. */
function hookSettings(hooks: HooksConfig): HookSettings {
  const configured = HOOKS.filter((h) => hooks[h]);
  return {
    configured,
    onFailure: hooks.onFailure,
    // Room for the runner to kill the hook's process group and drain its output once its timeout is up.
    activityTimeoutMs:
      Math.max(...configured.map((h) => msToNumber(hooks[h]!.timeout ?? hooks.timeout))) + OVERRUN_MS + 5000,
  };
}

/** The settings a workflow gets from the worker's temporal.yaml (not carried in its input). */
export function createSettingsActivities(deps: SettingsDeps) {
  return {
    /** Local activity: checks the environment is declared and hands the workflow its settings. */
    async resolveEnvironment({ environment }: EnvironmentRef): Promise<OperationSettings> {
      requireEnvironment(deps.environments, environment);
      const { activity, decisionTimeout, windows, lockCheckInterval, approvalTimeout } = deps.policies;
      const from = Date.now();
      const horizon =
        msToNumber(approvalTimeout) + msToNumber(windows.busyTimeout) + msToNumber(windows.maximumDuration);
      const freezes = environmentFreezePeriods(
        deps.freezes ?? [],
        deps.environments,
        environment,
        from,
        from + horizon + 86_400_000,
      );
      return {
        searchAttributes: deps.searchAttributes,
        decisionTimeoutMs: msToNumber(decisionTimeout),
        windows: {
          maximumDurationMs: msToNumber(windows.maximumDuration),
          busyTimeoutMs: msToNumber(windows.busyTimeout),
          busyPollIntervalMs: msToNumber(windows.busyPollInterval),
          maximumExtensions: windows.maximumExtensions,
          ...(windows.cutoff !== undefined && { cutoffMs: msToNumber(windows.cutoff) }),
        },
        ...overdueSettings(deps, environment),
        activity: {
          startToCloseTimeoutMs: msToNumber(activity.startToCloseTimeout),
          heartbeatTimeoutMs: msToNumber(activity.heartbeatTimeout),
        },
        environment: {
          historyKeep: deps.history.keep,
          lockCheckIntervalMs: msToNumber(lockCheckInterval),
          continueAsNewAfterEvents: deps.history.continueAsNewAfterEvents,
        },
        retry: {
          initialIntervalMs: msToNumber(activity.retry.initialInterval),
          backoffCoefficient: activity.retry.backoffCoefficient,
          maximumIntervalMs: msToNumber(activity.retry.maximumInterval),
          maximumAttempts: activity.retry.maximumAttempts,
        },
        ...(deps.events?.sinks.length && {
          events: eventSettings(deps.events, deps.installation ?? DEFAULT_INSTALLATION, environment),
        }),
        ...(deps.environments[environment].hooks && {
          hooks: hookSettings(deps.environments[environment].hooks),
        }),
        approval: approvalSettings(
          {
            environments: deps.environments,
            people: deps.people ?? {},
            schedules: deps.schedules ?? [],
            installation: deps.installation ?? DEFAULT_INSTALLATION,
            policies: deps.policies,
          },
          environment,
        ),
        ...(freezes.length > 0 && { freezes }),
      };
    },
  };
}
