/**
 * The drivers an environment uses: its own (`driver` in temporal.yaml) for every capability, except
 * those its `capabilities` give to another. A driver is a folder: `settings.ts` (its zod schema, part
 * of config/schema.ts) and `index.ts` (a factory of the capabilities in capabilities.ts, with its own
 * error classification).
 */
import type { DriverSettings, EnvironmentConfig } from '../config/schema';
import type { Secrets } from '../config/secrets';
import { CAPABILITIES, type Capability, type EnvironmentDrivers } from './capabilities';
import { createCommandDrivers } from './command';
import { createFleetDrivers } from './fleet';

export interface DriverContext {
  environment: string;
  /** The worker's environment variables: where `${env:NAME}` secrets come from. */
  env: NodeJS.ProcessEnv;
  /** Every secret the worker holds (config/secrets.ts `workerSecrets`), masked in what drivers report. */
  secrets: Secrets;
}

function createDriver(settings: DriverSettings, context: DriverContext): EnvironmentDrivers {
  switch (settings.driver) {
    case 'fleet':
      return createFleetDrivers(context.environment, settings);
    case 'command':
      return createCommandDrivers(settings, context);
  }
}

/** "fleet", or "fleet; command: flagStore, aosControl" when capabilities go to other drivers. */
export function driverSummary(settings: EnvironmentConfig): string {
  const others = new Map<string, string[]>();
  for (const c of CAPABILITIES) {
    const other = settings.capabilities[c];
    if (other) others.set(other.driver, [...(others.get(other.driver) ?? []), c]);
  }
  return [settings.driver, ...[...others].map(([driver, cs]) => `${driver}: ${cs.join(', ')}`)].join('; ');
}

export function createDrivers(settings: EnvironmentConfig, context: DriverContext): EnvironmentDrivers {
  const own = createDriver(settings, context);
  const serving = Object.fromEntries(
    CAPABILITIES.map((c) => {
      const other = settings.capabilities[c];
      return [c, other ? createDriver(other, context) : own];
    }),
  ) as Record<Capability, EnvironmentDrivers>;
  const all = [...new Set([own, ...Object.values(serving)])];
  if (all.length === 1) return own;
  return {
    flagStore: serving.flagStore.flagStore,
    aosControl: serving.aosControl.aosControl,
    probe: serving.probe.probe,
    license: serving.license.license,
    impact: serving.impact.impact,
    // Each driver knows only its own errors.
    classify: (err) =>
      all.reduce<ReturnType<EnvironmentDrivers['classify']>>((k, d) => k ?? d.classify(err), undefined),
    describe: (call) => serving[call.capability].describe(call),
    close: () => all.forEach((d) => d.close()),
  };
}
