import type { Duration } from '@temporalio/common';
import { z } from 'zod';

/** A duration in Temporal's `ms` format ("30s", "2m", "7d", "1 hour") or milliseconds. */
const DURATION_HINT = 'expected a duration such as "500ms", "30s", "2m", "1h" or "7d"';
const duration = z.union(
  [
    z.number().int().positive(),
    z
      .string()
      .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/i)
      .transform((v) => v as Duration),
  ],
  { errorMap: () => ({ message: DURATION_HINT }) },
);

const retryPolicy = z
  .object({
    initialInterval: duration.default('1s'),
    backoffCoefficient: z.number().min(1).default(2),
    maximumInterval: duration.default('30s'),
    maximumAttempts: z.number().int().positive().default(5),
  })
  .strict();

export const activityPolicySchema = z
  .object({
    startToCloseTimeout: duration.default('2m'),
    heartbeatTimeout: duration.default('20s'),
    retry: retryPolicy.default({}),
  })
  .strict();

const port = z.number().int().min(1).max(65535);

const fleetEnvironment = z
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
  })
  .strict();

export const environmentSchema = z.discriminatedUnion('driver', [fleetEnvironment]);

const environmentName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'environment names are lower-case letters, digits and dashes');

export const configSchema = z
  .object({
    temporal: z
      .object({
        address: z.string().min(1).default('localhost:7233'),
        namespace: z.string().min(1).default('default'),
        taskQueue: z.string().min(1).default('maintenance'),
        /**
         * Publish MaintenanceEnvironment/Action/State as search attributes. Off only for a server
         * where they cannot be registered (the time-skipping test server).
         */
        searchAttributes: z.boolean().default(true),
        tls: z
          .object({
            serverName: z.string().optional(),
            serverRootCaCert: z.string().optional(),
            clientCert: z.string().optional(),
            clientKey: z.string().optional(),
          })
          .strict()
          .refine((t) => !t.clientCert === !t.clientKey, {
            message: 'clientCert and clientKey go together: give both or neither',
          })
          .optional(),
      })
      .strict()
      .default({}),
    devServer: z
      .object({
        ip: z.string().default('127.0.0.1'),
        port: port.default(7233),
        uiPort: port.default(8233),
        database: z.string().min(1).default('data/temporal.db'),
      })
      .strict()
      .default({}),
    history: z
      .object({
        /** The environment history (SQLite; relative paths are relative to temporal.yaml). */
        database: z.string().min(1).default('data/history.db'),
      })
      .strict()
      .default({}),
    policies: z
      .object({
        activity: activityPolicySchema.default({}),
        /** How long a failed operation waits for resume, rollback or abort before it ends Failed. */
        decisionTimeout: duration.default('7d'),
        windows: z
          .object({
            /** The longest a maintenance window may stay open, extensions included. */
            maximumDuration: duration.default('12h'),
            /** How long a window waits for its environment while another operation holds it. */
            busyTimeout: duration.default('1h'),
            busyPollInterval: duration.default('1m'),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    environments: z.record(environmentName, environmentSchema).refine((e) => Object.keys(e).length > 0, {
      message: 'declare at least one environment',
    }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type ActivityPolicy = z.infer<typeof activityPolicySchema>;
