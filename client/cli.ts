#!/usr/bin/env node
import fs from 'node:fs';
import os from 'node:os';
import readline from 'node:readline/promises';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { Command, Option } from 'commander';
import { SqliteServicingStore } from '../activities/servicing-store';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load';
import {
  DECISIONS,
  DECISION_HELP,
  ENVIRONMENT_STATES,
  environmentNameSchema,
  logQuery,
  type Action,
  type DecisionKind,
  type OperationStatus,
  type Result,
  type WindowStatus,
} from '../contract/operation';
import { ErrorType } from '../contract/errors';
import {
  formatDecisionNeeded,
  formatHistory,
  formatHolder,
  formatList,
  formatLog,
  formatProgress,
  formatSchedules,
  formatStatus,
  formatStep,
  formatWindow,
  progressBar,
} from './format';
import {
  ExitCode,
  OperatorError,
  connect,
  decide,
  environmentStatus,
  follow,
  requireEnvironment,
  resolveOperation,
  startOperation,
  type FollowOutcome,
} from './operations';
import { listSchedules, resolveScheduleId, syncSchedules } from './schedules';
import { endWindowUpdate, extendWindowUpdate } from '../contract/window';

interface GlobalOptions {
  config?: string;
}

const out = (text: string): void => void process.stdout.write(`${text}\n`);
const err = (text: string): void => void process.stderr.write(`${text}\n`);
const me = () => os.userInfo().username;

function environmentArg(value: string): string {
  const parsed = environmentNameSchema.safeParse(value);
  if (!parsed.success) {
    throw new OperatorError(
      `Invalid environment "${value}": ${parsed.error.issues[0].message}.`,
      ExitCode.InvalidInput,
    );
  }
  return parsed.data;
}

function config(program: Command, environment?: string): LoadedConfig {
  const loaded = loadConfig(program.opts<GlobalOptions>().config);
  if (environment) requireEnvironment(loaded, environment);
  return loaded;
}

async function withClient<T>(
  program: Command,
  environment: string | undefined,
  run: (ctx: { config: LoadedConfig; client: Client }) => Promise<T>,
): Promise<T> {
  const loaded = config(program, environment);
  const { client, close } = await connect(loaded);
  try {
    return await run({ config: loaded, client });
  } finally {
    await close();
  }
}

/**
 * Prints how a followed operation ended and turns it into an exit code: 0 when it ended as the
 * command meant (Succeeded for enable/disable/resume, RolledBack for rollback, Aborted for abort).
 */
function report(
  outcome: FollowOutcome,
  json: boolean,
  print: (s: string) => void,
  expected: Result = 'Succeeded',
): number {
  if (outcome.kind === 'needsDecision') {
    if (json) out(JSON.stringify(outcome.status, null, 2));
    else print(formatDecisionNeeded(outcome.status));
    return ExitCode.NeedsDecision;
  }
  if (outcome.kind === 'failed') {
    const asMeant = expected === 'Aborted' && outcome.type === ErrorType.OperationAborted;
    if (json) out(JSON.stringify(outcome, null, 2));
    else (asMeant ? print : err)(outcome.message);
    if (asMeant) return ExitCode.Ok;
    return outcome.type === ErrorType.EnvironmentBusy ? ExitCode.Conflict : ExitCode.OperationFailed;
  }
  if (outcome.kind === 'reached') {
    if (json) out(JSON.stringify(outcome.status, null, 2));
    else print(formatWindow(outcome.status) ?? formatProgress(outcome.status));
    return ExitCode.Ok;
  }
  const r = outcome.result;
  if (json) out(JSON.stringify(r, null, 2));
  else if ('window' in r) {
    print(r.steps.map(formatStep).join('\n'));
    print(r.summary.map((line) => `  ${line}`).join('\n'));
    print(`Maintenance window on ${r.environment}: ${r.result}.`);
  } else {
    print(`${progressBar(100)}  ${r.state}`);
    print(r.steps.map(formatStep).join('\n'));
    const how = r.alreadyInMode ? 'already in the requested mode, nothing changed' : r.result;
    print(`${r.environment} is ${r.state} (${how}).`);
  }
  return r.result === expected ? ExitCode.Ok : ExitCode.OperationFailed;
}

/** The options of every command that starts an operation. */
function startOptions(command: Command, noWait: string): Command {
  return command
    .option('-r, --reason <text>', 'why (kept in the environment history)', '')
    .option('-u, --requested-by <name>', 'who asks (default: your user name)', me())
    .option('--no-wait', noWait)
    .option('--json', 'print JSON instead of text');
}

function servicingCommand(program: Command, action: Action): void {
  const command = program
    .command(action)
    .description(
      `${action === 'enable' ? 'Turn maintenance mode on' : 'Turn maintenance mode off'} for an environment`,
    )
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg);
  startOptions(command, 'start the operation and return at once').action(
    async (
      environment: string,
      opts: { reason: string; requestedBy: string; wait: boolean; json?: boolean },
    ) => {
      process.exitCode = await withClient(program, environment, async ({ config: c, client }) => {
        const handle = await startOperation(client, c, action, {
          environment,
          reason: opts.reason,
          requestedBy: opts.requestedBy,
        });
        const print = opts.json ? err : out;
        print(`Started ${handle.workflowId} (${action} maintenance mode on ${environment}).`);
        if (!opts.wait) {
          if (opts.json)
            out(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }));
          return ExitCode.Ok;
        }
        return report(await follow(handle, (s) => print(formatProgress(s))), !!opts.json, print);
      });
    },
  );
}

function decisionCommand(program: Command, kind: DecisionKind): void {
  program
    .command(kind)
    .description(`Decide on a failed operation: ${DECISION_HELP[kind]}`)
    .argument('<target>', 'an environment (its current operation) or a workflow ID')
    .option('-r, --reason <text>', 'why (kept in the log and the history)', '')
    .option('-u, --by <name>', 'who decides (default: your user name)', me())
    .option('--no-wait', 'return once the decision is accepted')
    .option('--json', 'print JSON instead of text')
    .action(async (target: string, opts: { reason: string; by: string; wait: boolean; json?: boolean }) => {
      process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target);
        const ack = await decide(handle, kind, { by: opts.by, reason: opts.reason });
        const print = opts.json ? err : out;
        print(`${handle.workflowId}: ${ack.message}.`);
        if (!opts.wait) {
          if (opts.json) out(JSON.stringify(ack, null, 2));
          return ExitCode.Ok;
        }
        const expected = ({ resume: 'Succeeded', rollback: 'RolledBack', abort: 'Aborted' } as const)[kind];
        return report(await follow(handle, (s) => print(formatProgress(s))), !!opts.json, print, expected);
      });
    });
}

async function confirm(question: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('maint')
    .description('Durable maintenance-mode operations for ERP environments, on Temporal')
    .addOption(
      new Option('-c, --config <file>', 'configuration file')
        .env('MAINTENANCE_CONFIG')
        .default('temporal.yaml'),
    )
    .showHelpAfterError()
    .exitOverride();

  servicingCommand(program, 'enable');
  servicingCommand(program, 'disable');

  program
    .command('status')
    .description('The state of an environment and its latest operation, with the decisions it waits for')
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .option('--json', 'print JSON instead of text')
    .action(async (environment: string, opts: { json?: boolean }) => {
      await withClient(program, environment, async ({ client }) => {
        const status = await environmentStatus(client, environment);
        out(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      });
    });

  program
    .command('watch')
    .description('Follow the current operation of an environment until it ends or needs a decision')
    .argument('<target>', 'an environment or a workflow ID')
    .option('--json', 'print the final state as JSON')
    .action(async (target: string, opts: { json?: boolean }) => {
      process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target);
        const print = opts.json ? err : out;
        print(`Watching ${handle.workflowId}.`);
        return report(
          await follow(handle, (s: OperationStatus) => print(formatProgress(s))),
          !!opts.json,
          print,
        );
      });
    });

  program
    .command('list')
    .description('Every environment with its state and current operation')
    .addOption(
      new Option('-s, --state <state>', 'only environments in this state').choices([...ENVIRONMENT_STATES]),
    )
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { state?: string; json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const rows = await Promise.all(Object.keys(c.environments).map((e) => environmentStatus(client, e)));
        const shown = rows.filter((r) => !opts.state || r.state === opts.state);
        out(opts.json ? JSON.stringify(shown, null, 2) : formatList(shown));
      });
    });

  for (const kind of DECISIONS) decisionCommand(program, kind);

  program
    .command('logs')
    .description('The operation log: every step, attempt, error and decision')
    .argument('<target>', 'an environment (its latest operation) or a workflow ID')
    .option('-o, --output <file>', 'write to a file instead of the terminal')
    .option('--json', 'JSON instead of text')
    .action(async (target: string, opts: { output?: string; json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target);
        const log = await handle.query(logQuery);
        const text = opts.json ? JSON.stringify(log, null, 2) : formatLog(log);
        if (!opts.output) return out(text);
        fs.writeFileSync(opts.output, `${text}\n`);
        err(`Wrote ${log.entries.length} log entries of ${handle.workflowId} to ${opts.output}.`);
      });
    });

  program
    .command('history')
    .description('The environment history: one entry per operation, newest first')
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .option(
      '-n, --limit <count>',
      'how many entries',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new OperatorError(`--limit takes a whole number above 0, not "${v}".`, ExitCode.InvalidInput);
        return n;
      },
      50,
    )
    .option('--json', 'print JSON instead of text')
    .action((environment: string, opts: { limit: number; json?: boolean }) => {
      const c = config(program, environment);
      const store = new SqliteServicingStore(c.history.database);
      try {
        const entries = store.list(environment, opts.limit);
        out(opts.json ? JSON.stringify(entries, null, 2) : formatHistory(environment, entries));
      } finally {
        store.close();
      }
    });

  program
    .command('unlock')
    .description("Release an environment's servicing lock by force (when its holder cannot release it)")
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .requiredOption('--force', 'required: this overrides the one-operation-per-environment guard')
    .option('-y, --yes', 'do not ask for confirmation (for scripts)')
    .action(async (environment: string, opts: { yes?: boolean }) => {
      const c = config(program, environment);
      const store = new SqliteServicingStore(c.history.database);
      try {
        const holder = store.holder(environment);
        if (!holder) return out(`${environment} is not locked.`);
        err(`${environment} is locked by ${formatHolder(holder)}.`);
        if (!opts.yes && !(await confirm(`Type "${environment}" to release the lock: `, environment))) {
          throw new OperatorError(
            'Not unlocked: confirmation missing. Type the environment name when asked, or add --yes.',
            ExitCode.InvalidInput,
          );
        }
        store.forceRelease(environment);
        out(`Released the lock of ${environment} (held by ${holder.workflowId}).`);
      } finally {
        store.close();
      }
    });
  const window = program
    .command('window')
    .description('Open a maintenance window: enable, apply configuration-key changes, wait, disable')
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .requiredOption('-d, --duration <duration>', 'how long it stays open: ISO 8601 ("PT2H") or minutes')
    .option('--enable <keys>', 'configuration keys to turn on, comma-separated', list, [])
    .option('--disable <keys>', 'configuration keys to turn off, comma-separated', list, []);
  startOptions(window, 'return once started, not once the window is open').action(
    async (
      environment: string,
      opts: {
        duration: string;
        enable: string[];
        disable: string[];
        reason: string;
        requestedBy: string;
        wait: boolean;
        json?: boolean;
      },
    ) => {
      process.exitCode = await withClient(program, environment, async ({ config: c, client }) => {
        const handle = await startOperation(client, c, 'window', {
          environment,
          duration: durationArg(opts.duration),
          requestedBy: opts.requestedBy,
          reason: opts.reason,
          changes: { enable: opts.enable, disable: opts.disable },
        });
        const print = opts.json ? err : out;
        print(`Started ${handle.workflowId} (maintenance window on ${environment}).`);
        if (!opts.wait) return ExitCode.Ok;
        const opened = (s: OperationStatus) => !!s.window?.endsAt;
        return report(
          await follow(handle, (s) => print(formatProgress(s)), { until: opened }),
          !!opts.json,
          print,
        );
      });
    },
  );

  program
    .command('end-window')
    .description('Close a maintenance window now (then it leaves maintenance mode)')
    .argument('<target>', 'an environment (its open window) or a workflow ID')
    .option('-r, --reason <text>', 'why', '')
    .option('-u, --by <name>', 'who (default: your user name)', me())
    .action(async (target: string, opts: { reason: string; by: string }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target, 'window');
        await windowUpdate(handle, endWindowUpdate, { by: opts.by, reason: opts.reason });
        out(`${handle.workflowId}: the window is closing; maintenance mode will be turned off.`);
      });
    });

  program
    .command('extend-window')
    .description('Keep a maintenance window open longer (up to the configured maximum)')
    .argument('<target>', 'an environment (its open window) or a workflow ID')
    .requiredOption('-d, --duration <duration>', 'how much longer: ISO 8601 ("PT1H") or minutes')
    .option('-r, --reason <text>', 'why', '')
    .option('-u, --by <name>', 'who (default: your user name)', me())
    .action(async (target: string, opts: { duration: string; reason: string; by: string }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target, 'window');
        const duration = durationArg(opts.duration);
        const window = await windowUpdate(handle, extendWindowUpdate, {
          by: opts.by,
          reason: opts.reason,
          duration,
        });
        out(`${handle.workflowId}: the window now closes at ${window.endsAt}.`);
      });
    });

  const schedule = program
    .command('schedule')
    .description('Temporal Schedules of maintenance windows (declared in temporal.yaml)');
  schedule
    .command('sync')
    .description('Make the Schedules on the server match temporal.yaml; print what changed')
    .option('--dry-run', 'say what would change, change nothing')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const lines = await syncSchedules(client, c, { dryRun: opts.dryRun });
        if (opts.json) return out(JSON.stringify(lines, null, 2));
        if (lines.length === 0) return out('No schedules declared, none to delete.');
        for (const l of lines)
          out(
            `${(opts.dryRun ? `would be ${l.change}` : l.change).padEnd(16)} ${l.id.padEnd(24)} ${l.detail}`,
          );
      });
    });
  schedule
    .command('list')
    .description('Every Schedule with its next run times')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const rows = await listSchedules(client, c.installation);
        out(opts.json ? JSON.stringify(rows, null, 2) : formatSchedules(rows));
      });
    });
  for (const [verb, description] of [
    ['trigger', 'Start a window of this schedule now (skipped if one is running)'],
    ['pause', 'Pause a schedule (kept across syncs until temporal.yaml changes its `paused` value)'],
    ['unpause', 'Unpause a schedule'],
  ] as const) {
    schedule
      .command(verb)
      .description(description)
      .argument('<id>', 'schedule id, as declared in temporal.yaml or as `schedule list` shows it')
      .option('-r, --reason <text>', 'why (kept as the schedule note)', '')
      .action(async (id: string, opts: { reason: string }) => {
        await withClient(program, undefined, async ({ config: c, client }) => {
          const handle = client.schedule.getHandle(resolveScheduleId(c, id));
          try {
            if (verb === 'trigger') await handle.trigger(ScheduleOverlapPolicy.SKIP);
            else if (verb === 'pause') await handle.pause(opts.reason || `paused by ${me()}`);
            else await handle.unpause(opts.reason || `unpaused by ${me()}`);
          } catch (e) {
            if (e instanceof ScheduleNotFoundError)
              throw new OperatorError(`No schedule "${id}". See \`maint schedule list\`.`, ExitCode.NotFound);
            throw e;
          }
          out(`${handle.scheduleId}: ${verb === 'trigger' ? 'triggered' : `${verb}d`}.`);
        });
      });
  }
  return program;
}

/** Sends endWindow/extendWindow as an update: the window's answer, or its reason for refusing. */
async function windowUpdate<A>(
  handle: WorkflowHandle,
  update: UpdateDefinition<WindowStatus, [A]>,
  input: A,
): Promise<WindowStatus> {
  try {
    return await handle.executeUpdate(update, { args: [input] });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError)
      throw new OperatorError(e.cause?.message ?? e.message, ExitCode.Conflict);
    if (e instanceof WorkflowNotFoundError)
      throw new OperatorError(`${handle.workflowId} has ended.`, ExitCode.Conflict);
    throw e;
  }
}

/** "90" means minutes, as in workflow inputs; anything else goes on as an ISO 8601 duration. */
function durationArg(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

function list(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (e) {
    if (e instanceof OperatorError) {
      err(e.message);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      err(e.message);
      return ExitCode.InvalidInput;
    }
    const code = (e as { code?: string }).code;
    if (code?.startsWith('commander.')) {
      // commander has printed the help or the usage error already
      return code === 'commander.helpDisplayed' || code === 'commander.version'
        ? ExitCode.Ok
        : ExitCode.InvalidInput;
    }
    err(`Unexpected error: ${e instanceof Error ? e.message : String(e)}`);
    return ExitCode.OperationFailed;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
