import type { Duration } from '@temporalio/common';
import { z } from 'zod';

import { ENV_REFERENCE, hasReference } from './env-reference';

const NOT_A_URL = 'is not a URL (https://host/path)';
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Why a webhook's url (its variables set) must not be posted to, or undefined. Credentials in a url
 * end up in error messages and logs, and http leaves the machine readable by anyone on the way.
 */
export function webhookUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) return NOT_A_URL;
  const { protocol, username, password, hostname } = new URL(url);
  if (username || password)
    return 'holds a user name or password (user:password@host): send credentials in a header instead, such as Authorization: "Basic ${env:HOOK_BASIC_AUTH}"';
  if (protocol === 'https:' || (protocol === 'http:' && LOOPBACK.test(hostname))) return undefined;
  return protocol === 'http:'
    ? 'is http to another machine: use https (http only to this machine: localhost, 127.0.0.1, [::1])'
    : `is ${protocol}: a webhook url is https (or http to this machine)`;
}

/** Why a header cannot be sent, or undefined; its value is never quoted (it may hold a secret). */
export function headerProblem(name: string, value: string): string | undefined {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    return `header name "${name}" is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~)`;
  if (/[\0\r\n]/.test(value))
    return `header ${name} has a value with a line break or NUL, which HTTP cannot carry`;
  return undefined;
}

/**
 * Checked in temporal.yaml as far as it can be without the worker's variables: each `${env:NAME}` is
 * taken for "localhost", which lets through whatever a variable's value could make valid (checked
 * again once the variables are set), and no more.
 */
const webhookUrl = z.string().superRefine((url, ctx) => {
  const problem = webhookUrlProblem(url.replace(ENV_REFERENCE, 'localhost'));
  // A url that is a variable (a Slack webhook URL, a secret itself) is checked once it is set.
  if (problem && !(problem === NOT_A_URL && hasReference(url)))
    ctx.addIssue({ code: 'custom', message: `the url ${problem}` });
});

const headers = z.record(z.string()).superRefine((h, ctx) => {
  for (const [name, value] of Object.entries(h)) {
    const problem = headerProblem(name, value);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
});

const name = z
  .string()
  .regex(/^[\w .:@#/-]{1,80}$/, 'sink names are up to 80 letters, digits, spaces and . : @ # / -');

const webhookSink = z
  .object({
    type: z.literal('webhook'),
    /** How the operation log names it; default `webhook <host>`. */
    name: name.optional(),
    /** https (or http to this machine), no user info; may be, or contain, `${env:NAME}` (a Slack webhook URL is itself a secret). */
    url: webhookUrl,
    /** Header values may be, or contain, `${env:NAME}`, resolved on the worker at delivery, never logged. */
    headers: headers.default({}),
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

/** The texts of a sink that may reference secrets: a webhook's url and header values. */
export const sinkTexts = (sink: EventSinkConfig): string[] =>
  sink.type === 'webhook' ? [sink.url, ...Object.values(sink.headers)] : [];

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
