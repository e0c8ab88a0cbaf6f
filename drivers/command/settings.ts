import { z } from 'zod';
import { duration } from '../../config/duration';
import { envReference, referencedNames } from '../../config/env-reference';
import { CAPABILITIES, type Capability } from '../capabilities';

export const exitCode = z.number().int().min(1).max(255);
export const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and underscores (e.g. SQL_SERVER)');

/** What a command may set for itself, over the driver's defaults. */
const commandOptions = {
  /** Killed, with its whole process group, when it runs longer (default: the driver's `timeout`). */
  timeout: duration.optional(),
  /** Exit codes that mean "try again later" (default: the driver's `retryableExitCodes`). */
  retryableExitCodes: z.array(exitCode).optional(),
  /** Variables for this command only; `${env:NAME}` values are secrets from the worker's environment. */
  env: z.record(variableName, z.string()).optional(),
};

/**
 * A secret in a command line would be seen by every user of the host (`ps`, /proc/<pid>/cmdline), and
 * in a shell string a value holding quotes would run as shell code: secrets go in `env` only.
 */
function noSecret(where: 'argv' | 'shell') {
  return (text: string, ctx: z.RefinementCtx) => {
    const names = [...new Set(referencedNames(text))];
    if (names.length === 0) return;
    const env = names.map((n) => `${n}: "${envReference(n)}"`).join(', ');
    const read = names.map((n) => `$env:${n}`).join(', ');
    const sh = names.map((n) => `"$${n}"`).join(', ');
    ctx.addIssue({
      code: 'custom',
      message:
        `${names.map(envReference).join(', ')} may not be in ${where === 'argv' ? 'an argument' : 'a shell command line'}: ` +
        `${where === 'argv' ? 'every user of the host sees arguments' : 'there it would run as shell code and every user of the host sees it'} ` +
        `(ps, /proc). Give it to the command in its env instead (env: { ${env} }) and read it in the script ` +
        `as ${read} (PowerShell) or ${sh} (sh)`,
    });
  };
}

/**
 * One command: an argv array run without a shell (preferred), or an explicit shell string (`sh -c`,
 * `cmd.exe` on Windows). Secrets (`${env:NAME}`) reach it only through its variables (`env`).
 */
export const commandSchema = z.union(
  [
    z
      .object({ argv: z.array(z.string().min(1).superRefine(noSecret('argv'))).min(1), ...commandOptions })
      .strict(),
    z.object({ shell: z.string().min(1).superRefine(noSecret('shell')), ...commandOptions }).strict(),
  ],
  {
    errorMap: () => ({
      message: 'a command is { argv: [program, arg, ...] } or { shell: "a command line" }',
    }),
  },
);
export type CommandSpec = z.infer<typeof commandSchema>;

/**
 * The commands of each capability (drivers/capabilities.ts). Every command gets MAINTENANCE_ENVIRONMENT;
 * the others get what they act on: MAINTENANCE_FLAG (0 or 1), MAINTENANCE_AOS_ID, MAINTENANCE_USER,
 * MAINTENANCE_KEY and MAINTENANCE_KEY_ENABLED (1 or 0). Commands that report state print JSON.
 */
export const COMMANDS = {
  flagStore: {
    readFlag: 'prints {"configurationMode": 0 | 1}',
    writeFlag: 'sets CONFIGURATIONMODE to MAINTENANCE_FLAG; its output is not read',
  },
  aosControl: {
    listAos:
      'prints [{"id": "aos-1", "role": "interactive" | "batch", "status": "running" | "stopped" | "starting" | "stopping" | "crashed", "maintenanceMode": true | false | null}]',
    restartAos: 'restarts MAINTENANCE_AOS_ID and returns once it is healthy; its output is not read',
    stopAos: 'stops MAINTENANCE_AOS_ID; its output is not read',
  },
  probe: {
    probeUsers:
      'prints {"administrator": "admin", "maintenanceUser": "...", "regularUser": "..."} (each optional)',
    signIn: 'tries MAINTENANCE_USER on MAINTENANCE_AOS_ID; prints {"allowed": true | false, "detail": "..."}',
  },
  license: {
    listKeys: 'prints {"KEYNAME": true | false, ...}',
    setKey: 'sets MAINTENANCE_KEY to MAINTENANCE_KEY_ENABLED (1 or 0); its output is not read',
  },
  impact: {
    readImpact:
      'prints {"users": {"count": 3, "names": ["..."]}, "batchJobs": [{"name": "...", "status": "executing" | "waiting", "startsAt": "ISO 8601"}], "integrations": [{"name": "...", "detail": "..."}]} (integrations optional) for jobs due by MAINTENANCE_UNTIL',
  },
} as const satisfies Record<Capability, Record<string, string>>;
export type CommandName = { [C in Capability]: keyof (typeof COMMANDS)[C] }[Capability];

/** The capability a command serves. */
export function capabilityOf(name: CommandName): Capability {
  return CAPABILITIES.find((c) => name in COMMANDS[c])!;
}

/** What a command gets and prints, as COMMANDS says. */
export function commandHelp(name: CommandName): string {
  return (COMMANDS[capabilityOf(name)] as Record<CommandName, string>)[name];
}

/** Capabilities every environment needs; without probe commands verification skips the sign-in checks. */
export const REQUIRED_CAPABILITIES: Capability[] = ['flagStore', 'aosControl'];

/** How commands run, for the command driver and for an environment's hooks (config/hooks.ts). */
export const runnerFields = {
  /** Where the commands run; relative to temporal.yaml (default: its folder). */
  workingDirectory: z.string().min(1).default('.'),
  /** Variables every command gets; `${env:NAME}` values are secrets from the worker's environment. */
  env: z.record(variableName, z.string()).default({}),
  timeout: duration.default('5m'),
  retryableExitCodes: z.array(exitCode).default([75]),
  /** What is kept of each of stdout and stderr; the rest is counted, not kept. */
  outputLimitBytes: z.number().int().min(256).max(1_048_576).default(16_384),
};

/** An environment (or one capability of it) served by commands run on the worker's host. */
export const commandSettingsSchema = z
  .object({
    driver: z.literal('command'),
    ...runnerFields,
    commands: z
      .object({
        readFlag: commandSchema.optional(),
        writeFlag: commandSchema.optional(),
        listAos: commandSchema.optional(),
        restartAos: commandSchema.optional(),
        stopAos: commandSchema.optional(),
        probeUsers: commandSchema.optional(),
        signIn: commandSchema.optional(),
        listKeys: commandSchema.optional(),
        setKey: commandSchema.optional(),
        readImpact: commandSchema.optional(),
      })
      .strict(),
  })
  .strict();
export type CommandSettings = z.infer<typeof commandSettingsSchema>;

/** How a CommandRunner runs commands: the driver's settings, or an environment's hooks. */
export type RunnerSettings = Omit<CommandSettings, 'driver' | 'commands'> & {
  commands: Partial<Record<string, CommandSpec>>;
};

/** The texts of command settings that may reference secrets: the variables of the driver and of each command. */
export function variableTexts(settings: RunnerSettings): string[] {
  return [
    ...Object.values(settings.env),
    ...Object.values(settings.commands).flatMap((c) => Object.values(c?.env ?? {})),
  ];
}

/** The commands a capability needs that `settings` lacks (a capability's commands come all or none). */
export function missingCommands(
  settings: CommandSettings,
  capability: Capability,
  required: boolean,
): CommandName[] {
  const names = Object.keys(COMMANDS[capability]) as CommandName[];
  const given = names.filter((n) => settings.commands[n]);
  if (given.length === 0 && !required) return [];
  return names.filter((n) => !settings.commands[n]);
}
