import { log } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import { environmentDrivers, guarded, transcribed, type DriverDeps, type EnvironmentRef } from './guards';

/** The CONFIGURATIONMODE flag, which the AOS read when they start. */
export function createFlagActivities(deps: DriverDeps) {
  return {
    async setConfigurationMode({
      environment,
      value,
    }: EnvironmentRef & { value: 0 | 1 }): Promise<{ previous: 0 | 1; transcript?: string[] }> {
      const d = environmentDrivers(deps, environment);
      // A flag store that answers "try later" is its database being unreachable.
      const result = await transcribed(() =>
        guarded(
          d,
          'set CONFIGURATIONMODE',
          (signal) => d.flagStore.writeConfigurationMode(value, signal),
          ErrorType.DatabaseUnreachable,
        ),
      );
      log.info('CONFIGURATIONMODE set', { environment, value, previous: result.previous });
      return result;
    },
  };
}
