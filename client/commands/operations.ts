import type { Command } from 'commander';
import { DECISION_HELP, type Action, type DecisionKind } from '../../contract/operation';
import { resolveOperation, startOperation, startTarget } from '../operations';
import { isRollout } from '../rollouts';
import { freezeExceptionInput, freezeExceptionOption } from './freezes';
import { followRolloutCommand } from './rollouts';
import { windowCommand } from './windows';
import {
  answerCommand,
  environmentArg,
  err,
  followOperation,
  out,
  prepareStart,
  printStart,
  showPlan,
  dryRunOption,
  startOptions,
  type StartOpts,
  started,
  withClient,
} from './shared';

/** Commands that start, follow and decide on servicing operations: enable, disable, watch, resume, rollback, abort. */

/** `maint enable|disable`, and `maint plan enable|disable` (under `parent`) that only plans. */
export function servicingCommand(program: Command, action: Action, parent = program): void {
  const planOnly = parent !== program;
  const command = parent
    .command(action)
    .description(
      `${action === 'enable' ? 'Turn maintenance mode on' : 'Turn maintenance mode off'} for an environment`,
    )
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg);
  startOptions(freezeExceptionOption(dryRunOption(command)), 'start the operation and return at once').action(
    async (environment: string, opts: StartOpts & { freezeException?: string }) => {
      process.exitCode = await withClient(program, environment, async ({ config: c, client }) => {
        const typed = { environment, reason: opts.reason, requestedBy: opts.requestedBy };
        if (planOnly || opts.dryRun) return showPlan(client, c, action, typed, !!opts.json);
        const target = startTarget(action, environment);
        const frozen = freezeExceptionInput(opts.freezeException);
        const input = prepareStart(c, opts, target, { ...typed, ...frozen }, [environment]);
        if (opts.printInput) return printStart(c, target, input, !!opts.json);
        const handle = await startOperation(client, c, action, input);
        const print = opts.json ? err : out;
        print(`Started ${handle.workflowId} (${action} maintenance mode on ${environment}).`);
        if (!opts.wait) return started(handle, !!opts.json);
        return followOperation(handle, { json: !!opts.json, environment });
      });
    },
  );
}

/** `maint plan enable|disable|window <environment> ...`: what the operation would do, changing nothing. */
export function planCommands(program: Command): void {
  const plan = program
    .command('plan')
    .description('Show what an operation would do now (dry run: read-only calls, nothing changed)');
  servicingCommand(program, 'enable', plan);
  servicingCommand(program, 'disable', plan);
  windowCommand(program, plan);
}

export function watchCommand(program: Command): void {
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
        return followOperation(handle, { json: !!opts.json });
      });
    });
}

export function decisionCommand(program: Command, kind: DecisionKind): void {
  const text = {
    description: `Decide on a failed operation: ${DECISION_HELP[kind]}`,
    target: 'an environment (its current operation), a workflow ID, or a rollout (resume, abort)',
    by: 'who decides (default: your user name)',
  };
  const expected = ({ resume: 'Succeeded', rollback: 'RolledBack', abort: 'Aborted' } as const)[kind];
  answerCommand(program, kind, text, async (handle, json) =>
    (await isRollout(handle))
      ? followRolloutCommand(handle, json, { expected: kind === 'abort' ? 'Aborted' : 'Succeeded' })
      : followOperation(handle, { json, expected }),
  );
}
