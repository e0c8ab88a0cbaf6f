#!/usr/bin/env node
import os from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load';
import { environmentNameSchema, type Action } from '../contract/operation';
import { formatProgress, formatStatus, formatStep, progressBar } from './format';
import {
  ExitCode,
  OperatorError,
  connect,
  environmentStatus,
  failureMessage,
  requireEnvironment,
  startOperation,
  waitForResult,
} from './operations';

interface GlobalOptions {
  config?: string;
}

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

function environmentArg(value: string): string {
  const parsed = environmentNameSchema.safeParse(value);
  if (!parsed.success)
    throw new OperatorError(
      `Invalid environment "${value}": ${parsed.error.issues[0].message}.`,
      ExitCode.InvalidInput,
    );
  return parsed.data;
}

async function withClient<T>(
  program: Command,
  environment: string | undefined,
  run: (ctx: { config: LoadedConfig; client: Awaited<ReturnType<typeof connect>>['client'] }) => Promise<T>,
): Promise<T> {
  const config = loadConfig(program.opts<GlobalOptions>().config);
  if (environment) requireEnvironment(config, environment);
  const { client, close } = await connect(config);
  try {
    return await run({ config, client });
  } finally {
    await close();
  }
}

function servicingCommand(program: Command, action: Action): Command {
  return program
    .command(action)
    .description(
      `${action === 'enable' ? 'Turn maintenance mode on' : 'Turn maintenance mode off'} for an environment`,
    )
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .option('-r, --reason <text>', 'why (kept in the environment history)', '')
    .option('-u, --requested-by <name>', 'who asks (default: your user name)', os.userInfo().username)
    .option('--no-wait', 'start the operation and return at once')
    .option('--json', 'print JSON instead of text')
    .action(
      async (
        environment: string,
        opts: { reason: string; requestedBy: string; wait: boolean; json?: boolean },
      ) => {
        await withClient(program, environment, async ({ config, client }) => {
          const handle = await startOperation(client, config, action, {
            environment,
            reason: opts.reason,
            requestedBy: opts.requestedBy,
          });
          const log = opts.json ? err : out;
          log(`Started ${handle.workflowId} (${action} maintenance mode on ${environment}).`);
          if (!opts.wait) {
            if (opts.json)
              out(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }));
            return;
          }
          try {
            const result = await waitForResult(handle, (s) => log(formatProgress(s)));
            if (opts.json) out(JSON.stringify(result, null, 2));
            else {
              out(`${progressBar(100)}  ${result.state}`);
              out(result.steps.map(formatStep).join('\n'));
              out(
                `${environment} is ${result.state} (${result.outcome === 'AlreadyInMode' ? 'already in the requested mode, nothing changed' : 'done'}).`,
              );
            }
          } catch (e) {
            const message = failureMessage(e);
            if (message)
              throw new OperatorError(
                `Operation ${handle.workflowId} failed: ${message}`,
                ExitCode.OperationFailed,
              );
            throw e;
          }
        });
      },
    );
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
    .description('Show the state of an environment and its latest operation')
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .option('--json', 'print JSON instead of text')
    .action(async (environment: string, opts: { json?: boolean }) => {
      await withClient(program, environment, async ({ client }) => {
        const status = await environmentStatus(client, environment);
        out(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      });
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return ExitCode.Ok;
  } catch (e) {
    if (e instanceof OperatorError) {
      err(e.message);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      err(e.message);
      return ExitCode.InvalidInput;
    }
    const code = (e as { code?: string; exitCode?: number }).code;
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
