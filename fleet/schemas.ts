/**
 * Every shape that crosses a process boundary in the fleet: command lines, the IPC messages between
 * the supervisor and an AOS, and the bodies of both HTTP APIs. Server and client parse with the same schemas.
 */
import { z } from 'zod';

const instanceId = z.string().regex(/^aos-\d+$/, 'AOS instance ids look like "aos-1"');
const count = z.coerce.number().int().min(0);

export const instanceRoleSchema = z.enum(['interactive', 'batch']);
/** Where an AOS runs: its own Node.js process (as a real one would), or inside the supervisor (hundreds fit). */
export const aosModeSchema = z.enum(['process', 'inprocess'], {
  errorMap: () => ({
    message: 'aosMode is "process" (one process per AOS) or "inprocess" (inside the supervisor)',
  }),
});
export const desiredStateSchema = z.enum(['running', 'stopped']);

export const topologySchema = z
  .object({
    interactive: z.coerce.number().int().min(1).max(20),
    batch: z.coerce.number().int().min(1).max(20),
  })
  .strict();

/** The supervisor's record of an instance, kept in FLEETINSTANCES. */
export const instanceRecordSchema = z.object({
  id: instanceId,
  role: instanceRoleSchema,
  desired: desiredStateSchema,
});

// --- Command lines ---

export const aosOptionsSchema = z
  .object({
    id: instanceId,
    role: instanceRoleSchema,
    database: z.string().min(1),
    startupMs: count,
    failStart: z.string().min(1).optional(),
  })
  .strict();

/** One environment a supervisor serves. */
export const environmentSpecSchema = z
  .object({
    environment: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'environment names are letters, digits, ".", "_" and "-"'),
    databaseFile: z.string().min(1),
    topology: topologySchema,
    aosStartupMs: z.number().int().min(0),
    aosMode: aosModeSchema.default('process'),
  })
  .strict();

/**
 * Everything a supervisor serves, given as `--spec FILE` (or `--spec -` on stdin). Its first environment
 * is also served at the root routes (/health, /aos, /faults), as a single-environment supervisor is.
 */
export const supervisorSpecSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(0),
    /** Serve the /faults switches of every environment (tests and demos); without it they answer 403. */
    faults: z.boolean().default(false),
    environments: z.array(environmentSpecSchema).min(1),
  })
  .strict()
  .superRefine(({ environments }, ctx) => {
    const seen = { environment: new Set<string>(), databaseFile: new Set<string>() };
    environments.forEach((env, i) => {
      for (const key of ['environment', 'databaseFile'] as const) {
        if (seen[key].has(env[key]))
          ctx.addIssue({
            code: 'custom',
            path: ['environments', i, key],
            message: `${key} "${env[key]}" appears twice; every environment of a supervisor needs its own`,
          });
        seen[key].add(env[key]);
      }
    });
  });

/** The supervisor's command line with a spec: a JSON file of supervisorSpecSchema, or "-" for stdin. */
export const supervisorSpecArgsSchema = z.object({ spec: z.string().min(1) }).strict();

/** The supervisor's command line for one environment, as a person starts one. */
export const supervisorOptionsSchema = z
  .object({
    environment: environmentSpecSchema.shape.environment,
    database: z.string().min(1),
    port: count.max(65535),
    interactive: topologySchema.shape.interactive,
    batch: topologySchema.shape.batch,
    aosStartupMs: count,
    aosMode: aosModeSchema.default('process'),
    /** Fault injection is for tests and demos: off unless the supervisor is started with it. */
    faults: z
      .enum(['enabled', 'disabled'], {
        errorMap: () => ({ message: 'give "--faults enabled" or "--faults disabled"' }),
      })
      .default('disabled')
      .transform((v) => v === 'enabled'),
  })
  .strict();

export const startFleetOptionsSchema = z
  .object({
    environment: z.string().min(1),
    databaseFile: z.string().min(1),
    port: z.number().int().min(0).max(65535).default(0),
    topology: topologySchema,
    aosStartupMs: z.number().int().min(0),
    aosMode: aosModeSchema.default('process'),
    logFile: z.string().min(1).optional(),
    /** Serve the /faults switches (tests and demos); without it they answer 403. */
    faults: z.boolean().default(false),
  })
  .strict();

/** The one line the supervisor prints on stdout once it serves. */
export const supervisorReadyLineSchema = z.object({
  event: z.literal('ready'),
  url: z.string().url(),
  environments: z.array(z.string()).min(1),
});

const requestId = z.number().int().min(1);

/**
 * What an AOS tells its supervisor over IPC: ready, or why it could not start; and, once running, a
 * question per sign-in: must this one fail (the supervisor owns the fault switches)?
 */
export const aosMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    port: z.number().int(),
    maintenanceMode: z.boolean(),
    startedAt: z.string(),
  }),
  z.object({ type: z.literal('failed'), reason: z.string() }),
  z.object({ type: z.literal('takeSignInFailure'), requestId }),
]);

/** What the supervisor tells an AOS over IPC: the answer to `takeSignInFailure`, null when the sign-in may go on. */
export const supervisorMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('signInFailure'), requestId, reason: z.string().nullable() }),
]);

// --- Both HTTP APIs ---

export const errorBodySchema = z.object({ error: z.string() });

// --- AOS HTTP API ---

export const aosHealthSchema = z.object({
  id: instanceId,
  role: instanceRoleSchema,
  maintenanceMode: z.boolean(),
  startedAt: z.string(),
  pid: z.number().int(),
});

export const signInRequestSchema = z.object({ user: z.string().min(1) }).strict();
export const signInResponseSchema = z.object({
  user: z.string(),
  roles: z.array(z.string()),
  aos: instanceId,
});

export const configurationKeySchema = z.object({ name: z.string(), label: z.string(), enabled: z.boolean() });
export const configurationKeyListSchema = z.object({
  editable: z.boolean(),
  keys: z.array(configurationKeySchema),
});
export const configurationKeyUpdateSchema = z.object({ enabled: z.boolean() }).strict();

// --- Supervisor HTTP API ---

export const supervisorHealthSchema = z.object({
  environment: z.string(),
  pid: z.number().int(),
  databaseReachable: z.boolean(),
  faultsEnabled: z.boolean(),
});

export const aosInstanceSchema = instanceRecordSchema.extend({
  status: z.enum(['running', 'stopped', 'starting', 'stopping']),
  port: z.number().int().nullable(),
  pid: z.number().int().nullable(),
  /** As the process read it when it started; null while no process runs. */
  maintenanceMode: z.boolean().nullable(),
  startedAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export const environmentListSchema = z.object({ environments: z.array(z.string()) });
export const aosInstanceListSchema = z.object({ instances: z.array(aosInstanceSchema) });
export const aosInstanceResponseSchema = z.object({ instance: aosInstanceSchema });

const perInstance = z.record(z.string(), z.number().int().min(0));
export const faultsSchema = z
  .object({
    /** The next N starts of an instance fail. */
    startFailures: perInstance,
    /** Extra warm-up time for an instance's starts. */
    startDelayMs: perInstance,
    /** The next N sign-ins on an instance answer 503 (warming up); the count survives restarts. */
    signInFailures: perInstance,
    /** The supervisor holds an exclusive lock on the database, so nobody else can read or write it. */
    databaseUnreachable: z.boolean(),
    /**
     * The supervisor holds a write lock on the database: everybody can read, nobody else can write.
     * With databaseUnreachable also on, the exclusive lock wins; the write lock comes back when it goes off.
     */
    databaseWritesBlocked: z.boolean(),
  })
  .strict();
export const faultsPatchSchema = faultsSchema.partial().strict();

/** A user signing in to the environment (a row of SYSCLIENTSESSIONS), e.g. from a test or a demo. */
export const sessionRequestSchema = z
  .object({ user: z.string().min(1), aos: z.string().min(1).optional() })
  .strict();
export const sessionSchema = z.object({
  id: z.number().int(),
  user: z.string(),
  aos: z.string().nullable(),
  loginAt: z.string(),
});
export const sessionListSchema = z.object({ sessions: z.array(sessionSchema) });
export const sessionEndedSchema = z.object({ ended: z.number().int() });

/** A batch job (a row of BATCHJOB): executing now, or waiting until `startsAt`. */
export const batchJobRequestSchema = z
  .object({
    caption: z.string().trim().min(1).max(200),
    status: z.enum(['executing', 'waiting']),
    startsAt: z
      .string()
      .datetime({ offset: true, message: 'startsAt is an ISO 8601 time, e.g. 2026-12-31T22:00:00Z' }),
  })
  .strict();
export const batchJobSchema = batchJobRequestSchema.extend({ id: z.number().int() });
export const batchJobListSchema = z.object({ batchJobs: z.array(batchJobSchema) });

export type InstanceRole = z.infer<typeof instanceRoleSchema>;
export type DesiredState = z.infer<typeof desiredStateSchema>;
export type Topology = z.infer<typeof topologySchema>;
export type InstanceRecord = z.infer<typeof instanceRecordSchema>;
export type AosMode = z.infer<typeof aosModeSchema>;
export type AosOptions = z.infer<typeof aosOptionsSchema>;
export type EnvironmentSpec = z.infer<typeof environmentSpecSchema>;
export type SupervisorSpec = z.infer<typeof supervisorSpecSchema>;
export type SupervisorSpecInput = z.input<typeof supervisorSpecSchema>;
export type StartFleetOptions = z.input<typeof startFleetOptionsSchema>;
export type AosMessage = z.infer<typeof aosMessageSchema>;
export type SupervisorMessage = z.infer<typeof supervisorMessageSchema>;
export type AosHealth = z.infer<typeof aosHealthSchema>;
export type SignInResponse = z.infer<typeof signInResponseSchema>;
export type ConfigurationKey = z.infer<typeof configurationKeySchema>;
export type ConfigurationKeyList = z.infer<typeof configurationKeyListSchema>;
export type SupervisorHealth = z.infer<typeof supervisorHealthSchema>;
export type AosInstance = z.infer<typeof aosInstanceSchema>;
export type EnvironmentList = z.infer<typeof environmentListSchema>;
export type Faults = z.infer<typeof faultsSchema>;
export type FaultsPatch = z.infer<typeof faultsPatchSchema>;
export type Session = z.infer<typeof sessionSchema>;
export type BatchJob = z.infer<typeof batchJobSchema>;
export type BatchJobRequest = z.infer<typeof batchJobRequestSchema>;

/** One line that says what is wrong, for error bodies and messages: "enabled: Expected boolean, received string". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
