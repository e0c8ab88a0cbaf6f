import type { OperationPlan, PlanRequest } from '../contract/plan';
import type { Config } from '../config/schema';
import { Secrets } from '../config/secrets';
import { createAosActivities } from './aos';
import {
  environmentDrivers,
  type DriverDeps,
  guarded,
  requireEnvironment as requireEnvironmentIn,
} from './guards';
import { buildPlan } from './plan';
import { createEventActivities } from './events';
import { createFlagActivities } from './flag';
import { createKeyActivities } from './keys';
import { createLockActivities, type LockDeps } from './lock';
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

export function createActivities(deps: ActivityDeps) {
  const requireEnvironment = (environment: string): void =>
    requireEnvironmentIn(deps.environments, environment);

  return {
    ...createLockActivities({ ...deps, requireEnvironment }),
    ...createEventActivities({
      sinks: deps.events?.sinks ?? [],
      env: deps.env ?? {},
      secrets: deps.secrets ?? new Secrets([]),
    }),
    ...createRolloutActivities(deps),
    ...createTrustActivities(deps),
    ...createSettingsActivities(deps),
    ...createFlagActivities(deps),
    ...createAosActivities(deps),
    ...createRollbackActivities(deps),
    ...createProbeActivities(deps),
    ...createKeyActivities(deps),

    /**
     * A dry run: what the operation would do now, from read-only calls (flag, AOS, License configuration,
     * probe users, the lock); changes nothing.
     */
    async planOperation(request: PlanRequest): Promise<OperationPlan> {
      const d = environmentDrivers(deps, request.environment);
      const facts = await guarded(d, 'read the environment for a plan', async (signal) => {
        const names = [...(request.changes?.enable ?? []), ...(request.changes?.disable ?? [])];
        const [configurationMode, aos, users, keys, view] = await Promise.all([
          d.flagStore.readConfigurationMode(signal),
          d.aosControl.list(signal),
          d.probe.probeUsers(signal),
          names.length > 0 ? d.license.list(signal) : undefined,
          deps.entities.view(request.environment),
        ]);
        return { configurationMode, aos, users, keys, holder: view?.holder };
      });
      return buildPlan(
        request,
        {
          ...facts,
          protected: deps.environments[request.environment].protected,
          approvers: deps.environments[request.environment].approvers,
          approvalTimeout: String(deps.policies.approvalTimeout),
        },
        (call) => d.describe(call),
      );
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
