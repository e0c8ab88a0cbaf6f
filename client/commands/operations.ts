import type { Command } from 'commander';
import { DECISION_HELP, type Action, type DecisionKind } from '../../contract/operation';
import { resolveOperation, startOperation } from '../operations';
import { isRollout } from '../rollouts';
import { followRolloutCommand } from './rollouts';
import {
  answerCommand,
  environmentArg,
  err,
  followOperation,
  out,
  startOptions,
  started,
  withClient,
} from './shared';

/** Commands that start, follow and decide on servicing operations: enable, disable, watch, resume, rollback, abort. */

export function servicingCommand(program: Command, action: Action): void {
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
        if (!opts.wait) return started(handle, !!opts.json);
        return followOperation(handle, { json: !!opts.json, environment });
      });
    },
  );
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
      ? followRolloutCommand(handle, json, kind === 'abort' ? 'Aborted' : 'Succeeded')
      : followOperation(handle, { json, expected }),
  );
}
