/**
 * The drivers an environment can use, by the `driver` value of its settings in temporal.yaml. A
 * driver is a folder: `settings.ts` (its zod schema, part of config/schema.ts) and `index.ts` (a
 * factory of the capabilities in capabilities.ts, with its own error classification).
 */
import type { EnvironmentConfig } from '../config/schema';
import type { EnvironmentDrivers } from './capabilities';
import { createFleetDrivers } from './fleet';

export function createDrivers(name: string, settings: EnvironmentConfig): EnvironmentDrivers {
  switch (settings.driver) {
    case 'fleet':
      return createFleetDrivers(name, settings);
  }
}
