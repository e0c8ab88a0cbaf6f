/** The maintenance window's contract: input, messages, result. Import-safe in workflow code. */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import {
  decisionInputSchema,
  environmentSnapshotSchema,
  servicingInputSchema,
  type Decision,
  type KeyChange,
  type OperationLog,
  type OperationStatus,
  type Result,
  type ServicingInput,
  type StepRecord,
  type WindowStatus,
} from './operation';
import { bookedAtSchema, timeZoneSchema } from './booking';
import { matches } from './validation';

const ISO_DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Milliseconds of an ISO 8601 duration ("PT2H", "P1DT30M"), or undefined if it is not one. */
export function parseIsoDuration(text: string): number | undefined {
  const m = ISO_DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  return ((((w * 7 + d) * 24 + h) * 60 + min) * 60 + s) * 1000;
}

/** "2h 30m", for people. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  const minutes = Math.round(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d && `${d}d`, h && `${h}h`, (m || minutes === 0) && `${m}m`].filter(Boolean).join(' ');
}

/** Why a cutoff leaves a window no time to open (undefined: it leaves some). */
export function cutoffRefusal(durationMs: number, cutoffMs: number | undefined): string | undefined {
  if (cutoffMs === undefined || cutoffMs < durationMs) return undefined;
  return `cutoff ${formatDuration(cutoffMs)} is not shorter than the duration ${formatDuration(durationMs)}: give a shorter cutoff or a longer window`;
}

const DURATION_HINT = 'give an ISO 8601 duration such as "PT2H" or "PT90M", or a number of minutes';

/** An ISO 8601 duration or a whole number of minutes, as milliseconds. */
export const durationSchema = z
  .union([z.number().int().positive().max(525_600), z.string()], {
    errorMap: () => ({ message: DURATION_HINT }),
  })
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * 60_000 : parseIsoDuration(v);
    if (!ms) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a duration: ${DURATION_HINT}` });
      return z.NEVER;
    }
    return ms;
  });

const keyName = z
  .string()
  .refine(matches(/^[A-Za-z][A-Za-z0-9_]{0,80}$/), 'configuration key names are letters, digits and _');

const isObject = (v: unknown) => typeof v === 'object' && v !== null;

/**
 * What an open window hands to its next run when it continues as new (its history grew long). The
 * workflow writes it for itself; people never type it.
 */
export const windowContinuationSchema = z
  .object({
    status: z.custom<OperationStatus>(isObject, "the previous run's status"),
    log: z.custom<OperationLog>(isObject, "the previous run's log"),
    /** The keys as they were before the window changed them. */
    keysBefore: z.record(z.boolean()),
    /** The environment as the window found it (the enable child's snapshot). */
    found: environmentSnapshotSchema,
    summary: z.array(z.string()),
  })
  .strict();
export type WindowContinuation = z.infer<typeof windowContinuationSchema>;

/** A servicing operation's input plus how long the window stays open and the key changes. */
export const windowInputSchema = servicingInputSchema.extend({
  continued: windowContinuationSchema.optional(),
  /**
   * A schedule's standing approval on a protected environment. Honoured only when it matches a
   * schedule declared in the worker's temporal.yaml; typed by hand it approves nothing.
   */
  approvedBy: z.string().trim().min(1).max(100).optional(),
  duration: durationSchema,
  /** Booked ahead: the window waits until then (an instant with its offset); absent, it opens now. */
  at: bookedAtSchema.optional(),
  /** The zone the booking was made in, for people (listings and the calendar show the local start). */
  timezone: timeZoneSchema.optional(),
  /** The window does not open in the last `cutoff` of its slot (booked start, or start, plus duration). */
  cutoff: durationSchema.optional(),
  changes: z
    .object({ enable: z.array(keyName).default([]), disable: z.array(keyName).default([]) })
    .strict()
    .default({})
    .refine((c) => !c.enable.some((k) => c.disable.includes(k)), {
      message: 'a configuration key cannot be both enabled and disabled',
    }),
});
export type WindowInput = z.input<typeof windowInputSchema>;
export type ValidWindowInput = z.infer<typeof windowInputSchema>;

export const EXAMPLE_WINDOW_INPUT: WindowInput = {
  environment: 'contoso-sandbox',
  duration: 'PT2H',
  requestedBy: 'jane.doe',
  reason: 'Turn on warehouse management',
  changes: { enable: ['WHSandTMS'], disable: [] },
};

/** What the window's children get from it. */
export function childInput(input: ValidWindowInput): ServicingInput {
  return { environment: input.environment, requestedBy: input.requestedBy, reason: input.reason };
}

export const extendWindowInputSchema = decisionInputSchema.extend({ duration: durationSchema });
export type ExtendWindowInput = z.input<typeof extendWindowInputSchema>;
export type EndWindowInput = z.input<typeof decisionInputSchema>;

export const endWindowUpdate = defineUpdate<WindowStatus, [EndWindowInput]>('endWindow');
export const endWindowSignal = defineSignal<[EndWindowInput]>('endWindow');
export const extendWindowUpdate = defineUpdate<WindowStatus, [ExtendWindowInput]>('extendWindow');
export const extendWindowSignal = defineSignal<[ExtendWindowInput]>('extendWindow');

export interface WindowResult {
  operationId: string;
  environment: string;
  result: Result;
  startedAt: string;
  finishedAt: string;
  window: WindowStatus;
  changes: KeyChange[];
  steps: StepRecord[];
  decisions: Decision[];
  /** Each line says what happened when. */
  summary: string[];
}
