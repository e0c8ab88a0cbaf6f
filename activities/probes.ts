import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import { describeRunning } from './aos';
import { environmentDrivers, guarded, type DriverDeps, type EnvironmentRef } from './guards';

export type Expectation = 'maintenance' | 'normal';

/** The checks of an environment as its users see it: the flag, the AOS that run, and sign-ins. */
export function createProbeActivities(deps: DriverDeps) {
  return {
    /**
     * Checks the environment as its users see it. Maintenance: exactly one interactive and one batch
     * AOS, both in maintenance mode; administrators and maintenance mode users get in, others do not.
     * Normal: every AOS up and out of maintenance; a regular user gets in.
     */
    async verifyEnvironment({
      environment,
      expect,
    }: EnvironmentRef & { expect: Expectation }): Promise<{ checks: string[] }> {
      const d = environmentDrivers(deps, environment);
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
  };
}
