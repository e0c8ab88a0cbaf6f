import { ApplicationFailure, CancelledFailure, Context, log } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time';
import { ErrorType } from '../contract/errors';
import type { EnvironmentSnapshot, KeyChange } from '../contract/operation';
import type { Config } from '../config/schema';
import type { AosState, EnvironmentDrivers } from './drivers';
import { classify } from './errors';
import { createLockActivities, type LockDeps } from './lock';

export interface ActivityDeps extends Omit<LockDeps, 'requireEnvironment'> {
  environments: Config['environments'];
  policies: Config['policies'];
  history: Config['history'];
  searchAttributes: boolean;
  /** The drivers of one environment; the worker builds them once per environment. */
  drivers(environment: string): EnvironmentDrivers;
}

export interface EnvironmentRef {
  environment: string;
}
export interface AosRef extends EnvironmentRef {
  aosId: string;
}
export type Expectation = 'maintenance' | 'normal';

/** What the workflow needs from the configuration, durations in milliseconds. */
export interface OperationSettings {
  searchAttributes: boolean;
  decisionTimeoutMs: number;
  windows: { maximumDurationMs: number; busyTimeoutMs: number; busyPollIntervalMs: number };
  activity: { startToCloseTimeoutMs: number; heartbeatTimeoutMs: number };
  /** For the environment entity workflow. */
  environment: { historyKeep: number; lockCheckIntervalMs: number; continueAsNewAfterEvents: number };
  retry: {
    initialIntervalMs: number;
    backoffCoefficient: number;
    maximumIntervalMs: number;
    maximumAttempts: number;
  };
}

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

async function guarded<T>(what: string, work: () => Promise<T>, unavailable?: ErrorType): Promise<T> {
  try {
    return await work();
  } catch (err) {
    // A cancelled activity must say so, or Temporal would take the cancellation for a failure.
    if (err instanceof CancelledFailure) throw err;
    throw classify(err, what, unavailable);
  }
}

const describeRunning = (all: AosState[]) =>
  all
    .filter((a) => a.running)
    .map((a) => `${a.id}${a.maintenanceMode ? ' (maintenance)' : ''}`)
    .join(', ') || 'none';

export function createActivities(deps: ActivityDeps) {
  const requireEnvironment = (environment: string): void => {
    if (!deps.environments[environment]) {
      const known = Object.keys(deps.environments).join(', ');
      throw ApplicationFailure.nonRetryable(
        `Unknown environment "${environment}". Known environments: ${known}. Declare it in temporal.yaml.`,
        ErrorType.UnknownEnvironment,
      );
    }
  };
  const drivers = (environment: string): EnvironmentDrivers => {
    requireEnvironment(environment);
    return deps.drivers(environment);
  };

  /** How an AOS differs from the snapshot taken before the operation, if it does. */
  const difference = (
    before: EnvironmentSnapshot['instances'][number],
    now: AosState[],
  ): string | undefined => {
    const after = now.find((a) => a.id === before.id);
    if (!after) return `${before.id} is missing`;
    if (after.running !== before.running)
      return `${before.id} ${before.running ? 'ran' : 'was stopped'} before`;
    if (before.running && after.maintenanceMode !== before.maintenanceMode) {
      return `${before.id} ran ${before.maintenanceMode ? 'in' : 'out of'} maintenance mode before`;
    }
    return undefined;
  };

  return {
    ...createLockActivities({ ...deps, requireEnvironment }),

    /** Local activity: checks the environment is declared and hands the workflow its settings. */
    async resolveEnvironment({ environment }: EnvironmentRef): Promise<OperationSettings> {
      requireEnvironment(environment);
      const { activity, decisionTimeout, windows, lockCheckInterval } = deps.policies;
      return {
        searchAttributes: deps.searchAttributes,
        decisionTimeoutMs: msToNumber(decisionTimeout),
        windows: {
          maximumDurationMs: msToNumber(windows.maximumDuration),
          busyTimeoutMs: msToNumber(windows.busyTimeout),
          busyPollIntervalMs: msToNumber(windows.busyPollInterval),
        },
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
      };
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
      return guarded(
        `restart ${aosId}`,
        () => heartbeating((signal) => d.aosControl.restart(aosId, signal)),
        ErrorType.AosStartFailed,
      );
    },

    async stopAos({ environment, aosId }: AosRef) {
      const d = drivers(environment);
      return guarded(`stop ${aosId}`, () => heartbeating((signal) => d.aosControl.stop(aosId, signal)));
    },

    /** Rollback: brings back exactly the AOS that ran before, each restarted so it reads the restored flag. */
    async restoreTopology({ environment, snapshot }: EnvironmentRef & { snapshot: EnvironmentSnapshot }) {
      const d = drivers(environment);
      return guarded(
        'restore AOS',
        () =>
          heartbeating(async (signal) => {
            const now = await d.aosControl.list(signal);
            const changes = snapshot.instances.filter((before) => difference(before, now));
            await Promise.all(
              changes.map((before) =>
                before.running
                  ? d.aosControl.restart(before.id, signal)
                  : d.aosControl.stop(before.id, signal),
              ),
            );
            return { changed: changes.map((c) => `${c.running ? '↻' : '■'} ${c.id}`) };
          }),
        ErrorType.AosStartFailed,
      );
    },

    /** Rollback: the flag, the running AOS and their modes equal the snapshot taken before the operation. */
    async verifySnapshot({ environment, snapshot }: EnvironmentRef & { snapshot: EnvironmentSnapshot }) {
      const d = drivers(environment);
      return guarded('verify rollback', async () => {
        const flag = await d.flagStore.readConfigurationMode();
        const now = await d.aosControl.list(Context.current().cancellationSignal);
        const problems = snapshot.instances.flatMap((before) => difference(before, now) ?? []);
        if (flag !== snapshot.configurationMode)
          problems.unshift(`CONFIGURATIONMODE is ${flag}, was ${snapshot.configurationMode}`);
        if (problems.length > 0) {
          throw ApplicationFailure.retryable(
            `Not back where it was: ${problems.join('; ')}`,
            ErrorType.VerificationFailed,
            {
              problems,
            },
          );
        }
        return { checks: [`CONFIGURATIONMODE = ${flag}`, `running as before: ${describeRunning(now)}`] };
      });
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
        if (problems.length === 0) checks.push(`running: ${describeRunning(all)}`);

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

    /** The current values of configuration keys; unknown keys are named and never retried. */
    async readConfigurationKeys({
      environment,
      names,
    }: EnvironmentRef & { names: string[] }): Promise<Record<string, boolean>> {
      const d = drivers(environment);
      const all = await guarded('read the License configuration', () =>
        d.license.list(Context.current().cancellationSignal),
      );
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
      return guarded('change the License configuration', async () => {
        const signal = Context.current().cancellationSignal;
        const before = await d.license.list(signal);
        const changes: KeyChange[] = [];
        for (const [name, to] of Object.entries(values)) {
          if (before[name] === to) continue;
          await d.license.set(name, to, signal);
          changes.push({ name, from: before[name], to });
        }
        log.info('Configuration keys set', { environment, changes });
        return { changes };
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
