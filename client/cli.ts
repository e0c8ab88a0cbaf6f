#!/usr/bin/env node
import fs from 'node:fs';
import os from 'node:os';
import readline from 'node:readline/promises';
import type { Client } from '@temporalio/client';
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
} from '../contract/operation';
import { ErrorType } from '../contract/errors';
import {
  formatDecisionNeeded,
  formatHistory,
  formatHolder,
  formatList,
  formatLog,
  formatProgress,
  formatStatus,
  formatStep,
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
  const r = outcome.result;
  if (json) out(JSON.stringify(r, null, 2));
  else {
    print(`${progressBar(100)}  ${r.state}`);
    print(r.steps.map(formatStep).join('\n'));
    const how = r.alreadyInMode ? 'already in the requested mode, nothing changed' : r.result;
    print(`${r.environment} is ${r.state} (${how}).`);
  }
  return r.result === expected ? ExitCode.Ok : ExitCode.OperationFailed;
}

function servicingCommand(program: Command, action: Action): void {
  program
    .command(action)
    .description(
      `${action === 'enable' ? 'Turn maintenance mode on' : 'Turn maintenance mode off'} for an environment`,
    )
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .option('-r, --reason <text>', 'why (kept in the environment history)', '')
    .option('-u, --requested-by <name>', 'who asks (default: your user name)', me())
    .option('--no-wait', 'start the operation and return at once')
    .option('--json', 'print JSON instead of text')
    .action(
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
  return program;
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
