import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  log,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../contract/errors';
import { EVENT_TYPES } from '../contract/events';
import {
  WINDOW_EXACT_ROLLBACK_STEPS,
  WINDOW_ROLLBACK_STEPS,
  WINDOW_STEPS,
  WORKFLOW_TYPES,
  decisionInputSchema,
  type EnvironmentSnapshot,
  type KeyChange,
  type OperationState,
  type Result,
  type ServicingResult,
  type WindowStatus,
} from '../contract/operation';
import { isInTargetMode, type OperationPlan } from '../contract/plan';
import { ROLLOUT_MEMO } from '../contract/rollout';
import {
  EXAMPLE_WINDOW_INPUT,
  childInput,
  endWindowSignal,
  endWindowUpdate,
  extendWindowInputSchema,
  extendWindowSignal,
  extendWindowUpdate,
  formatDuration,
  windowInputSchema,
  type WindowContinuation,
  type WindowInput,
  type WindowResult,
} from '../contract/window';
import { ApprovalGate } from './approval';
import { FreezeGuard } from './freeze';
import { WindowBooking } from './booking';
import { setAnswerHandlers } from './answers';
import { callerIdentity } from './caller';
import { Operation, RollbackRequested, Stop, causeOf, refusedUnlessAdmitted, stopped } from './operation';
import { dryRun } from './plan';
import { inputRefusal, parseWorkflowInput } from './lifecycle';
import { restoreSnapshot } from './restore';
import { rolloutOf } from './rollout-report';
import { Patches, now } from './settings';
import { hasPatch } from './shape';
import type { disableMaintenanceMode, enableMaintenanceMode } from './index';

/**
 * How a child servicing operation ended, in the window's terms. An enable refused by a before hook
 * refuses the window (`Rejected`, nothing changed), with the child's summary (where it left things).
 */
function childOutcome(
  err: unknown,
  action: 'enable' | 'disable',
): { result: Result; message: string; type?: string; refused?: ServicingResult } {
  if (!(err instanceof ChildWorkflowFailure)) throw err;
  const { error } = causeOf(err);
  if (action === 'enable' && error.type === ErrorType.HookRefused && err.cause instanceof ApplicationFailure)
    return {
      result: 'Rejected',
      message: error.message,
      type: error.type,
      refused: err.cause.details?.[0] as ServicingResult,
    };
  const result = error.type === ErrorType.OperationAborted ? 'Aborted' : 'Failed';
  return { result, message: error.message, type: error.type };
}

/**
 * A maintenance window: check the keys, enable maintenance mode (a child operation), apply the
 * configuration-key changes, keep the window open on a durable timer (operators can end it early or
 * extend it), then disable maintenance mode (a child operation) unless it was already on when the
 * window opened. The window holds the environment's servicing lock from start to end; its children
 * share it. A failed key change waits for resume, rollback (the keys, the flag and the AOS exactly as
 * the window found them) or abort, like any operation. An open window whose history grows long
 * continues as new, carrying its state and lock.
 */
export async function maintenanceWindow(raw: WindowInput & { dryRun: true }): Promise<OperationPlan>;
export async function maintenanceWindow(raw: unknown): Promise<WindowResult>;
export async function maintenanceWindow(raw: unknown): Promise<WindowResult | OperationPlan> {
  const input = parseWorkflowInput(windowInputSchema, raw, {
    workflowType: WORKFLOW_TYPES.window,
    example: EXAMPLE_WINDOW_INPUT,
  });
  const { environment, continued } = input;
  // Only the window's own continue-as-new carries its state on: typed into a start, it would skip the
  // approval and the lock. The patch is checked only for such a start, so other runs keep their shape.
  if (
    continued &&
    !workflowInfo().continuedFromExecutionRunId &&
    hasPatch(Patches.windowVerifiesContinuation)
  ) {
    throw ApplicationFailure.nonRetryable(
      'Invalid input for maintenanceWindow: "continued" is written by a window for its own next run when it ' +
        'continues as new, and is never accepted on a start. Remove it. Nothing was changed.',
      ErrorType.InvalidInput,
    );
  }
  if (input.dryRun) {
    const { requestedBy, duration, changes } = input;
    return dryRun({ environment, action: 'window', requestedBy, duration, changes });
  }
  const workflowId = workflowInfo().workflowId;
  // Patches are checked before the first await (see Operation): never right after a local activity.
  const keepsFound = hasPatch(Patches.windowKeepsFoundState);
  let enabled = !!continued;
  /** The environment as the window found it. */
  let found: EnvironmentSnapshot | undefined = continued?.found;
  const op = new Operation({
    kind: 'window',
    environment,
    requestedBy: input.requestedBy,
    reason: input.reason,
    title: `Maintenance window on ${environment}`,
    initialState: 'EnablingMaintenance',
    forwardSteps: WINDOW_STEPS,
    rollbackSteps: keepsFound ? WINDOW_EXACT_ROLLBACK_STEPS : WINDOW_ROLLBACK_STEPS,
    canRollback: () => enabled,
  });
  const { status, record } = op;
  const approval = new ApprovalGate(op);
  const queues = hasPatch(Patches.lockQueue); // after the Operation's own, in the order runs recorded them
  /** An end requested during the hand-over to the next run is carried; the next run re-takes its lock. */
  const carriesEnd = hasPatch(Patches.windowCarriesEnd);
  /** Maintenance stays on after the window when the flag it found was on (`Patches.windowKeepsFlag`). */
  const keepsFlag = hasPatch(Patches.windowKeepsFlag);
  const freeze = new FreezeGuard(op, input.freezeException);
  /** Booked ahead and cut off (`Patches.windowBooking`); windows of earlier releases have neither. */
  const booking = hasPatch(Patches.windowBooking) ? new WindowBooking(op, input, !!continued) : undefined;
  const rollout = rolloutOf();
  const window: WindowStatus = continued?.status.window ?? { changes: [], extensions: [] };
  status.window = window;
  const summary: string[] = continued?.summary ?? [];
  const say = (line: string) => {
    summary.push(`${now()} ${line}`);
    op.note(line);
  };

  // Ending and extending the window: updates (answer or refusal) and signals (Web UI) of the same names.
  let endRequested = carriesEnd && !!window.endedEarly;
  /** This run has taken over from the previous one (a run that continued as new: only once it has). */
  let takenOver = !continued;
  const notOpen = () =>
    carriesEnd && !takenOver
      ? 'the window is handing over to its next run: try again in a moment'
      : status.step !== 'window' || window.closedAt || endRequested
        ? 'the window is not open'
        : undefined;
  /** On a protected environment, why an answer's signature is refused (undefined: it is fine, or not needed). */
  const unsigned = (answer: string, payload: unknown) => {
    const signer = op.signerOf(answer, payload);
    return typeof signer === 'string' ? signer : undefined;
  };
  const extensionRefusal = (payload: unknown): string | undefined => {
    const parsed = extendWindowInputSchema.safeParse(payload);
    if (!parsed.success) return `invalid input: ${parsed.error.issues.map((i) => i.message).join('; ')}`;
    const closed = notOpen() ?? unsigned('extendWindow', payload);
    if (closed) return closed;
    const most = op.settings.windows.maximumExtensions;
    if (most !== undefined && window.extensions.length >= most)
      return `it was extended ${window.extensions.length} times, the most allowed (policies.windows.maximumExtensions); end it and open a new one if more time is needed`;
    const until = Date.parse(window.endsAt!) + parsed.data.duration;
    if (until > Date.parse(window.latestEndsAt!)) {
      return `it would close at ${new Date(until).toISOString()}, past the latest allowed ${window.latestEndsAt} (maximum ${formatDuration(op.settings.windows.maximumDurationMs)})`;
    }
    return freeze.extensionRefusal(Date.parse(window.endsAt!), until);
  };
  const extend = (payload: unknown) => {
    const { by, reason, duration } = extendWindowInputSchema.parse(payload);
    window.endsAt = new Date(Date.parse(window.endsAt!) + duration).toISOString();
    const sender = caller('extendWindow', payload, by);
    window.extensions.push({ duration: formatDuration(duration), reason, at: now(), ...sender });
    say(
      `window extended by ${formatDuration(duration)} by ${sender.by}${clientOf(sender)}${reason ? ` (${reason})` : ''}: closes at ${window.endsAt}`,
    );
    return window;
  };
  const end = (payload: unknown) => {
    const { by, reason } = decisionInputSchema.parse(payload);
    endRequested = true;
    const sender = caller('endWindow', payload, by);
    window.endedEarly = { reason, at: now(), ...sender };
    say(`window ended early by ${sender.by}${clientOf(sender)}${reason ? ` (${reason})` : ''}`);
    return window;
  };
  /** Who sent an accepted answer: the signer where signed, else the typed `by` and the client identity. */
  const caller = (answer: string, payload: unknown, by: string) => {
    const signer = op.answered(answer, payload);
    if (signer) return { by: signer.person, fingerprint: signer.fingerprint };
    const identity = callerIdentity();
    return { by, ...(identity && { identity }) };
  };
  const endRefusal = (payload: unknown) =>
    inputRefusal(payload) ?? notOpen() ?? unsigned('endWindow', payload);
  const ignored = (message: string) => op.signalIgnored(message);
  setAnswerHandlers({
    name: 'extendWindow',
    update: extendWindowUpdate,
    signal: extendWindowSignal,
    description:
      'Keep the window open longer. Input: {"by": "your.name", "duration": "PT1H", "reason": "..."}; on a protected environment, signed: paste what `maint extend-window <workflow id> -d PT1H --print-signal` prints',
    refusal: extensionRefusal,
    apply: extend,
    ignored,
  });
  setAnswerHandlers({
    name: 'endWindow',
    update: endWindowUpdate,
    signal: endWindowSignal,
    description:
      'Close the window now. Input: {"by": "your.name", "reason": "..."}; on a protected environment, signed: paste what `maint end-window <workflow id> --print-signal` prints',
    refusal: endRefusal,
    apply: end,
    ignored,
  });

  await op.init();
  if (continued) op.continueFrom(continued);
  else await refusedUnlessAdmitted(op, () => approval.admit(raw));
  // A window booked ahead is checked at its time (preflight, with the settings read again then).
  if (!continued && !booking?.waiting) await freeze.refuseIfFrozen();
  takenOver = true;
  const { maximumDurationMs, busyTimeoutMs, busyPollIntervalMs } = op.settings.windows;
  // A window waits for a busy environment unless told to skip it (a rollout with onBusy skip).
  const waitsIfBusy = input.onBusy !== 'skip';
  if (!continued && input.duration > maximumDurationMs) {
    throw ApplicationFailure.nonRetryable(
      `Invalid input for maintenanceWindow: duration ${formatDuration(input.duration)} is longer than the maximum of ` +
        `${formatDuration(maximumDurationMs)} (policies.windows.maximumDuration). Nothing was changed.`,
      ErrorType.InvalidInput,
    );
  }
  /** The start's cutoff, else the configured one (policies.windows.cutoff) where the window is longer than it. */
  const configuredCutoff = op.settings.windows.cutoffMs;
  const cutoffMs =
    input.cutoff ??
    (configuredCutoff !== undefined && configuredCutoff < input.duration ? configuredCutoff : undefined);
  if (!continued) booking?.check(cutoffMs);
  if (!continued) op.events.started();
  log.info('Maintenance window started', { environment, duration: input.duration });

  const keysBefore: Record<string, boolean> = { ...continued?.keysBefore };
  const wanted: Record<string, boolean> = Object.fromEntries([
    ...input.changes.enable.map((k) => [k, true] as const),
    ...input.changes.disable.map((k) => [k, false] as const),
  ]);

  /** Before anything changes: every key the window names exists on the environment. */
  const checkKeys = async () => {
    const names = Object.keys(wanted);
    if (!keepsFound || names.length === 0) return;
    try {
      await op.withRetries('preflight', 'check the configuration keys', () =>
        op.act.readConfigurationKeys({ environment, names }),
      );
    } catch (err) {
      const { error } = causeOf(err);
      if (error.type !== ErrorType.UnknownConfigurationKey) throw err;
      throw ApplicationFailure.nonRetryable(
        `The window did not open: ${error.message} Nothing was changed. Correct the key and start the window again.`,
        ErrorType.UnknownConfigurationKey,
      );
    }
  };

  /** Queues at the environment entity while another operation holds it, up to the configured time. */
  const takeLock = async () => {
    if (!queues) return pollForLock();
    return op.step(
      'preflight',
      async () => {
        // Again after approval: a freeze may have begun while the window waited.
        const frozen = freeze.refusal();
        if (frozen) throw frozen;
        await checkKeys();
        const cutoff = booking?.deadline(cutoffMs);
        if (cutoff && Date.now() >= cutoff.atMs) throw cutoff.refusal('');
        await op.lockOrQueue('preflight', waitsIfBusy, cutoff);
      },
      () => (Object.keys(wanted).length > 0 && keepsFound ? 'keys checked, lock taken' : 'lock taken'),
    );
  };
  /** The first release's way, kept for the windows it started: ask again every busyPollInterval. */
  const pollForLock = async () => {
    const giveUpAt = Date.now() + busyTimeoutMs;
    for (;;) {
      try {
        return await op.step(
          'preflight',
          () => op.takeLock('preflight'),
          () => 'lock taken',
        );
      } catch (err) {
        const busy = err instanceof ApplicationFailure && err.type === ErrorType.EnvironmentBusy;
        if (!busy) throw err;
        if (Date.now() >= giveUpAt) throw op.busyRefusal(`Last refusal: ${err.message}`);
        op.note(`waiting for ${environment} to be free: ${err.message}`);
        await sleep(Math.min(busyPollIntervalMs, giveUpAt - Date.now()));
      }
    }
  };

  /** The enable child refused by its before hook (the window is refused too). */
  let vetoed: { message: string } | undefined;
  /** Runs a child servicing operation; an outcome other than Succeeded ends the window with it. */
  const child = async (action: 'enable' | 'disable'): Promise<{ result: Result; done?: ServicingResult }> => {
    record.startStep(action);
    op.publish();
    try {
      const r: ServicingResult = await executeChild<
        typeof enableMaintenanceMode | typeof disableMaintenanceMode
      >(WORKFLOW_TYPES[action], {
        workflowId: `${workflowId}-${action}${status.phase === 'rollback' ? '-rollback' : ''}`,
        args: [childInput(input)],
        // Inside a rollout, the children report to it too (their decisions count there at once).
        ...(rollout && { memo: { [ROLLOUT_MEMO]: rollout } }),
        staticSummary: `${action === 'enable' ? 'Enable' : 'Disable'} maintenance mode on ${environment} (window ${workflowId})`,
      });
      if (r.result === 'Succeeded') {
        record.succeedStep(
          action,
          r.alreadyInMode ? 'already in the requested mode' : `${r.operationId}: ${r.result}`,
        );
        op.publish();
        return { result: 'Succeeded', done: r };
      }
      record.failStep(action, { message: `${r.operationId} ended ${r.result}`, type: r.result });
      return { result: r.result, done: r };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const outcome = childOutcome(err, action);
      record.failStep(action, { message: outcome.message, type: outcome.type });
      if (outcome.refused) vetoed = outcome;
      return { result: outcome.result, done: outcome.refused };
    }
  };

  const applyChanges = async () => {
    if (Object.keys(wanted).length === 0)
      return record.skipStep('applyChanges', 'no configuration key changes');
    await op.step(
      'applyChanges',
      async () => {
        if (Object.keys(keysBefore).length === 0) {
          Object.assign(
            keysBefore,
            await op.withRetries('applyChanges', 'read the configuration keys', () =>
              op.act.readConfigurationKeys({ environment, names: Object.keys(wanted) }),
            ),
          );
        }
        return op.withRetries('applyChanges', 'set the configuration keys', () =>
          op.act.setConfigurationKeys({ environment, values: wanted }),
        );
      },
      () => describeChanges(changesFrom(keysBefore, wanted)),
    );
    window.changes = changesFrom(keysBefore, wanted);
    say(`configuration keys changed: ${describeChanges(window.changes)}`);
  };

  /** Up to the open window: the lock, maintenance mode on, the key changes. */
  const open = async (): Promise<Result> => {
    await takeLock();
    const enabling = await child('enable');
    // Also from an enable that rolled back: where it left the environment is where the window found it.
    if (keepsFlag) found = enabling.done?.before;
    if (enabling.result !== 'Succeeded') return enabling.result;
    enabled = true;
    found = enabling.done?.before;
    if (keepsFound)
      window.keepsMaintenanceOn = keepsFlag ? found?.configurationMode === 1 : !!enabling.done?.alreadyInMode;
    op.setState('InMaintenance');
    say(
      window.keepsMaintenanceOn
        ? 'maintenance mode was already on: it stays on after the window'
        : 'maintenance mode on',
    );
    await applyChanges();
    record.startStep('window');
    window.openedAt = now();
    window.endsAt = new Date(Date.now() + input.duration).toISOString();
    window.latestEndsAt = new Date(Date.now() + maximumDurationMs).toISOString();
    op.publish();
    say(`window open until ${window.endsAt}`);
    op.events.window(EVENT_TYPES.windowOpened);
    return 'Succeeded';
  };

  /** Long enough that this run should hand over to a new one (never in windows of earlier releases). */
  const historyFull = () => {
    const info = workflowInfo();
    return (
      keepsFound &&
      (info.continueAsNewSuggested || info.historyLength >= op.settings.environment.continueAsNewAfterEvents)
    );
  };

  /**
   * The window stays open in a new run: same workflow, same lock (same lineage), same state. An end
   * requested while the events settle is honoured here instead (the window closes in this run).
   */
  const continueOpen = async (): Promise<void> => {
    await op.events.settle();
    await op.handlersFinished();
    if (carriesEnd && endRequested) return;
    op.note(
      `history has ${workflowInfo().historyLength} events: continuing as new, still open until ${window.endsAt}`,
    );
    const carried: WindowContinuation = {
      status,
      log: record.log,
      keysBefore,
      found: found!,
      summary,
    };
    await continueAsNew<typeof maintenanceWindow>({ ...(raw as object), continued: carried });
  };

  /**
   * A run that continued as new checks that the entity still knows the lock as this window's (same
   * lineage): otherwise another operation may be at work, and this window must not touch the environment.
   */
  const retakeLock = async () => {
    if (!carriesEnd) return;
    try {
      await op.takeLock('window');
    } catch (err) {
      const { error } = causeOf(err);
      if (error.type !== ErrorType.EnvironmentBusy) throw err;
      say(
        `the servicing lock is no longer this window's: ${error.message} The window ends without changing anything more.`,
      );
      throw new Stop('Failed');
    }
  };

  const keepOpen = async () => {
    while (!endRequested && Date.now() < Date.parse(window.endsAt!)) {
      const target = window.endsAt!;
      await condition(
        () => endRequested || window.endsAt !== target || historyFull(),
        Date.parse(target) - Date.now(),
        { summary: `maintenance window open until ${target}` },
      );
      if (!endRequested && historyFull()) await continueOpen();
    }
  };

  const forward = async (): Promise<Result> => {
    if (!continued) {
      const opened = await open();
      if (opened !== 'Succeeded') return opened;
    } else await retakeLock();
    await keepOpen();
    window.closedAt = now();
    op.events.window(EVENT_TYPES.windowClosing);
    record.succeedStep(
      'window',
      window.endedEarly ? `ended early by ${window.endedEarly.by}` : `closed at ${window.closedAt}`,
    );
    if (window.keepsMaintenanceOn) {
      record.skipStep('disable', 'maintenance mode was on when the window opened: it stays on');
      say('maintenance mode stays on, as the window found it');
      return 'Succeeded';
    }
    op.setState('DisablingMaintenance');
    const disabled = await child('disable');
    if (disabled.result === 'Succeeded') say('maintenance mode off');
    return disabled.result;
  };

  const restoreKeys = async () => {
    if (Object.keys(keysBefore).length === 0)
      return record.skipStep('restoreKeys', 'no key was read or changed');
    await op.step(
      'restoreKeys',
      () =>
        op.withRetries('restoreKeys', 'restore the configuration keys', () =>
          op.act.setConfigurationKeys({ environment, values: keysBefore }),
        ),
      (r) => (r.changes.length > 0 ? describeChanges(r.changes) : 'nothing to restore'),
    );
    say(
      `configuration keys restored: ${Object.entries(keysBefore)
        .map(([k, v]) => `${k}=${v ? 'on' : 'off'}`)
        .join(', ')}`,
    );
  };

  const rollback = async (): Promise<Result> => {
    op.beginRollback();
    await restoreKeys();
    if (keepsFound && found) {
      const changed = !window.keepsMaintenanceOn;
      // By the flag: restore it unless it stays on; the AOS if the enable changed them.
      const aos = keepsFlag ? !isInTargetMode('enable', found) : changed;
      await restoreSnapshot(op, found, { flag: changed, aos });
      say(`back as the window found it: maintenance mode ${found.configurationMode === 1 ? 'on' : 'off'}`);
      return 'RolledBack';
    }
    const disabled = await child('disable');
    return disabled.result === 'Succeeded' ? 'RolledBack' : disabled.result;
  };

  /** Where the environment is now: as the window found it after a rollback or a close that kept it on. */
  const finalState = (result: Result): OperationState => {
    if (result === 'Rejected' && vetoed) return found?.configurationMode === 1 ? 'InMaintenance' : 'Deployed';
    if (result === 'Rejected') return 'Rejected';
    if (result !== 'Succeeded' && result !== 'RolledBack') return 'Failed';
    const keptOn =
      result === 'Succeeded' ? window.keepsMaintenanceOn : keepsFound && found?.configurationMode === 1;
    return keptOn ? 'InMaintenance' : 'Deployed';
  };

  let result: Result;
  try {
    try {
      const admitted = booking ? () => booking.admit(approval) : () => approval.pass(input);
      result = continued || (await admitted()) ? await forward() : 'Rejected';
    } catch (err) {
      if (err instanceof RollbackRequested) result = await rollback().catch(stopped);
      else result = stopped(err);
    }
    const detail =
      result === 'Rejected'
        ? (vetoed?.message ?? booking?.ended ?? approval.describe())
        : describeChanges(window.changes);
    await op.finish(result, finalState(result), detail);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(async () => {
      op.recordCancellation();
      if (booking?.waiting)
        await op.finish(
          'Rejected',
          'Rejected',
          'booking cancelled (workflow cancelled); nothing was changed',
        );
      else if (approval.undecided) await op.finish('Rejected', 'Rejected', approval.describe());
      else await op.finish('Aborted', 'Failed', describeChanges(window.changes));
    });
    throw err;
  }

  await op.handlersFinished();
  log.info('Maintenance window finished', { environment, result });
  const outcome: WindowResult = {
    operationId: status.operationId,
    environment,
    result,
    startedAt: status.startedAt,
    finishedAt: status.finishedAt!,
    window,
    changes: window.changes,
    steps: status.steps,
    decisions: status.decisions,
    summary,
  };
  if (result === 'Aborted' || result === 'Failed') throw op.ended(result, outcome);
  // The enable's before hook refused it: the window is refused as well, nothing changed.
  if (vetoed)
    throw ApplicationFailure.create({
      message: `The window did not open: ${vetoed.message}`,
      type: ErrorType.HookRefused,
      nonRetryable: true,
      details: [outcome],
    });
  return outcome;
}

/** How the log names the sender: the signing key, or the client identity it gave (`unknown` when none). */
const clientOf = ({ identity, fingerprint }: { identity?: string; fingerprint?: string }) =>
  fingerprint ? ` (signed, key ${fingerprint})` : ` (client ${identity ?? 'unknown'})`;

function changesFrom(before: Record<string, boolean>, wanted: Record<string, boolean>): KeyChange[] {
  return Object.entries(wanted)
    .filter(([name, to]) => before[name] !== to)
    .map(([name, to]) => ({ name, from: before[name], to }));
}

function describeChanges(changes: KeyChange[]): string {
  return changes.map((c) => `${c.name} ${c.to ? 'enabled' : 'disabled'}`).join(', ');
}
