import { CAPABILITIES, type Capability } from '../drivers/capabilities';
import {
  REQUIRED_CAPABILITIES,
  commandHelp,
  commandSettingsSchema,
  missingCommands,
} from '../drivers/command/settings';
import { fleetSettingsSchema, sharedSupervisorIssues } from '../drivers/fleet/settings';
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { WORKFLOW_TYPES, environmentNameSchema } from '../contract/operation';
import { samePerson } from '../contract/signing';
import { parsePublicKeyLine } from '../contract/sshsig';
import { ROLLOUT_WORKFLOW_TYPE, rolloutInputSchema, tagSchema, type RolloutInput } from '../contract/rollout';
import { windowInputSchema, type WindowInput } from '../contract/window';
import { activityTimeoutIssues } from './activity-timeouts';
import { cronProblem } from './cron';
import { duration } from './duration';
import { eventsSchema } from './events';
import { freezeSchema } from './freezes';
import { isTimeZone } from './zoned-time';
import { hooksSchema } from './hooks';
import { workerSchema } from './worker';

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

const bindAddress = z.string().ip({
  message: 'expected an IP address to listen on: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
});

/**
 * The worker's Prometheus endpoint: on this machine only unless `address` says otherwise. `host` is
 * the name releases before `address` used (their default was 0.0.0.0): it still works.
 */
const metricsSchema = z
  .object({
    port: port.optional(),
    address: bindAddress.optional(),
    host: bindAddress.optional(),
    /** How often the environment gauges are read from the entities: the scrape interval suits. */
    gaugeInterval: duration.default('15s'),
  })
  .strict()
  .refine((m) => !(m.address && m.host), {
    message: 'give metrics.address only (metrics.host is its old name)',
    path: ['host'],
  })
  .refine((m) => msToNumber(m.gaugeInterval) >= 1000, {
    message: 'metrics.gaugeInterval is at least 1s: each reading queries every environment entity',
    path: ['gaugeInterval'],
  })
  .transform(({ port, address, host, gaugeInterval }) => ({
    port,
    address: address ?? host ?? '127.0.0.1',
    gaugeInterval,
  }))
  .default({});

/** The settings of one driver (`drivers/<name>/settings.ts`), told apart by `driver`. */
const driverSettingsSchema = z.discriminatedUnion('driver', [fleetSettingsSchema, commandSettingsSchema]);
export type DriverSettings = z.infer<typeof driverSettingsSchema>;

/** A person as `people` names them, and as `by` and `requestedBy` say it (compared with samePerson). */
const personName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]+$/u, 'names have no control characters');

/** A public key as the line of a `~/.ssh/*.pub` file: `ssh-ed25519 AAAA… bob@laptop`. */
const publicKeyLine = z.string().superRefine((line, ctx) => {
  try {
    parsePublicKeyLine(line);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `not a usable SSH public key (${(err as Error).message}): paste the line of your ~/.ssh/id_ed25519.pub`,
    });
  }
});

/** What every environment has, whatever its driver. */
const environmentCommon = {
  /**
   * Production: every operation is started by a signed request and waits for an approval signed by
   * one of `approvers` other than its requester; every decision on it is signed too.
   */
  protected: z.boolean().default(false),
  /** Who may approve operations on this protected environment: names from `people`. */
  approvers: z.array(personName).min(1, 'name at least one approver').optional(),
  /**
   * Another driver for some capabilities than the environment's own, e.g. the flag and AOS control
   * through commands while the fleet runs the environment. Keys: flagStore, aosControl, probe, license.
   */
  capabilities: z
    .object(
      Object.fromEntries(CAPABILITIES.map((c) => [c, driverSettingsSchema.optional()])) as Record<
        Capability,
        z.ZodOptional<typeof driverSettingsSchema>
      >,
    )
    .strict()
    .default({}),
  /** Commands run before and after enable and disable (config/hooks.ts); a failed `before` hook vetoes. */
  hooks: hooksSchema.optional(),
  /** Labels that a rollout can name (`tag: sandbox`) to service every environment that has them. */
  tags: z.array(tagSchema).optional(),
  /** This environment's own `policies.maximumInMaintenance` and `policies.autoDisable`. */
  maximumInMaintenance: duration.optional(),
  autoDisable: z.boolean().optional(),
};

/** One schema per driver, told apart by `driver`; the command driver must have the commands it serves. */
export const environmentSchema = z
  .discriminatedUnion('driver', [
    fleetSettingsSchema.extend(environmentCommon),
    commandSettingsSchema.extend(environmentCommon),
  ])
  .superRefine((env, ctx) => {
    for (const capability of CAPABILITIES) {
      const served = env.capabilities[capability] ?? env;
      if (served.driver !== 'command') continue;
      const missing = missingCommands(served, capability, REQUIRED_CAPABILITIES.includes(capability));
      if (missing.length === 0) continue;
      ctx.addIssue({
        code: 'custom',
        path: [...(env.capabilities[capability] ? ['capabilities', capability] : []), 'commands'],
        message: `${capability} through commands needs ${missing.join(' and ')}: ${missing
          .map((m) => `${m} ${commandHelp(m)}`)
          .join('; ')}`,
      });
    }
  });
export type EnvironmentConfig = z.infer<typeof environmentSchema>;

/** The installation that owns the schedules a sync makes; two on one namespace need different ids. */
export const DEFAULT_INSTALLATION = 'default';
const installationId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,30}$/,
    'installation ids are lower-case letters, digits and dashes (at most 31), e.g. "ops-eu"',
  );

/**
 * The id on the server of a declared schedule. The default installation keeps the declared id (as
 * releases before installations did); others prefix it and a dot, which declared ids cannot contain.
 */
export function scheduleIdOnServer(installation: string, id: string): string {
  return installation === DEFAULT_INSTALLATION ? id : `${installation}.${id}`;
}

/** Calendar names as Temporal's calendar specs spell them (also for `schedule calendar`). */
export const DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;
const oneOrMany = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]);

/** A Temporal calendar spec: unset minute and hour mean 0, unset days and months mean every one. */
const calendarSchema = z
  .object({
    minute: oneOrMany(z.number().int().min(0).max(59)).optional(),
    hour: oneOrMany(z.number().int().min(0).max(23)).optional(),
    dayOfMonth: oneOrMany(z.number().int().min(1).max(31)).optional(),
    month: oneOrMany(z.enum(MONTHS)).optional(),
    dayOfWeek: oneOrMany(z.enum(DAYS)).optional(),
  })
  .strict();

/** What a rollout schedule services: a tag or a list, and the limits, as a rollout's input takes them. */
const rolloutTargetsSchema = rolloutInputSchema
  .innerType()
  .pick({ environments: true, tag: true, maxConcurrency: true, maxErrors: true, onBusy: true })
  .strict();
const ROLLOUT_FIELDS = Object.keys(rolloutTargetsSchema.shape);

export const scheduleSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'schedule ids are lower-case letters, digits and dashes'),
    /** A window on this environment at each run, or (`rollout`) a window on each environment of a tag or list. */
    environment: environmentNameSchema.optional(),
    rollout: rolloutTargetsSchema.optional(),
    /** Five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * SUN". */
    cron: z
      .string()
      .superRefine((cron, ctx) => {
        const problem = cronProblem(cron);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    calendar: calendarSchema.optional(),
    timezone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'unknown time zone: use an IANA name such as "Europe/Berlin"'),
    duration: z.union([z.number(), z.string()]),
    reason: z.string().default(''),
    requestedBy: z.string().min(1).optional(),
    /** A standing approval of this schedule's windows on a protected environment: who approved them. */
    approvedBy: z.string().trim().min(1).max(100).optional(),
    changes: z
      .object({ enable: z.array(z.string()).default([]), disable: z.array(z.string()).default([]) })
      .strict()
      .default({}),
    paused: z.boolean().default(false),
  })
  .strict()
  .refine((s) => !s.cron !== !s.calendar, { message: 'give either cron or calendar (one of them)' })
  .refine((s) => !s.environment !== !s.rollout, {
    message:
      'give either environment (a window on one environment) or rollout (a window on every environment of a tag or list, e.g. rollout: { tag: sandbox }), one of them',
  })
  .refine((s) => !s.approvedBy || !samePerson(s.approvedBy, requesterOf(s)), {
    message: 'approvedBy must be someone other than the requester (requestedBy): no self-approval',
    path: ['approvedBy'],
  })
  // A rollout's children get no standing approval: each protected one waits for `maint approve`.
  .refine((s) => !s.rollout || !s.approvedBy, {
    message:
      'a rollout schedule takes no standing approval: the window on each protected environment of the rollout asks for approval (maint approve) at every run. Remove approvedBy, or give protected environments window schedules of their own with approvedBy',
    path: ['approvedBy'],
  })
  .superRefine((s, ctx) => {
    if (!s.environment === !s.rollout) return;
    const run = scheduledWorkflowOf(s);
    const parsed =
      run.workflowType === ROLLOUT_WORKFLOW_TYPE
        ? rolloutInputSchema.safeParse(run.input)
        : windowInputSchema.safeParse(run.input);
    for (const issue of parsed.success ? [] : parsed.error.issues) {
      // The rollout's own fields sit under `rollout:` in temporal.yaml.
      const nested =
        run.workflowType === ROLLOUT_WORKFLOW_TYPE && ROLLOUT_FIELDS.includes(String(issue.path[0]));
      ctx.addIssue({ ...issue, path: nested ? ['rollout', ...issue.path] : issue.path });
    }
  });
export type ScheduleConfig = z.infer<typeof scheduleSchema>;

/** Who a schedule's runs are requested by: its `requestedBy`, else the schedule itself. */
function requesterOf(s: { id: string; requestedBy?: string }): string {
  return s.requestedBy ?? `schedule:${s.id}`;
}

/** What every run of a schedule starts: a window on its environment, or a rollout of windows. */
export type ScheduledWorkflow =
  | { workflowType: typeof WORKFLOW_TYPES.window; input: WindowInput }
  | { workflowType: typeof ROLLOUT_WORKFLOW_TYPE; input: RolloutInput };

export function scheduledWorkflowOf(s: ScheduleConfig): ScheduledWorkflow {
  if (s.rollout)
    return {
      workflowType: ROLLOUT_WORKFLOW_TYPE,
      input: {
        action: 'window',
        ...s.rollout,
        duration: s.duration,
        changes: s.changes,
        requestedBy: requesterOf(s),
        reason: s.reason,
      },
    };
  return { workflowType: WORKFLOW_TYPES.window, input: windowInputOf(s) };
}

/** The maintenanceWindow input a window schedule starts its windows with. */
export function windowInputOf(s: ScheduleConfig): WindowInput {
  if (!s.environment) throw new Error(`schedule ${s.id} starts a rollout, not a single window`);
  return {
    environment: s.environment,
    duration: s.duration,
    requestedBy: requesterOf(s),
    reason: s.reason,
    changes: s.changes,
    ...(s.approvedBy && { approvedBy: s.approvedBy }),
  };
}

/**
 * The environments a schedule's runs service, as temporal.yaml declares them now: its environment,
 * its rollout's list, or the environments with its rollout's tag (the worker resolves the tag again
 * at each run).
 */
export function scheduleTargets(environments: Config['environments'], s: ScheduleConfig): string[] {
  if (s.environment) return [s.environment];
  const { tag, environments: list } = s.rollout ?? {};
  if (list) return list;
  return tag === undefined ? [] : taggedEnvironments(environments, tag);
}

/** The environments with `tag`, in temporal.yaml's order. */
export function taggedEnvironments(environments: Config['environments'], tag: string): string[] {
  return Object.entries(environments)
    .filter(([, e]) => e.tags?.includes(tag))
    .map(([name]) => name);
}

/** Every tag temporal.yaml gives its environments, for messages that list them. */
export function declaredTags(environments: Config['environments']): string[] {
  return [...new Set(Object.values(environments).flatMap((e) => e.tags ?? []))];
}

export const configSchema = z
  .object({
    installation: installationId.default(DEFAULT_INSTALLATION),
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
        /** Entries each environment keeps (oldest dropped first); event sinks are the long-term archive. */
        keep: z.number().int().min(10).max(10_000).default(2000),
        /** Long-lived workflows (environment entities, open windows) continue as new past this many history events. */
        continueAsNewAfterEvents: z.number().int().min(100).max(40_000).default(5000),
        /**
         * The first release's SQLite history and locks, read only by `maint upgrade` to import them
         * into Temporal (relative paths are relative to temporal.yaml).
         */
        database: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    policies: z
      .object({
        activity: activityPolicySchema.default({}),
        /** How long a failed operation waits for resume, rollback or abort before it ends Failed. */
        decisionTimeout: duration.default('7d'),
        /** How long an operation on a protected environment waits for approval before it ends Rejected. */
        approvalTimeout: duration.default('24h'),
        /** How often an environment checks that the operation holding its lock still runs. */
        lockCheckInterval: duration.default('5m'),
        /**
         * An environment left in maintenance by a plain enable longer than this is overdue: an event, the
         * metric, `maint list`; with `autoDisable` a disable starts (environments may set their own).
         */
        maximumInMaintenance: duration.optional(),
        autoDisable: z.boolean().default(false),
        windows: z
          .object({
            /** The longest a maintenance window may stay open, extensions included. */
            maximumDuration: duration.default('12h'),
            /** How many times one window may be extended (each extension is kept in its history). */
            maximumExtensions: z.number().int().min(0).max(1000).default(20),
            /** How long a window waits for its environment while another operation holds it. */
            busyTimeout: duration.default('1h'),
            busyPollInterval: duration.default('1m'),
            /** A scheduled window missed (server down) starts late only within this time, else it is skipped. */
            catchupWindow: duration.default('10m'),
            /** No window (nor rollout member) opens in the last this-much of its slot; a start or --cutoff overrides it. */
            cutoff: duration.optional(),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    environments: z
      .record(environmentNameSchema, environmentSchema)
      .refine((e) => Object.keys(e).length > 0, {
        message: 'declare at least one environment',
      }),
    /** Prometheus metrics of the worker (SDK and product) at http://<address>:<port>/metrics; no port, no endpoint. */
    metrics: metricsSchema,
    /** The worker process: its memory budget. */
    worker: workerSchema,
    /**
     * The people who sign starts and answers on protected environments, each with the public key
     * lines of their SSH keys (`~/.ssh/*.pub`; a list for several keys).
     */
    people: z.record(personName, z.union([publicKeyLine, z.array(publicKeyLine).min(1)])).default({}),
    /** The CLI's signing key when neither --key nor MAINTENANCE_SIGNING_KEY names one (`~` is the home folder). */
    signing: z
      .object({ key: z.string().min(1).optional() })
      .strict()
      .default({}),
    /** Maintenance windows (or rollouts of them) that Temporal Schedules start; `schedule sync` makes the server match. */
    schedules: z.array(scheduleSchema).default([]),
    /** CloudEvents of every operation and window, delivered to webhooks and files. */
    events: eventsSchema(duration, retryPolicy),
    /** Change freezes: periods during which nothing may start on the environments they name (config/freezes.ts). */
    freezes: z.array(freezeSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const { path, message } of sharedSupervisorIssues(c.environments))
      ctx.addIssue({ code: 'custom', path: ['environments', ...path], message });
    for (const { path, message } of signingIssues(c)) ctx.addIssue({ code: 'custom', path, message });
    for (const { path, message } of activityTimeoutIssues(c.environments, c.policies.activity))
      ctx.addIssue({ code: 'custom', path, message });
    for (const { path, message } of freezeIssues(c)) ctx.addIssue({ code: 'custom', path, message });
    const seen = new Set<string>();
    c.schedules.forEach((s, i) => {
      if (seen.has(s.id))
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'id'],
          message: `"${s.id}" is declared twice`,
        });
      seen.add(s.id);
      const declared = Object.keys(c.environments).join(', ');
      (s.rollout?.environments ?? []).forEach((e, j) => {
        if (!c.environments[e])
          ctx.addIssue({
            code: 'custom',
            path: ['schedules', i, 'rollout', 'environments', j],
            message: `unknown environment "${e}"; declared: ${declared}`,
          });
      });
      const tag = s.rollout?.tag;
      if (tag !== undefined && scheduleTargets(c.environments, s).length === 0) {
        const tags = declaredTags(c.environments);
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'rollout', 'tag'],
          message: `no environment has the tag "${tag}"; tags declared: ${tags.join(', ') || 'none'} (add \`tags: [${tag}]\` to the environments)`,
        });
      }
      if (s.environment === undefined) return;
      if (!c.environments[s.environment]) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'environment'],
          message: `unknown environment "${s.environment}"; declared: ${declared}`,
        });
      } else if (s.approvedBy && !c.environments[s.environment].protected) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'approvedBy'],
          message: `${s.environment} is not protected, so there is nothing to approve: remove approvedBy, or set protected: true on the environment`,
        });
      } else if (s.approvedBy && !isApprover(c.environments[s.environment], s.approvedBy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'approvedBy'],
          message: `${s.approvedBy} is not an approver of ${s.environment}: name one of its approvers (${c.environments[s.environment].approvers?.join(', ') ?? 'none'})`,
        });
      }
    });
  });

export type Config = z.infer<typeof configSchema>;

/** Each freeze names declared environments and tags, and no two freezes share a name. */
function freezeIssues(c: {
  freezes: { name: string; environments: string[]; tags: string[] }[];
  environments: Config['environments'];
}): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const tags = declaredTags(c.environments);
  c.freezes.forEach((f, i) => {
    if (c.freezes.findIndex((g) => g.name === f.name) < i)
      issues.push({ path: ['freezes', i, 'name'], message: `"${f.name}" is declared twice` });
    f.environments.forEach((e, j) => {
      if (!c.environments[e])
        issues.push({
          path: ['freezes', i, 'environments', j],
          message: `unknown environment "${e}"; declared: ${Object.keys(c.environments).join(', ')}`,
        });
    });
    f.tags.forEach((t, j) => {
      if (!tags.includes(t))
        issues.push({
          path: ['freezes', i, 'tags', j],
          message: `no environment has the tag "${t}"; tags declared: ${tags.join(', ') || 'none'}`,
        });
    });
  });
  return issues;
}

const isApprover = (e: { approvers?: string[] }, name: string) =>
  (e.approvers ?? []).some((a) => samePerson(a, name));

/** The public key lines of one person's entry in `people`. */
export const keyLinesOf = (entry: string | string[]): string[] =>
  typeof entry === 'string' ? [entry] : entry;

type PeopleConfig = {
  people: Record<string, string | string[]>;
  environments: Record<string, { protected: boolean; approvers?: string[] }>;
};

/**
 * People, keys and approvers agree: one entry per person (names compared as samePerson does), one
 * person per key, approvers of protected environments only, each of them a person.
 */
function signingIssues({
  people,
  environments,
}: PeopleConfig): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const owners = new Map<string, string>();
  const names: string[] = [];
  for (const [name, entry] of Object.entries(people)) {
    const twin = names.find((n) => samePerson(n, name));
    if (twin)
      issues.push({
        path: ['people', name],
        message: `"${name}" and "${twin}" are the same person: keep one entry`,
      });
    names.push(name);
    keyLinesOf(entry).forEach((line, i) => {
      let fingerprint: string;
      try {
        fingerprint = parsePublicKeyLine(line).fingerprint;
      } catch {
        return; // named by the key's own schema
      }
      const owner = owners.get(fingerprint);
      if (owner && owner !== name)
        issues.push({
          path: ['people', name, ...(typeof entry === 'string' ? [] : [i])],
          message: `this key (${fingerprint}) is also ${owner}'s: a key belongs to one person`,
        });
      owners.set(fingerprint, name);
    });
  }
  for (const [env, e] of Object.entries(environments)) {
    if (e.approvers && !e.protected)
      issues.push({
        path: ['environments', env, 'approvers'],
        message: `${env} is not protected, so nothing waits for approval: remove approvers, or set protected: true`,
      });
    if (e.protected && !e.approvers)
      issues.push({
        path: ['environments', env, 'approvers'],
        message: `${env} is protected: name who may approve its operations, e.g. approvers: [bob], each with their SSH public key under people:`,
      });
    (e.approvers ?? []).forEach((a, i) => {
      if (!names.some((n) => samePerson(n, a)))
        issues.push({
          path: ['environments', env, 'approvers', i],
          message: `${a} is not in people: add ${a}: "ssh-ed25519 AAAA… ${a}@host" (their ~/.ssh/*.pub line) under people:`,
        });
    });
  }
  return issues;
}
export type ActivityPolicy = z.infer<typeof activityPolicySchema>;
