import type { Duration } from '@temporalio/common';
import { z } from 'zod';

import { referencedNames } from './env-reference';

const hasReference = (v: string) => referencedNames(v).length > 0;

const name = z
  .string()
  .regex(/^[\w .:@#/-]{1,80}$/, 'sink names are up to 80 letters, digits, spaces and . : @ # / -');

const webhookSink = z
  .object({
    type: z.literal('webhook'),
    /** How the operation log names it; default `webhook <host>`. */
    name: name.optional(),
    /** May be, or contain, `${env:NAME}` (a Slack webhook URL is itself a secret). */
    url: z.string().refine((u) => hasReference(u) || URL.canParse(u), {
      message: 'expected an http(s) URL, or one that names an environment variable as ${env:NAME}',
    }),
    /** Header values may be, or contain, `${env:NAME}`, resolved on the worker at delivery, never logged. */
    headers: z.record(z.string()).default({}),
    /** `cloudevents`: structured mode (application/cloudevents+json); `slack`: an incoming webhook's {"text"}. */
    format: z.enum(['cloudevents', 'slack']).default('cloudevents'),
  })
  .strict();

const fileSink = z
  .object({
    type: z.literal('file'),
    name: name.optional(),
    /** JSON lines, one CloudEvent a line, appended (relative paths are relative to temporal.yaml). */
    path: z.string().min(1),
  })
  .strict();

interface RetryPolicyConfig {
  initialInterval: number | Duration;
  backoffCoefficient: number;
  maximumInterval: number | Duration;
  maximumAttempts: number;
}

export const eventSinkSchema = z.discriminatedUnion('type', [webhookSink, fileSink]);
export type EventSinkConfig = z.infer<typeof eventSinkSchema> & { name: string };

function defaultName(sink: z.infer<typeof eventSinkSchema>, index: number): string {
  if (sink.type === 'file') return `file ${sink.path}`;
  return hasReference(sink.url) ? `webhook ${index + 1}` : `webhook ${new URL(sink.url).host}`;
}

/** Event sinks: where operations send their CloudEvents (at least once, by activities). */
export function eventsSchema(
  duration: z.ZodType<number | Duration, z.ZodTypeDef, unknown>,
  retry: z.ZodType<RetryPolicyConfig, z.ZodTypeDef, unknown>,
) {
  return z
    .object({
      sinks: z.array(eventSinkSchema).default([]),
      /** Per delivery attempt. */
      timeout: duration.default('10s'),
      /** Then the event is dropped for that sink, with a note in the operation log. */
      retry: retry.default({}),
    })
    .strict()
    .transform((e) => ({
      ...e,
      sinks: e.sinks.map((s, i): EventSinkConfig => ({ ...s, name: s.name ?? defaultName(s, i) })),
    }))
    .superRefine((e, ctx) => {
      const seen = new Set<string>();
      e.sinks.forEach((s, i) => {
        if (seen.has(s.name))
          ctx.addIssue({
            code: 'custom',
            path: ['sinks', i, 'name'],
            message: `two sinks are named "${s.name}": give each its own name`,
          });
        seen.add(s.name);
      });
    })
    .default({});
}
