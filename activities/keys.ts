import { ApplicationFailure, log } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import type { KeyChange } from '../contract/operation';
import { environmentDrivers, guarded, transcribed, type DriverDeps, type EnvironmentRef } from './guards';

/** Configuration keys, read and set through the License configuration. */
export function createKeyActivities(deps: DriverDeps) {
  return {
    /** The current values of configuration keys; unknown keys are named and never retried. */
    async readConfigurationKeys({
      environment,
      names,
    }: EnvironmentRef & { names: string[] }): Promise<Record<string, boolean>> {
      const d = environmentDrivers(deps, environment);
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
      const d = environmentDrivers(deps, environment);
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
