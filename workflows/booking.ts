import { ApplicationFailure, condition } from '@temporalio/workflow';
import { bookingRefusal, cancelBookingSignal, cancelBookingUpdate, openDeadline } from '../contract/booking';
import { ErrorType } from '../contract/errors';
import { describeDecision, type Decision } from '../contract/operation';
import { cutoffRefusal, formatDuration, type ValidWindowInput } from '../contract/window';
import type { ApprovalGate } from './approval';
import { setAnswerHandlers } from './answers';
import { inputRefusal } from './lifecycle';
import type { Operation, WaitCutoff } from './operation';

/**
 * A window booked ahead (`at`) and the cutoff of every window (`Patches.windowBooking`). The booking
 * waits on a durable timer in the window's own workflow rather than a Temporal start delay: the
 * workflow runs from the booking on, so it answers `status`, takes an approval in advance and a
 * `cancelBooking`, and the time-skipping test server skips the timer like any other. Until its time
 * it holds no lock and publishes no search attribute, so `maint status` still says the environment
 * is ready. At its time it reads its settings again and checks that an approval given in advance
 * still holds.
 */
export class WindowBooking {
  private cancel?: Decision;
  /** Why it ended without opening (cancelled, or its approval no longer holds): the history entry's detail. */
  ended?: string;
  private readonly startsAtMs?: number;

  /** Registers `cancelBooking`: call it before the workflow's first await. */
  constructor(
    private readonly op: Operation,
    private readonly input: ValidWindowInput,
    continued: boolean,
  ) {
    const { at, timezone } = input;
    this.startsAtMs = at === undefined ? undefined : Date.parse(at);
    if (this.startsAtMs !== undefined && !continued)
      op.status.booking = {
        startsAt: new Date(this.startsAtMs).toISOString(),
        endsAt: new Date(this.startsAtMs + input.duration).toISOString(),
        changes: input.changes,
        ...(timezone && { timezone }),
        waiting: true,
      };
    setAnswerHandlers({
      name: 'cancelBooking',
      update: cancelBookingUpdate,
      signal: cancelBookingSignal,
      description:
        'Cancel a window booked ahead, before its time: it ends Rejected, having changed nothing. Input: {"by": "your.name", "reason": "..."}',
      refusal: (payload) => inputRefusal(payload) ?? this.refusal() ?? this.unsigned(payload),
      apply: (payload) => {
        this.cancel = op.answerFrom('cancel', payload, null);
        const { by, reason, at, identity, fingerprint } = this.cancel;
        op.status.booking!.cancelled = { by, reason, at, identity, fingerprint };
        return {
          accepted: true as const,
          decision: this.cancel,
          message: 'booking cancelled: the window will not open',
        };
      },
      ignored: (message) => op.signalIgnored(message),
    });
  }

  private refusal(): string | undefined {
    const b = this.op.status.booking;
    if (!b) return 'this window was not booked ahead: end it with `maint end-window` instead';
    if (b.cancelled) return `it was cancelled already by ${b.cancelled.by}`;
    if (!b.waiting) return 'its time has come and it is opening: end it with `maint end-window` instead';
    return undefined;
  }

  private unsigned(payload: unknown): string | undefined {
    const signer = this.op.signerOf('cancelBooking', payload);
    return typeof signer === 'string' ? signer : undefined;
  }

  /** Still waiting for its time (a cancellation now ends it Rejected, having changed nothing). */
  get waiting(): boolean {
    return !!this.op.status.booking?.waiting;
  }

  /**
   * Checks a first run's input against the settings: a start in the past, a cutoff that leaves no
   * time to open. Throws InvalidInput, nothing changed.
   */
  check(cutoffMs: number | undefined): void {
    const past = bookingRefusal(this.input.at, Date.parse(this.op.status.startedAt));
    const why = past ?? cutoffRefusal(this.input.duration, cutoffMs);
    if (why)
      throw ApplicationFailure.nonRetryable(
        `Invalid input for maintenanceWindow: ${why}. Nothing was changed.`,
        ErrorType.InvalidInput,
      );
  }

  /**
   * Until its time: approval (on a protected environment) may come any time before the start, and a
   * request still unanswered at the start is Rejected; then the timer. At the start the settings are
   * read again and an approval given in advance must still hold. False: it ends without opening.
   */
  async admit(approval: ApprovalGate): Promise<boolean> {
    if (this.startsAtMs === undefined) return approval.pass(this.input);
    const { op } = this;
    const booking = op.status.booking!;
    op.setState('Booked');
    op.note(`booked: opens at ${booking.startsAt}${booking.timezone ? ` (${booking.timezone})` : ''}`);
    const stop = () => this.cancel;
    if (!(await approval.pass(this.input, { until: this.startsAtMs, stop }))) {
      booking.waiting = false;
      if (this.cancel) this.ended = this.cancelled();
      return false;
    }
    await condition(() => this.cancel !== undefined, Math.max(1, this.startsAtMs - Date.now()), {
      summary: `booked maintenance window opens at ${booking.startsAt}`,
    });
    booking.waiting = false;
    if (this.cancel) {
      op.recordDecision(this.cancel);
      this.ended = this.cancelled();
      op.setState('Rejected');
      return false;
    }
    await op.refreshSettings();
    const revoked = approval.noLongerHolds();
    if (revoked) {
      approval.revoke(revoked);
      this.ended = `refused at its start: ${revoked}; nothing was changed`;
      op.note(this.ended);
      return false;
    }
    op.note('its booked time has come: opening');
    op.setState('EnablingMaintenance');
    return true;
  }

  private cancelled(): string {
    const c = this.cancel!;
    return `booking cancelled before its time (${describeDecision(c)}${c.reason ? `: ${c.reason}` : ''}); nothing was changed`;
  }

  /**
   * The latest time the window may open: its slot (booked start, else its start, plus its duration)
   * minus the cutoff (the start's, else policies.windows.cutoff). Undefined: no cutoff.
   */
  deadline(cutoffMs: number | undefined): WaitCutoff | undefined {
    const slotStart = this.startsAtMs ?? Date.parse(this.op.status.startedAt);
    const atMs = openDeadline(slotStart, this.input.duration, cutoffMs);
    if (atMs === undefined) return undefined;
    const at = new Date(atMs).toISOString();
    return {
      atMs,
      refusal: (why) =>
        ApplicationFailure.nonRetryable(
          `The window did not open: its cutoff passed at ${at} (the last ${formatDuration(cutoffMs!)} of its slot). ` +
            `Nothing was changed. ${why}`.trim(),
          ErrorType.CutoffPassed,
        ),
    };
  }
}
