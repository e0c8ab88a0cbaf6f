import { z } from 'zod';
import { aosModeSchema } from '../../fleet/schemas';

const port = z.number().int().min(1).max(65535);

/** An environment served by the local reference environment (`fleet/`): its settings in temporal.yaml. */
export const fleetSettingsSchema = z
  .object({
    driver: z.literal('fleet'),
    /**
     * The fleet supervisor's port on 127.0.0.1. Environments with the same port are served by one
     * supervisor (each under /environments/<name>), so they must agree on `faults`.
     */
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
    /**
     * Where each AOS runs: "process" (its own Node.js process, as a real AOS) or "inprocess" (inside
     * the supervisor, so that hundreds of environments fit on one machine). Same rules either way.
     */
    aosMode: aosModeSchema.default('process'),
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

export interface SettingsIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Environments that share a supervisorPort share one supervisor: what is per supervisor (whether it
 * serves fault switches) must agree, and each needs its own database. The issues, for config/schema.ts.
 */
export function sharedSupervisorIssues(environments: Record<string, { driver: string }>): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  const byPort = new Map<number, { first: string; faults: boolean; databases: Map<string, string> }>();
  for (const [name, env] of Object.entries(environments)) {
    if (env.driver !== 'fleet') continue;
    const { supervisorPort, faults, database } = env as FleetSettings;
    const supervisor = byPort.get(supervisorPort);
    if (!supervisor) {
      byPort.set(supervisorPort, { first: name, faults, databases: new Map([[database, name]]) });
      continue;
    }
    const shared = (other: string): string =>
      `${other} and ${name} share supervisorPort ${supervisorPort}, so one supervisor serves both`;
    if (faults !== supervisor.faults)
      issues.push({
        path: [name, 'faults'],
        message: `${shared(supervisor.first)}, and a supervisor serves fault switches for all its environments or none: give both the same "faults"`,
      });
    const sameDatabase = supervisor.databases.get(database);
    if (sameDatabase)
      issues.push({
        path: [name, 'database'],
        message: `${shared(sameDatabase)}, and each environment needs its own database: give ${name} another "database"`,
      });
    supervisor.databases.set(database, name);
  }
  return issues;
}
