import type { Config } from '../config/schema';
import { Secrets } from '../config/secrets';
import { createAosActivities } from './aos';
import { createEventActivities } from './events';
import { createFlagActivities } from './flag';
import { createHookActivities } from './hooks';
import { createImpactActivities } from './impact';
import { requireEnvironment, type DriverDeps } from './guards';
import { createKeyActivities } from './keys';
import { createLockActivities, type LockDeps } from './lock';
import { createPlanActivities } from './plan';
import { createProbeActivities } from './probes';
import { createRollbackActivities } from './rollback';
import { createRolloutActivities } from './rollout';
import { createSettingsActivities } from './settings';
import { createTrustActivities } from './trust';

export type { OperationSettings } from './settings';

export interface ActivityDeps extends Omit<LockDeps, 'requireEnvironment'>, DriverDeps {
  policies: Config['policies'];
  history: Config['history'];
  /** The declared schedules, for their standing approvals. */
  schedules?: Config['schedules'];
  /** Who signs on protected environments, with their keys. */
  people?: Config['people'];
  /** Change freezes: the settings hand each operation its environment's periods, the plan says when they refuse. */
  freezes?: Config['freezes'];
  /** The worker's task queue: a parent that vouches for a child operation must run on it. */
  taskQueue: string;
  searchAttributes: boolean;
  /** Event sinks (none when absent) and what names them in events' `source`. */
  installation?: string;
  events?: Config['events'];
  /** The worker's environment variables, for the `${env:NAME}` secrets of event sinks. */
  env?: NodeJS.ProcessEnv;
  /** Every secret the worker holds (config/secrets.ts), masked in events before they leave. */
  secrets?: Secrets;
}

/**
 * Every activity the worker registers, one module per capability. Their names, inputs and results are
 * released: running workflows call them by name.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSettingsActivities(deps),
    ...createFlagActivities(deps),
    ...createAosActivities(deps),
    ...createRollbackActivities(deps),
    ...createProbeActivities(deps),
    ...createKeyActivities(deps),
    ...createPlanActivities(deps),
    ...createLockActivities({
      ...deps,
      requireEnvironment: (environment) => requireEnvironment(deps.environments, environment),
    }),
    ...createEventActivities({
      sinks: deps.events?.sinks ?? [],
      env: deps.env ?? {},
      secrets: deps.secrets ?? new Secrets([]),
    }),
    ...createRolloutActivities(deps),
    ...createTrustActivities(deps),
    ...createImpactActivities(deps),
    ...createHookActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
