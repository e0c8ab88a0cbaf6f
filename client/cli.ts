#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError } from '../config/load';
import { DECISIONS } from '../contract/operation';
import { APPROVAL_DECISIONS } from '../contract/approval';
import { approvalCommand } from './commands/approvals';
import { decisionCommand, planCommands, servicingCommand, watchCommand } from './commands/operations';
import {
  historyCommand,
  listCommand,
  logsCommand,
  statusCommand,
  unlockCommand,
  upgradeCommand,
} from './commands/environment';
import {
  cancelWindowCommand,
  endWindowCommand,
  extendWindowCommand,
  windowCommand,
} from './commands/windows';
import { freezeCommands } from './commands/freezes';
import { scheduleCommands } from './commands/schedules';
import { pauseCommand, rolloutCommand } from './commands/rollouts';
import { err } from './commands/shared';
import { ExitCode, OperatorError } from './operations';

/** The `maint` command: each command group lives in its own module under `commands/`. */
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
  statusCommand(program);
  watchCommand(program);
  listCommand(program);
  for (const kind of DECISIONS) decisionCommand(program, kind);
  for (const kind of APPROVAL_DECISIONS) approvalCommand(program, kind);
  logsCommand(program);
  historyCommand(program);
  unlockCommand(program);
  upgradeCommand(program);
  windowCommand(program);
  endWindowCommand(program);
  extendWindowCommand(program);
  cancelWindowCommand(program);
  rolloutCommand(program);
  pauseCommand(program);
  scheduleCommands(program);
  freezeCommands(program);
  planCommands(program);
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
    // The SDK's errors say what failed and keep why in their cause (an update's failure, a gRPC status).
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    err(`Unexpected error: ${e instanceof Error ? e.message : String(e)}${cause}`);
    return ExitCode.OperationFailed;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
