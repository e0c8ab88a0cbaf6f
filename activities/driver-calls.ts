import type { DriverCall } from '../drivers/capabilities';
import type { Activities } from '.';

/** How long a snapshot, or a cancelled restart or stop, waits for AOS starting or stopping to settle. */
export const SETTLE_TIMEOUT_MS = 30_000;
export const SETTLE_POLL_MS = 250;

/** A step of an activity: a driver call, calls made at once (the slowest counts), or a wait of its own. */
export type CallStep = DriverCall | { atOnce: DriverCall[] } | { waitMs: number };

/**
 * The driver calls each activity makes at most, in order (flag.ts, aos.ts, rollback.ts, probes.ts,
 * keys.ts, plan.ts), from which config/activity-timeouts.ts tells whether the commands of an
 * environment fit the activity's timeout. test/activities/driver-calls.test.ts runs each activity
 * through the command driver to hold this to the code.
 */
export const ACTIVITY_CALLS = {
  // The AOS list is read again until none is starting or stopping: up to the settle wait and one more list.
  snapshotEnvironment: [
    'flagStore.readConfigurationMode',
    'aosControl.list',
    { waitMs: SETTLE_TIMEOUT_MS + SETTLE_POLL_MS },
  ],
  setConfigurationMode: ['flagStore.writeConfigurationMode'],
  restartAos: ['flagStore.readConfigurationMode', 'aosControl.list', 'aosControl.restart'],
  stopAos: ['aosControl.stop'],
  restoreTopology: ['aosControl.list', { atOnce: ['aosControl.restart', 'aosControl.stop'] }],
  verifySnapshot: ['flagStore.readConfigurationMode', 'aosControl.list'],
  // In maintenance: an administrator, a maintenance mode user and a regular user try to sign in.
  verifyEnvironment: [
    'flagStore.readConfigurationMode',
    'aosControl.list',
    'probe.probeUsers',
    'probe.signIn',
    'probe.signIn',
    'probe.signIn',
  ],
  planOperation: [
    {
      atOnce: [
        'flagStore.readConfigurationMode',
        'aosControl.list',
        'probe.probeUsers',
        'license.list',
        'impact.read',
      ],
    },
  ],
  previewImpact: ['impact.read'],
  readConfigurationKeys: ['license.list'],
  // One key per call, the set ones skipped: a retried attempt goes on from the first key not set yet.
  setConfigurationKeys: ['license.list', 'license.set'],
} satisfies Partial<Record<keyof Activities, CallStep[]>>;
export type DriverActivity = keyof typeof ACTIVITY_CALLS;

/** The one activity whose timeout workflow code fixes (workflows/plan.ts), not policies.activity. */
export const FIXED_TIMEOUTS_MS: Partial<Record<DriverActivity, number>> = { planOperation: 120_000 };
