import type { WorkflowHandle } from '@temporalio/client';
import { Argument, Option, type Command } from 'commander';
import { BUSY_POLICIES, type Result } from '../../contract/operation';
import {
  ROLLOUT_ACTIONS,
  ROLLOUT_COMMAND_HELP,
  ROLLOUT_WORKFLOW_TYPE,
  type Limit,
  type RolloutAction,
  type RolloutInput,
  type RolloutRow,
  type RolloutStatus,
  rolloutStatusQuery,
} from '../../contract/rollout';
import { formatRollout, formatRolloutDecisions } from '../format';
import { ExitCode, OperatorError } from '../operations';
import {
  checkRollout,
  followRollout,
  rolloutTargets,
  rolloutWorkflowId,
  startRollout,
  waitingOperation,
} from '../rollouts';
import {
  answerCommand,
  config,
  durationArg,
  err,
  keyChangeOptions,
  listArg,
  out,
  prepareStart,
  printStart,
  startOptions,
  started,
  withClient,
  type KeyChangeOpts,
  type StartOpts,
} from './shared';

/** Commands for rollouts over many environments: rollout, pause (resume, abort and status take a rollout too). */

/** "10" or "25%". */
function limitArg(value: string): Limit {
  if (/^\d+$/.test(value)) return Number(value);
  if (/^\d{1,3}%$/.test(value)) return value as Limit;
  throw new OperatorError(
    `"${value}" is not a limit: give a number of environments (10) or a percentage of them (25%).`,
    ExitCode.InvalidInput,
  );
}

/**
 * Follows a rollout, printing each environment whose state or result changes, then the table. Exits 0
 * when it ended as `expected` (Succeeded: every environment succeeded or was skipped as busy; Aborted,
 * for `maint abort`), 1 when it ended otherwise, and 6 as soon as it cannot go on without a decision
 * (naming each environment that waits, its failure and the commands), unless `waitDecisions`.
 */
export async function followRolloutCommand(
  handle: WorkflowHandle,
  json: boolean,
  { expected = 'Succeeded', waitDecisions = false }: { expected?: Result; waitDecisions?: boolean } = {},
): Promise<number> {
  const print = json ? err : out;
  const seen: Record<string, string> = {};
  const line = (r: RolloutRow) => `${r.environment.padEnd(24)} ${r.state.padEnd(17)} ${r.result ?? ''}`;
  const outcome = await followRollout(
    handle,
    (s) => {
      for (const r of s.environments) {
        const key = `${r.state} ${r.result ?? ''}`;
        if (seen[r.environment] !== key && (r.state !== 'Pending' || seen[r.environment])) print(line(r));
        seen[r.environment] = key;
      }
    },
    { waitDecisions },
  );
  if (outcome.kind === 'needsDecision') {
    const members = await Promise.all(
      outcome.awaiting.map(async (row) => ({ row, waiting: await waitingOperation(handle.client, row) })),
    );
    if (json) out(JSON.stringify(outcome.status, null, 2));
    else print(formatRollout(outcome.status));
    print(formatRolloutDecisions(outcome.status, members));
    return ExitCode.NeedsDecision;
  }
  if (json) out(JSON.stringify(outcome.result, null, 2));
  else print(formatRollout(outcome.result));
  return outcome.result.result === expected ? ExitCode.Ok : ExitCode.OperationFailed;
}

/** `maint status <rollout>`: 6 while an environment waits for a decision, 1 once it ended otherwise than Succeeded. */
export function rolloutStatusCode(s: RolloutStatus): number {
  if (s.environments.some((e) => e.state === 'AwaitingDecision')) return ExitCode.NeedsDecision;
  return s.result && s.result !== 'Succeeded' ? ExitCode.OperationFailed : ExitCode.Ok;
}

export function rolloutCommand(program: Command): void {
  const command = program
    .command('rollout')
    .description('Run one operation per environment over many, with concurrency and error limits')
    .addArgument(new Argument('<action>', 'enable, disable or window').choices(ROLLOUT_ACTIONS))
    .option('-t, --tag <tag>', 'every environment with this tag in temporal.yaml')
    .option('-e, --environments <names>', 'environments, comma-separated', listArg, [])
    .option(
      '--max-concurrency <n|p%>',
      'at most this many at once (a number or a % of the targets)',
      limitArg,
      1,
    )
    .option('--max-errors <n|p%>', 'start no new one once errors exceed this (a number or a %)', limitArg, 0)
    .addOption(
      new Option('--on-busy <policy>', 'a busy environment: skip it, or wait for it')
        .choices(BUSY_POLICIES)
        .default('skip'),
    )
    .option('-d, --duration <duration>', 'window: how long each stays open, ISO 8601 ("PT2H") or minutes')
    .option(
      '--cutoff <duration>',
      "window: start no environment in the last this-much of the rollout's window (its start plus --duration)",
    )
    .option(
      '--wait-decisions',
      'keep following while environments wait for decisions (by default it exits 6 once the rollout cannot go on without one)',
    );
  keyChangeOptions(command, 'window: ');
  startOptions(command, 'start the rollout and return at once').action(
    async (
      action: RolloutAction,
      opts: {
        tag?: string;
        environments: string[];
        maxConcurrency: Limit;
        maxErrors: Limit;
        onBusy: 'skip' | 'wait';
        duration?: string;
        cutoff?: string;
        waitDecisions?: boolean;
      } & KeyChangeOpts &
        StartOpts,
    ) => {
      const window = action === 'window';
      const input: RolloutInput = {
        action,
        ...(opts.tag !== undefined && { tag: opts.tag }),
        ...(opts.environments.length > 0 && { environments: opts.environments }),
        maxConcurrency: opts.maxConcurrency,
        maxErrors: opts.maxErrors,
        onBusy: opts.onBusy,
        requestedBy: opts.requestedBy,
        reason: opts.reason,
        ...(opts.duration !== undefined && { duration: durationArg(opts.duration) }),
        ...(opts.cutoff !== undefined && { cutoff: durationArg(opts.cutoff) }),
        ...((window || opts.enable.length + opts.disable.length > 0) && {
          changes: { enable: opts.enable, disable: opts.disable },
        }),
      };
      const checked = checkRollout(config(program), input);
      process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
        const target = { workflowId: rolloutWorkflowId(input), workflowType: ROLLOUT_WORKFLOW_TYPE };
        const signed = prepareStart(c, opts, target, input, rolloutTargets(c, checked));
        if (opts.printInput) return printStart(c, target, signed, !!opts.json);
        const handle = await startRollout(client, c, signed, target.workflowId);
        (opts.json ? err : out)(`Started rollout ${handle.workflowId} (${action}).`);
        if (!opts.wait) return started(handle, !!opts.json);
        return followRolloutCommand(handle, !!opts.json, { waitDecisions: opts.waitDecisions });
      });
    },
  );
}

export function pauseCommand(program: Command): void {
  const text = {
    description: `Pause a rollout: ${ROLLOUT_COMMAND_HELP.pause}`,
    target: 'the rollout workflow ID',
    by: 'who pauses it (default: your user name)',
  };
  // A paused rollout starts nothing until resumed: show where it stands instead of following it.
  answerCommand(program, 'pause', text, async (handle, json) => {
    const s = await handle.query(rolloutStatusQuery);
    if (json) out(JSON.stringify(s, null, 2));
    else out(formatRollout(s));
    return ExitCode.Ok;
  });
}
