import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import type { EnvironmentSnapshot } from '../contract/operation';
import type { ActivityPolicy, Config } from '../config/schema';
import type { EnvironmentDrivers } from './drivers';
import { classify } from './errors';
import type { HistoryEntry, HistoryStore } from './history-store';

export interface ActivityDeps {
  environments: Config['environments'];
  policy: ActivityPolicy;
  searchAttributes: boolean;
  /** The drivers of one environment; the worker builds them once per environment. */
  drivers(environment: string): EnvironmentDrivers;
  history: HistoryStore;
}

export interface EnvironmentRef {
  environment: string;
}
export interface AosRef extends EnvironmentRef {
  aosId: string;
}
export type Expectation = 'maintenance' | 'normal';

/** Heartbeats while `work` runs, and hands it the activity's cancellation signal. */
async function heartbeating<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1000);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw classify(err, what);
  }
}

export function createActivities(deps: ActivityDeps) {
  const drivers = (environment: string): EnvironmentDrivers => {
    if (!deps.environments[environment]) {
      const known = Object.keys(deps.environments).join(', ');
      throw ApplicationFailure.nonRetryable(
        `Unknown environment "${environment}". Known environments: ${known}. Declare it in temporal.yaml.`,
        ErrorType.UnknownEnvironment,
      );
    }
    return deps.drivers(environment);
  };

  return {
    /** Local activity: checks the environment is declared and hands the workflow its settings. */
    async resolveEnvironment({
      environment,
    }: EnvironmentRef): Promise<{ policy: ActivityPolicy; searchAttributes: boolean }> {
      drivers(environment);
      return { policy: deps.policy, searchAttributes: deps.searchAttributes };
    },

    /** Both the database and the AOS control plane answer; returns the state to roll back to. */
    async snapshotEnvironment({ environment }: EnvironmentRef): Promise<EnvironmentSnapshot> {
      const d = drivers(environment);
      const configurationMode = await guarded('read CONFIGURATIONMODE', () =>
        d.flagStore.readConfigurationMode(),
      );
      const instances = await guarded('list AOS instances', () =>
        d.aosControl.list(Context.current().cancellationSignal),
      );
      return {
        configurationMode,
        instances: instances.map(({ id, role, running, maintenanceMode }) => ({
          id,
          role,
          running,
          maintenanceMode,
        })),
      };
    },

    async setConfigurationMode({
      environment,
      value,
    }: EnvironmentRef & { value: 0 | 1 }): Promise<{ previous: 0 | 1 }> {
      const d = drivers(environment);
      const result = await guarded('set CONFIGURATIONMODE', () => d.flagStore.writeConfigurationMode(value));
      log.info('CONFIGURATIONMODE set', { environment, value, previous: result.previous });
      return result;
    },

    async restartAos({ environment, aosId }: AosRef) {
      const d = drivers(environment);
      return guarded(`restart ${aosId}`, () => heartbeating((signal) => d.aosControl.restart(aosId, signal)));
    },

    async stopAos({ environment, aosId }: AosRef) {
      const d = drivers(environment);
      return guarded(`stop ${aosId}`, () => heartbeating((signal) => d.aosControl.stop(aosId, signal)));
    },

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
      return guarded('verify', async () => {
        const signal = Context.current().cancellationSignal;
        const problems: string[] = [];
        const checks: string[] = [];
        const inMaintenance = expect === 'maintenance';

        const flag = await d.flagStore.readConfigurationMode();
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
        if (problems.length === 0)
          checks.push(`${running.length} AOS running: ${running.map((a) => a.id).join(', ')}`);

        const front = running.find((a) => a.role === 'interactive');
        if (front && problems.length === 0) {
          const users = await d.probe.probeUsers();
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

    /** Writes the operation's entry; a repeated call for the same run (after a crash) changes nothing. */
    async recordHistory(entry: HistoryEntry): Promise<{ inserted: boolean }> {
      return guarded('record history', async () => deps.history.record(entry));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
