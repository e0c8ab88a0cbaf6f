/**
 * A window booked ahead (`at`) and the cutoff of windows and rollouts: input fields, the booking's
 * status and the message that cancels it. Import-safe in workflow code.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { DecisionAck, DecisionInput } from './operation';

/** An instant with its offset: 2026-12-31T21:00:00Z, 2026-12-31T22:00+01:00. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Whether the runtime knows the IANA zone ("Europe/Berlin"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** When a booked window opens: an instant with its offset (the CLI turns `--at` local time and `--tz` into one). */
export const bookedAtSchema = z.string().refine((v) => INSTANT.test(v) && !Number.isNaN(Date.parse(v)), {
  message:
    'give the start with its offset, e.g. "2026-12-31T22:00+01:00" or "2026-12-31T21:00Z"; ' +
    '`maint window <env> --at 2026-12-31T22:00 --tz Europe/Berlin` computes it from a local time',
});

/** The zone the booking was made in (for people: listings and the calendar show the local start). */
export const timeZoneSchema = z.string().refine(isTimeZone, (zone) => ({
  message: `unknown time zone "${zone}": give an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"`,
}));

/**
 * Why a booking cannot be made at `nowMs`, or undefined: a start in the past. Checked at the start
 * (by the CLI and the workflow's first run), never by a run that continued as new.
 */
export function bookingRefusal(at: string | undefined, nowMs: number): string | undefined {
  if (at === undefined) return undefined;
  const startsAt = Date.parse(at);
  if (startsAt > nowMs) return undefined;
  return `at: ${at} is in the past (it is now ${new Date(nowMs).toISOString()}): give a later time, or leave out --at to open the window now`;
}

/** A booked window's state while it waits for its time (in the window's status). */
export interface BookingStatus {
  /** When it opens (UTC). */
  startsAt: string;
  /** When it closes if it opens on time (its start plus its duration). */
  endsAt?: string;
  /** The configuration keys it will turn on and off (for listings and the calendar). */
  changes?: { enable: string[]; disable: string[] };
  /** The zone it was booked in, and the local start there ("2026-12-31 22:00"). */
  timezone?: string;
  /** Still waiting for its time: false once it opened, or ended without opening. */
  waiting: boolean;
  /** Who cancelled it, when and why (it then ends Rejected, having changed nothing). */
  cancelled?: { by: string; reason: string; at: string; identity?: string; fingerprint?: string };
}

/** The latest time a window may still open: its slot's end minus the cutoff (undefined: no cutoff). */
export function openDeadline(slotStartMs: number, durationMs: number, cutoffMs?: number): number | undefined {
  return cutoffMs === undefined ? undefined : slotStartMs + durationMs - cutoffMs;
}

/** Cancels a booked window before it opens: an update (the CLI gets an answer or why not) and a signal (the Web UI). */
export const cancelBookingUpdate = defineUpdate<DecisionAck, [DecisionInput]>('cancelBooking');
export const cancelBookingSignal = defineSignal<[DecisionInput]>('cancelBooking');

/** The workflow ID of a booked window: one per environment and start, beside `window-<env>` of a window opened now. */
export function bookedWindowId(environment: string, startsAt: string): string {
  const compact = new Date(startsAt).toISOString().slice(0, 16).replace(/[-:]/g, '');
  return `window-${environment}-at-${compact}Z`;
}
