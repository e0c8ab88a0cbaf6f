import { z } from 'zod';

const port = z.number().int().min(1).max(65535);

/** An environment served by the local reference environment (`fleet/`): its settings in temporal.yaml. */
export const fleetSettingsSchema = z
  .object({
    driver: z.literal('fleet'),
    /** The fleet supervisor's port on 127.0.0.1. */
    supervisorPort: port,
    /** The environment's SQLite database (relative paths are relative to temporal.yaml). */
    database: z.string().min(1),
    topology: z
      .object({
        interactive: z.number().int().min(1).max(20),
        batch: z.number().int().min(1).max(20),
      })
      .strict(),
    /** How long an AOS takes to warm up after it starts (the stand-in's simulated start time). */
    aosStartupMs: z.number().int().min(0).max(60000).default(300),
    /** Lets the supervisor's API inject faults (for demos); off, it answers 403 to /faults. */
    faults: z.boolean().default(false),
  })
  .strict();
export type FleetSettings = z.infer<typeof fleetSettingsSchema>;

/** The fleet settings of an environment that tools for the reference environment (tests, benchmarks) need. */
export function fleetSettingsOf<T extends { driver: string }>(env: T): Extract<T, { driver: 'fleet' }> {
  if (env.driver !== 'fleet')
    throw new Error(`expected an environment with driver: fleet, not ${env.driver}`);
  return env as Extract<T, { driver: 'fleet' }>;
}
