import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import { cancelBookingUpdate } from '../../contract/booking';
import type { OperationStatus } from '../../contract/operation';
import { cutoffRefusal, durationSchema, endWindowUpdate, extendWindowUpdate } from '../../contract/window';
import { bookedInstant, listBookings, localTimeZone } from '../bookings';
import { ExitCode, OperatorError, resolveOperation, startOperation, startTarget } from '../operations';
import { environmentFreezePeriods } from '../../config/freezes';
import type { LoadedConfig } from '../../config/load';
import { describeFreeze, freezeAt } from '../../contract/freeze';
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
    .requiredOption('-d, --duration <duration>', 'how long it stays open: ISO 8601 ("PT2H") or minutes')
    .option(
      '--at <time>',
      'book it ahead: it opens then (2026-12-31T22:00, local time in --tz; or with an offset)',
    )
    .option('--tz <zone>', "the time zone of --at, e.g. Europe/Berlin (default: this machine's)")
    .option(
      '--cutoff <duration>',
      'do not open in the last this-much of the window: ISO 8601 ("PT15M") or minutes',
    );
  keyChangeOptions(window);
  startOptions(
    freezeExceptionOption(dryRunOption(window)),
    'return once started, not once the window is open',
  ).action(
    async (
      environment: string,
      opts: WindowOpts & { freezeException?: string } & KeyChangeOpts & StartOpts,
    ) => {
      process.exitCode = await withClient(program, environment, async ({ config: c, client }) => {
        const booking = bookingOf(opts);
        const typed = {
          environment,
          duration: durationArg(opts.duration),
          requestedBy: opts.requestedBy,
          reason: opts.reason,
          changes: { enable: opts.enable, disable: opts.disable },
          ...booking,
          ...(opts.cutoff !== undefined && { cutoff: durationArg(opts.cutoff) }),
        };
        if (planOnly || opts.dryRun) return showPlan(client, c, 'window', typed, !!opts.json);
        refuseCutoff(typed.duration, typed.cutoff);
        if (booking.at && !opts.freezeException) refuseBookingIntoFreeze(c, environment, booking.at);
        const target = startTarget('window', environment, booking.at);
        const frozen = freezeExceptionInput(opts.freezeException);
        const input = prepareStart(c, opts, target, { ...typed, ...frozen }, [environment]);
        if (opts.printInput) return printStart(c, target, input, !!opts.json);
        const handle = await startOperation(client, c, 'window', input);
        const print = opts.json ? err : out;
        if (booking.at) {
          print(
            `Booked ${handle.workflowId}: a maintenance window on ${environment} opens at ${booking.at} ` +
              `(${opts.at} ${booking.timezone}). Cancel it with \`maint cancel-window ${handle.workflowId}\`.`,
          );
          return started(handle, !!opts.json);
        }
        print(`Started ${handle.workflowId} (maintenance window on ${environment}).`);
        if (!opts.wait) return started(handle, !!opts.json);
        const opened = (s: OperationStatus) => !!s.window?.endsAt;
        return followOperation(handle, { json: !!opts.json, until: opened, environment });
      });
    },
  );
}

interface WindowOpts {
  duration: string;
  at?: string;
  tz?: string;
  cutoff?: string;
}

/** `--at`/`--tz` as the window's `at` (UTC) and `timezone`; nothing without `--at`. */
function bookingOf(opts: WindowOpts): { at?: string; timezone?: string } {
  if (opts.at === undefined) {
    if (opts.tz !== undefined)
      throw new OperatorError('--tz goes with --at: give the time the window opens.', ExitCode.InvalidInput);
    return {};
  }
  const timezone = opts.tz ?? localTimeZone();
  return { at: bookedInstant(opts.at, timezone), timezone };
}

/** A cutoff the window could never open before (the workflow checks it too, with the configured default). */
function refuseCutoff(duration: string | number, cutoff: string | number | undefined): void {
  const d = durationSchema.safeParse(duration);
  const c = durationSchema.safeParse(cutoff);
  const why = d.success && c.success && cutoff !== undefined ? cutoffRefusal(d.data, c.data) : undefined;
  if (why) throw new OperatorError(`--cutoff: ${why}.`, ExitCode.InvalidInput);
}

/**
 * A window booked into a change freeze would be refused at its time: say so now (exit 4, nothing
 * booked). The workflow decides at its time with the freezes then configured; this is early word.
 */
function refuseBookingIntoFreeze(c: LoadedConfig, environment: string, at: string): void {
  const atMs = Date.parse(at);
  const period = freezeAt(
    environmentFreezePeriods(c.freezes, c.environments, environment, atMs, atMs + 1),
    atMs,
  );
  if (period)
    throw new OperatorError(
      `The window was not booked: at ${at} ${environment} is in the ${describeFreeze(period)}. Nothing was changed. ` +
        `Book it outside the freeze, or have an approver grant an exception (\`maint freeze except\`) and pass --freeze-exception.`,
      ExitCode.Conflict,
    );
}

/** `maint cancel-window <env or id>`: a window booked ahead does not open; it ends Rejected, having changed nothing. */
export function cancelWindowCommand(program: Command): void {
  const command = program
    .command('cancel-window')
    .description('Cancel a window booked ahead (--at) before its time; it changes nothing')
    .argument('<target>', "an environment (its one booked window) or the booked window's workflow ID")
    .option('-r, --reason <text>', 'why', '')
    .option('-u, --by <name>', 'who (default: your user name)', me());
  answerOptions(command).action(async (target: string, opts: AnswerOpts) => {
    process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
      const handle = c.environments[target]
        ? await bookedWindowOf(client, target)
        : await resolveOperation(client, c, target, 'window');
      const typed = { by: opts.by, reason: opts.reason };
      const payload = await preparedAnswer(c, handle, 'cancelBooking', typed, opts.key);
      if (opts.printSignal) return printSignal(handle, 'cancelBooking', payload, false);
      await windowUpdate(handle, cancelBookingUpdate, payload);
      out(`${handle.workflowId}: booking cancelled; the window will not open.`);
      return ExitCode.Ok;
    });
  });
}

/** The one window booked ahead on an environment (several: the operator names one by its ID). */
async function bookedWindowOf(client: Client, environment: string): Promise<WorkflowHandle> {
  const booked = (await listBookings(client)).filter((b) => b.environment === environment);
  if (booked.length === 0)
    throw new OperatorError(
      `No window is booked ahead on ${environment} (see \`maint schedule list\`).`,
      ExitCode.NotFound,
    );
  if (booked.length > 1)
    throw new OperatorError(
      `${booked.length} windows are booked on ${environment}: name one by its ID: ${booked.map((b) => b.workflowId).join(', ')}.`,
      ExitCode.InvalidInput,
    );
  return client.workflow.getHandle(booked[0].workflowId);
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
async function windowUpdate<A, R>(
  handle: WorkflowHandle,
  update: UpdateDefinition<R, [A]>,
  input: A,
): Promise<R> {
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
