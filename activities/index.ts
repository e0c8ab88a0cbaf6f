import { ApplicationFailure, log } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import type { KeyChange } from '../contract/operation';
import type { OperationPlan, PlanRequest } from '../contract/plan';
import type { Config } from '../config/schema';
import { Secrets } from '../config/secrets';
import type { EnvironmentDrivers } from '../drivers/capabilities';
import { createAosActivities, describeRunning } from './aos';
import {
  environmentDrivers,
  type DriverDeps,
  guarded,
  requireEnvironment as requireEnvironmentIn,
  transcribed,
  type EnvironmentRef,
} from './guards';
import { buildPlan } from './plan';
import { createEventActivities } from './events';
import { createFlagActivities } from './flag';
import { createLockActivities, type LockDeps } from './lock';
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

export type Expectation = 'maintenance' | 'normal';

export function createActivities(deps: ActivityDeps) {
  const requireEnvironment = (environment: string): void =>
    requireEnvironmentIn(deps.environments, environment);
  const drivers = (environment: string): EnvironmentDrivers => environmentDrivers(deps, environment);

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

    /**
     * Checks the environment as its users see it. Maintenance: exactly one interactive and one batch
     * AOS, both in maintenance mode; administrators and maintenance mode users get in, others do not.
     * Normal: every AOS up and out of maintenance; a regular user gets in.
     */
    async verifyEnvironment({
      environment,
      expect,
    }: EnvironmentRef & { expect: Expectation }): Promise<{ checks: string[] }> {
      const d = drivers(environment);
      return guarded(d, 'verify', async (signal) => {
        const problems: string[] = [];
        const checks: string[] = [];
        const inMaintenance = expect === 'maintenance';

        const flag = await d.flagStore.readConfigurationMode(signal);
        if (flag !== (inMaintenance ? 1 : 0)) problems.push(`CONFIGURATIONMODE is ${flag}`);
        else checks.push(`CONFIGURATIONMODE = ${flag}`);

        const all = await d.aosControl.list(signal);
        const running = all.filter((a) => a.running);
        const wrongMode = running.filter((a) => a.maintenanceMode !== inMaintenance).map((a) => a.id);
        if (wrongMode.length > 0)
          problems.push(`${wrongMode.join(', ')} not ${inMaintenance ? 'in' : 'out of'} maintenance mode`);
        if (inMaintenance) {
          for (const role of ['interactive', 'batch'] as const) {
            const n = running.filter((a) => a.role === role).length;
            if (n !== 1) problems.push(`${n} ${role} AOS running, expected exactly 1`);
          }
        } else {
          const down = all.filter((a) => !a.running).map((a) => a.id);
          if (down.length > 0) problems.push(`${down.join(', ')} not running`);
        }
        if (problems.length === 0) checks.push(`running: ${describeRunning(all)}`);

        const front = running.find((a) => a.role === 'interactive');
        if (front && problems.length === 0) {
          const users = await d.probe.probeUsers(signal);
          if (!users.administrator && !users.maintenanceUser && !users.regularUser)
            checks.push('sign-in not probed: the driver names no users to try');
          const expectations: [string | undefined, boolean][] = inMaintenance
            ? [
                [users.administrator, true],
                [users.maintenanceUser, true],
                [users.regularUser, false],
              ]
            : [
                [users.administrator, true],
                [users.regularUser, true],
              ];
          for (const [user, allowed] of expectations) {
            if (!user) continue;
            const answer = await d.probe.signIn(front.id, user, signal);
            if (answer.allowed === allowed) checks.push(`${answer.detail}, as expected`);
            else problems.push(`${answer.detail}, expected ${allowed ? 'to sign in' : 'to be refused'}`);
          }
        }
        if (problems.length > 0) {
          throw ApplicationFailure.retryable(
            `Verification failed: ${problems.join('; ')}`,
            ErrorType.VerificationFailed,
            {
              problems,
            },
          );
        }
        return { checks };
      });
    },

    /**
     * A dry run: what the operation would do now, from read-only calls (flag, AOS, License configuration,
     * probe users, the lock); changes nothing.
     */
    async planOperation(request: PlanRequest): Promise<OperationPlan> {
      const d = drivers(request.environment);
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

    /** The current values of configuration keys; unknown keys are named and never retried. */
    async readConfigurationKeys({
      environment,
      names,
    }: EnvironmentRef & { names: string[] }): Promise<Record<string, boolean>> {
      const d = drivers(environment);
      const all = await guarded(d, 'read the License configuration', (signal) => d.license.list(signal));
      const unknown = names.filter((n) => !(n in all));
      if (unknown.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `Unknown configuration key${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} on ${environment}. ` +
            `Known keys: ${Object.keys(all).join(', ')}.`,
          ErrorType.UnknownConfigurationKey,
          { unknown },
        );
      }
      return Object.fromEntries(names.map((n) => [n, all[n]]));
    },

    /** Sets configuration keys through the License configuration (idempotent); says what changed. */
    async setConfigurationKeys({
      environment,
      values,
    }: EnvironmentRef & { values: Record<string, boolean> }) {
      const d = drivers(environment);
      return transcribed(() =>
        guarded(d, 'change the License configuration', async (signal) => {
          const before = await d.license.list(signal);
          const changes: KeyChange[] = [];
          for (const [name, to] of Object.entries(values)) {
            if (before[name] === to) continue;
            await d.license.set(name, to, signal);
            changes.push({ name, from: before[name], to });
          }
          log.info('Configuration keys set', { environment, changes });
          return { changes };
        }),
      );
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
