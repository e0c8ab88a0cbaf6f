import type { ImpactReport } from '../contract/impact';
import type { AosRole } from '../contract/operation';

/**
 * What the orchestrator needs from an environment, capability by capability. Each driver
 * (`drivers/<name>/`) implements them; the activities know only these interfaces.
 */
export interface FlagStore {
  readConfigurationMode(signal?: AbortSignal): Promise<0 | 1>;
  /** Idempotent: writing the value already there is fine. Returns what was there before. */
  writeConfigurationMode(value: 0 | 1, signal?: AbortSignal): Promise<{ previous: 0 | 1 }>;
}

/** `crashed`: stopped without anyone asking, so it is down although it should run. */
export type AosStatus = 'running' | 'stopped' | 'starting' | 'stopping' | 'crashed';

export interface AosState {
  id: string;
  role: AosRole;
  running: boolean;
  status: AosStatus;
  /** As the instance read it when it started; null while it is not running. */
  maintenanceMode: boolean | null;
}

export interface AosControl {
  list(signal?: AbortSignal): Promise<AosState[]>;
  /**
   * Stops the instance if it runs, starts it again, resolves once it is healthy. `listed`: what list()
   * returned a moment ago in the same activity (a restart reads the AOS first anyway), for a driver that
   * checks the ID before it changes anything: the command driver then runs one command fewer.
   */
  restart(id: string, listed: AosState[], signal?: AbortSignal): Promise<AosState>;
  /** Stops the instance; a driver that checks the ID first lists the AOS itself. */
  stop(id: string, signal?: AbortSignal): Promise<AosState>;
}

export interface ProbeUsers {
  administrator?: string;
  maintenanceUser?: string;
  regularUser?: string;
}

export interface SignInProbe {
  /** One enabled user of each kind, to try signing in with. */
  probeUsers(signal?: AbortSignal): Promise<ProbeUsers>;
  signIn(aosId: string, user: string, signal?: AbortSignal): Promise<{ allowed: boolean; detail: string }>;
}

/** The License configuration page: configuration keys, editable only in maintenance mode. */
export interface LicenseConfiguration {
  /** Every configuration key and whether it is enabled. */
  list(signal?: AbortSignal): Promise<Record<string, boolean>>;
  set(name: string, enabled: boolean, signal?: AbortSignal): Promise<void>;
}

/** Optional: who is working on the environment now (signed-in users, batch jobs, integrations). */
export interface ImpactSource {
  /** Read-only; batch jobs due up to `until` (ISO 8601) and those running. */
  read(until: string, signal?: AbortSignal): Promise<ImpactReport>;
}

/**
 * What a driver says of one of its errors, in the orchestrator's terms: `unreachable` parts and an
 * `unavailable` AOS are worth retrying; an `unknownAos` or a `rejected` request is not.
 */
export type DriverErrorKind =
  'databaseUnreachable' | 'controlPlaneUnreachable' | 'unavailable' | 'unknownAos' | 'rejected';

/** The capabilities an environment has, each served by its own driver or another (`capabilities:`). */
export const CAPABILITIES = ['flagStore', 'aosControl', 'probe', 'license', 'impact'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** One call of a capability, as `capability.method` (`aosControl.restart`). */
export type DriverCall = {
  [C in Capability]: `${C}.${Extract<keyof NonNullable<EnvironmentDrivers[C]>, string>}`;
}[Capability];

/** A change a plan (`maint plan`, `"dryRun": true`) lists; its driver says how it would make it. */
export type PlannedCall =
  | { capability: 'flagStore'; call: 'writeFlag'; value: 0 | 1 }
  | { capability: 'aosControl'; call: 'restartAos' | 'stopAos'; aosId: string }
  | { capability: 'license'; call: 'setKey'; key: string; enabled: boolean };

export interface EnvironmentDrivers {
  flagStore: FlagStore;
  aosControl: AosControl;
  probe: SignInProbe;
  license: LicenseConfiguration;
  /** Absent when the driver cannot tell who is affected: plans then say the impact is not available. */
  impact?: ImpactSource;
  /** Exactly what the driver would run or send for a planned change, secrets masked; changes nothing. */
  describe(call: PlannedCall): string;
  /** The kind of an error its calls threw; undefined when it is not the driver's own. */
  classify(err: unknown): DriverErrorKind | undefined;
  close(): void;
}
