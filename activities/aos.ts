import { log } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import type { AosState } from '../drivers/capabilities';
import {
  changingAos,
  environmentDrivers,
  guarded,
  transcribed,
  type DriverDeps,
  type EnvironmentRef,
} from './guards';

export interface AosRef extends EnvironmentRef {
  aosId: string;
}

/** The AOS that run, and which of them in maintenance mode, for the checks of the operation log. */
export const describeRunning = (all: AosState[]) =>
  all
    .filter((a) => a.running)
    .map((a) => `${a.id}${a.maintenanceMode ? ' (maintenance)' : ''}`)
    .join(', ') || 'none';

/** Restarts and stops of single AOS through the control plane. */
export function createAosActivities(deps: DriverDeps) {
  return {
    /**
     * Restarts the AOS so it reads the flag, unless it already runs in the mode the flag gives: a retried
     * or resumed step then leaves it, and the users signed in on it, alone.
     */
    async restartAos({
      environment,
      aosId,
    }: AosRef): Promise<AosState & { note?: string; transcript?: string[] }> {
      const d = environmentDrivers(deps, environment);
      return transcribed(() =>
        guarded(
          d,
          `restart ${aosId}`,
          changingAos(d.aosControl, [aosId], async (signal): Promise<AosState & { note?: string }> => {
            const target = (await d.flagStore.readConfigurationMode(signal)) === 1;
            const listed = await d.aosControl.list(signal);
            const current = listed.find((a) => a.id === aosId);
            if (current?.running && current.maintenanceMode === target) {
              log.info('AOS already in the target mode; not restarted', { environment, aosId });
              return { ...current, note: 'already in the target mode' };
            }
            return d.aosControl.restart(aosId, listed, signal);
          }),
          ErrorType.AosStartFailed,
        ),
      );
    },

    async stopAos({ environment, aosId }: AosRef) {
      const d = environmentDrivers(deps, environment);
      return transcribed(() =>
        guarded(
          d,
          `stop ${aosId}`,
          changingAos(d.aosControl, [aosId], (signal) => d.aosControl.stop(aosId, signal)),
        ),
      );
    },
  };
}
