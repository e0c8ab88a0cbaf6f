import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { WORKFLOW_TYPES, type OperationKind } from '../../contract/operation';
import { formatFreezes, freezeSummaries, readFreezeException, signedFreezeException } from '../freezes';
import { ExitCode, startTarget } from '../operations';
import { signingKey } from '../signing';
import { config, environmentArg, err, me, out } from './shared';

/** `freeze list|except`: change freezes declared in temporal.yaml, and an approver's exception for one run. */
export function freezeCommands(program: Command): void {
  const freeze = program
    .command('freeze')
    .description('Change freezes (freezes: in temporal.yaml): when nothing may start, and exceptions');
  freeze
    .command('list')
    .description('Each freeze: its environments, and the period in force now or the next one')
    .option('--json', 'print JSON instead of text')
    .action((opts: { json?: boolean }) => {
      const summaries = freezeSummaries(config(program));
      out(opts.json ? JSON.stringify(summaries, null, 2) : formatFreezes(summaries));
    });
  freeze
    .command('except')
    .description(
      "Grant an exception to a freeze for one run on a protected environment (an approver's signature, valid 15 minutes)",
    )
    .argument('<environment>', 'the protected environment', environmentArg)
    .requiredOption('--freeze <name>', 'the freeze to make the exception to')
    .addOption(
      new Option('--action <kind>', 'what the run does')
        .choices(Object.keys(WORKFLOW_TYPES))
        .makeOptionMandatory(),
    )
    .requiredOption(
      '-r, --reason <text>',
      'why the freeze is broken (kept in the log, the history and events)',
    )
    .option('-u, --by <name>', 'who grants it (your signing key decides)', me())
    .option('--key <file>', 'your SSH key (default: MAINTENANCE_SIGNING_KEY, signing.key, ~/.ssh/id_ed25519)')
    .option('-o, --output <file>', 'write the exception to this file instead of stdout')
    .action(
      (
        environment: string,
        opts: {
          freeze: string;
          action: OperationKind;
          reason: string;
          by: string;
          key?: string;
          output?: string;
        },
      ) => {
        const c = config(program, environment);
        const { workflowId, workflowType } = startTarget(opts.action, environment);
        const exception = signedFreezeException(c, signingKey(c, opts.key), {
          environment,
          workflowId,
          workflowType,
          freeze: opts.freeze,
          by: opts.by === me() ? undefined : opts.by,
          reason: opts.reason,
        });
        const text = JSON.stringify(exception, null, 2);
        if (opts.output) fs.writeFileSync(opts.output, `${text}\n`);
        else out(text);
        err(
          `Exception to freeze ${opts.freeze} for ${workflowId}, granted by ${exception.by}: start it within 15 minutes with ` +
            `\`maint ${opts.action} ${environment} --freeze-exception ${opts.output ?? '<this file>'}\`.`,
        );
        process.exitCode = ExitCode.Ok;
      },
    );
}

/** `--freeze-exception <file>` of enable, disable and window. */
export function freezeExceptionOption(command: Command): Command {
  return command.option(
    '--freeze-exception <file>',
    'start during a change freeze with the exception an approver wrote (`maint freeze except`)',
  );
}

/** The exception named by `--freeze-exception`, as the start's input carries it. */
export const freezeExceptionInput = (file?: string) =>
  file ? { freezeException: readFreezeException(file) } : {};
