import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import type { OperationStatus, WindowStatus } from '../../contract/operation';
import { endWindowUpdate, extendWindowUpdate } from '../../contract/window';
import { ExitCode, OperatorError, resolveOperation, startOperation } from '../operations';
import {
  durationArg,
  environmentArg,
  err,
  followOperation,
  keyChangeOptions,
  me,
  out,
  showPlan,
  dryRunOption,
  startOptions,
  started,
  withClient,
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
  startOptions(dryRunOption(window), 'return once started, not once the window is open').action(
    async (environment: string, opts: { duration: string } & KeyChangeOpts & StartOpts) => {
      process.exitCode = await withClient(program, environment, async ({ config: c, client }) => {
        const input = {
          environment,
          duration: durationArg(opts.duration),
          requestedBy: opts.requestedBy,
          reason: opts.reason,
          changes: { enable: opts.enable, disable: opts.disable },
        };
        if (planOnly || opts.dryRun) return showPlan(client, c, 'window', input, !!opts.json);
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
  program
    .command('end-window')
    .description('Close a maintenance window now (then it leaves maintenance mode, unless it found it on)')
    .argument('<target>', 'an environment (its open window) or a workflow ID')
    .option('-r, --reason <text>', 'why', '')
    .option('-u, --by <name>', 'who (default: your user name)', me())
    .action(async (target: string, opts: { reason: string; by: string }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target, 'window');
        const window = await windowUpdate(handle, endWindowUpdate, { by: opts.by, reason: opts.reason });
        const after = window.keepsMaintenanceOn
          ? 'maintenance mode stays on, as the window found it'
          : 'maintenance mode will be turned off';
        out(`${handle.workflowId}: the window is closing; ${after}.`);
      });
    });
}

export function extendWindowCommand(program: Command): void {
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
