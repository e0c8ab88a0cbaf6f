import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import type { OperationStatus, WindowStatus } from '../../contract/operation';
import { endWindowUpdate, extendWindowUpdate } from '../../contract/window';
import { ExitCode, OperatorError, resolveOperation, startOperation, startTarget } from '../operations';
import { freezeExceptionInput, freezeExceptionOption } from './freezes';
import {
  answerOptions,
  durationArg,
  environmentArg,
  err,
  followOperation,
  keyChangeOptions,
  me,
  out,
  preparedAnswer,
  prepareStart,
  printSignal,
  printStart,
  showPlan,
  dryRunOption,
  startOptions,
  started,
  withClient,
  type AnswerOpts,
  type KeyChangeOpts,
  type StartOpts,
} from './shared';

/** Commands for maintenance windows: window, end-window, extend-window. */

/** `maint window`, and `maint plan window` (under `parent`) that only plans. */
export function windowCommand(program: Command, parent = program): void {
  const planOnly = parent !== program;
  const window = parent
    .command('window')
    .description('Open a maintenance window: enable, apply configuration-key changes, wait, disable')
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .requiredOption('-d, --duration <duration>', 'how long it stays open: ISO 8601 ("PT2H") or minutes');
  keyChangeOptions(window);
  startOptions(
    freezeExceptionOption(dryRunOption(window)),
    'return once started, not once the window is open',
  ).action(
    async (
      environment: string,
      opts: { duration: string; freezeException?: string } & KeyChangeOpts & StartOpts,
    ) => {
      process.exitCode = await withClient(program, environment, async ({ config: c, client }) => {
        const typed = {
          environment,
          duration: durationArg(opts.duration),
          requestedBy: opts.requestedBy,
          reason: opts.reason,
          changes: { enable: opts.enable, disable: opts.disable },
        };
        if (planOnly || opts.dryRun) return showPlan(client, c, 'window', typed, !!opts.json);
        const target = startTarget('window', environment);
        const frozen = freezeExceptionInput(opts.freezeException);
        const input = prepareStart(c, opts, target, { ...typed, ...frozen }, [environment]);
        if (opts.printInput) return printStart(c, target, input, !!opts.json);
        const handle = await startOperation(client, c, 'window', input);
        const print = opts.json ? err : out;
        print(`Started ${handle.workflowId} (maintenance window on ${environment}).`);
        if (!opts.wait) return started(handle, !!opts.json);
        const opened = (s: OperationStatus) => !!s.window?.endsAt;
        return followOperation(handle, { json: !!opts.json, until: opened, environment });
      });
    },
  );
}

export function endWindowCommand(program: Command): void {
  const command = program
    .command('end-window')
    .description('Close a maintenance window now (then it leaves maintenance mode, unless it found it on)')
    .argument('<target>', 'an environment (its open window) or a workflow ID')
    .option('-r, --reason <text>', 'why', '')
    .option('-u, --by <name>', 'who (default: your user name)', me());
  answerOptions(command).action(async (target: string, opts: AnswerOpts) => {
    process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
      const handle = await resolveOperation(client, c, target, 'window');
      const payload = await preparedAnswer(
        c,
        handle,
        'endWindow',
        { by: opts.by, reason: opts.reason },
        opts.key,
      );
      if (opts.printSignal) return printSignal(handle, 'endWindow', payload, false);
      const window = await windowUpdate(handle, endWindowUpdate, payload);
      const after = window.keepsMaintenanceOn
        ? 'maintenance mode stays on, as the window found it'
        : 'maintenance mode will be turned off';
      out(`${handle.workflowId}: the window is closing; ${after}.`);
      return ExitCode.Ok;
    });
  });
}

export function extendWindowCommand(program: Command): void {
  const command = program
    .command('extend-window')
    .description('Keep a maintenance window open longer (up to the configured maximum)')
    .argument('<target>', 'an environment (its open window) or a workflow ID')
    .requiredOption('-d, --duration <duration>', 'how much longer: ISO 8601 ("PT1H") or minutes')
    .option('-r, --reason <text>', 'why', '')
    .option('-u, --by <name>', 'who (default: your user name)', me());
  answerOptions(command).action(async (target: string, opts: AnswerOpts & { duration: string }) => {
    process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
      const handle = await resolveOperation(client, c, target, 'window');
      const typed = { by: opts.by, reason: opts.reason, duration: durationArg(opts.duration) };
      const payload = await preparedAnswer(c, handle, 'extendWindow', typed, opts.key);
      if (opts.printSignal) return printSignal(handle, 'extendWindow', payload, false);
      const window = await windowUpdate(handle, extendWindowUpdate, payload);
      out(`${handle.workflowId}: the window now closes at ${window.endsAt}.`);
      return ExitCode.Ok;
    });
  });
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
