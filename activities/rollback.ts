import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType } from '../contract/errors';
import type { EnvironmentSnapshot } from '../contract/operation';
import type { AosState } from '../drivers/capabilities';
import { describeRunning } from './aos';
import { SETTLE_TIMEOUT_MS } from './driver-calls';
import {
  changingAos,
  environmentDrivers,
  guarded,
  settled,
  transcribed,
  type DriverDeps,
  type EnvironmentRef,
} from './guards';

/**
 * How an AOS differs from what a rollback to the snapshot can produce, if it does. A restart makes an
 * AOS read the flag, so every AOS that ran before must run in the mode the snapshot's flag gives, even
 * where the snapshot had mixed modes (left by an abort) that no restart can bring back.
 */
function difference(
  before: EnvironmentSnapshot['instances'][number],
  now: AosState[],
  flag: 0 | 1,
): string | undefined {
  const after = now.find((a) => a.id === before.id);
  if (!after) return `${before.id} is missing`;
  if (after.running !== before.running)
    return `${before.id} ${before.running ? 'ran' : 'was stopped'} before`;
  if (before.running && after.maintenanceMode !== (flag === 1)) {
    return `${before.id} runs ${after.maintenanceMode ? 'in' : 'out of'} maintenance mode, CONFIGURATIONMODE ${flag} gives ${flag === 1 ? 'in' : 'out of'}`;
  }
  return undefined;
}

/** The snapshot an operation takes before it changes anything, and the rollback to it. */
export function createRollbackActivities(deps: DriverDeps) {
  return {
    /**
     * Both the database and the AOS control plane answer; returns the state to roll back to. AOS that
     * are starting or stopping are waited for; one still moving, or crashed, fails preflight by name.
     */
    async snapshotEnvironment({ environment }: EnvironmentRef): Promise<EnvironmentSnapshot> {
      const d = environmentDrivers(deps, environment);
      const configurationMode = await guarded(d, 'read CONFIGURATIONMODE', (signal) =>
        d.flagStore.readConfigurationMode(signal),
      );
      const instances = await guarded(d, 'list AOS instances', (signal) => settled(d.aosControl, signal));
      const unsettled = instances.filter((a) => a.status !== 'running' && a.status !== 'stopped');
      if (unsettled.length > 0) {
        throw ApplicationFailure.retryable(
          `Cannot take a snapshot to roll back to: ${unsettled.map((a) => `${a.id} is ${a.status}`).join(', ')}` +
            ` (waited ${SETTLE_TIMEOUT_MS / 1000} s). Start or stop ${unsettled.length > 1 ? 'them' : 'it'} through the control plane, then resume.`,
          ErrorType.AosUnavailable,
          { unsettled: unsettled.map(({ id, status }) => ({ id, status })) },
        );
      }
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

    /**
     * Rollback: brings back exactly the AOS that ran before, each in the mode the restored flag gives
     * (a restart reads it); says what it did to each.
     */
    async restoreTopology({ environment, snapshot }: EnvironmentRef & { snapshot: EnvironmentSnapshot }) {
      const d = environmentDrivers(deps, environment);
      const flag = snapshot.configurationMode;
      const ids = snapshot.instances.map((i) => i.id);
      return transcribed(() =>
        guarded(
          d,
          'restore AOS',
          changingAos(d.aosControl, ids, async (signal) => {
            const now = await d.aosControl.list(signal);
            const changes = snapshot.instances.filter((before) => difference(before, now, flag));
            await Promise.all(
              changes.map((before) =>
                before.running
                  ? d.aosControl.restart(before.id, now, signal)
                  : d.aosControl.stop(before.id, signal),
              ),
            );
            const mode = flag === 1 ? 'maintenance' : 'normal';
            return { changed: changes.map((c) => (c.running ? `↻ ${c.id} (${mode})` : `■ ${c.id}`)) };
          }),
          ErrorType.AosStartFailed,
        ),
      );
    },

    /**
     * Rollback: the flag and the running AOS equal the snapshot, each in the mode the flag gives; a mode
     * the snapshot had that no restart can give (mixed modes after an abort) is named, not demanded.
     */
    async verifySnapshot({ environment, snapshot }: EnvironmentRef & { snapshot: EnvironmentSnapshot }) {
      const d = environmentDrivers(deps, environment);
      return guarded(d, 'verify rollback', async (signal) => {
        const flag = await d.flagStore.readConfigurationMode(signal);
        const now = await d.aosControl.list(signal);
        const expected = snapshot.configurationMode;
        const problems = snapshot.instances.flatMap((before) => difference(before, now, expected) ?? []);
        if (flag !== expected) problems.unshift(`CONFIGURATIONMODE is ${flag}, was ${expected}`);
        if (problems.length > 0) {
          throw ApplicationFailure.retryable(
            `Not back where it was: ${problems.join('; ')}`,
            ErrorType.VerificationFailed,
            {
              problems,
            },
          );
        }
        const unrestorable = snapshot.instances
          .filter((i) => i.running && i.maintenanceMode !== (expected === 1))
          .map(
            (i) =>
              `${i.id} ran ${i.maintenanceMode ? 'in' : 'out of'} maintenance mode before, which CONFIGURATIONMODE ${expected} cannot give: it runs ${expected === 1 ? 'in' : 'out of'} it`,
          );
        return {
          checks: [
            `CONFIGURATIONMODE = ${flag}`,
            `running as before: ${describeRunning(now)}`,
            ...unrestorable,
          ],
        };
      });
    },
  };
}
