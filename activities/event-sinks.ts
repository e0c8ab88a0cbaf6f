import fs from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { headerProblem, webhookUrlProblem, type EventSinkConfig } from '../config/events';
import { substitute } from '../config/env-reference';
import type { OperationEvent } from '../contract/events';

type WebhookSink = Extract<EventSinkConfig, { type: 'webhook' }>;

/**
 * Why a delivery failed, and whether trying again can help. Messages are made of status codes and
 * error codes, never of a url or a header (either may hold a secret).
 */
export class SinkError extends Error {
  override name = 'SinkError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The event as the cloudevents package validates and serialises it (structured mode). */
export function structured(event: OperationEvent): { headers: Record<string, string>; body: string } {
  const message = HTTP.structured(new CloudEvent({ ...event }));
  return { headers: { 'content-type': String(message.headers['content-type']) }, body: String(message.body) };
}

/** One readable line for people (a Slack channel). */
export function describeEvent(e: OperationEvent): string {
  const d = e.data;
  const what = `${d.action} on ${d.environment} (${e.subject}, requested by ${d.requestedBy})`;
  switch (e.type) {
    case 'maintenance.operation.started':
      return `Started: ${what}${d.reason ? `: ${d.reason}` : ''}`;
    case 'maintenance.operation.decision_required':
      return (
        `Decision required: ${what}: step ${d.step} failed${d.error ? `: ${d.error.message}` : ''}. ` +
        `Decide ${d.availableDecisions?.join(', ')} by ${d.decisionDeadline}`
      );
    case 'maintenance.operation.decided':
      return `Decided: ${what}: ${d.decision?.kind} by ${d.decision?.by}${d.decision?.reason ? ` (${d.decision.reason})` : ''}`;
    case 'maintenance.operation.finished':
      return `Finished ${d.result}: ${what}, environment ${d.state}`;
    case 'maintenance.window.opened':
      return `Window open until ${d.window?.endsAt}: ${what}`;
    case 'maintenance.window.closing':
      return `Window closing${d.window?.endedEarly ? ` (ended early by ${d.window.endedEarly.by})` : ''}: ${what}`;
    case 'maintenance.environment.overdue':
      return `Overdue: ${d.environment} in maintenance since ${d.overdue?.since} (${e.subject}, enabled by ${d.requestedBy}), longer than ${d.overdue?.maximum}; autoDisable: ${d.overdue?.autoDisable}`;
  }
}

/** Slack reads `<...>` as links and mentions (`<!channel>`, `<https://x|click>`) and `&` as an entity. */
export const slackEscaped = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A webhook's url and headers with the worker's variables set, checked as temporal.yaml could not
 * check them. Each problem is the configuration's, so retrying cannot help; a value is never shown.
 */
export function resolveWebhook(
  sink: WebhookSink,
  env: NodeJS.ProcessEnv,
): { url: string; headers: Record<string, string> } {
  const resolve = (text: string, where: string) =>
    substitute(text, env, (name) => {
      throw new SinkError(
        `${where} names the environment variable ${name}, which is not set on this worker`,
        false,
      );
    });
  const url = resolve(sink.url, 'the url');
  const problem = webhookUrlProblem(url);
  if (problem) throw new SinkError(`the url, its variables set, ${problem}`, false);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(sink.headers)) {
    headers[name] = resolve(value, `header ${name}`);
    const bad = headerProblem(name, headers[name]);
    if (bad) throw new SinkError(`${bad}, its variables set`, false);
  }
  return { url, headers };
}

/** A request that got no answer, said by its error code (the error's message may quote the url). */
function unanswered(err: unknown): SinkError {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new SinkError('the webhook did not answer in time', true);
  if (e.cause?.message === 'unexpected redirect')
    return new SinkError(
      'the webhook answered with a redirect, which event sinks do not follow (the event and its headers would go ' +
        'elsewhere): set the url to the address it redirects to',
      false,
    );
  const why = e.cause?.code ?? (/^[a-z ]+$/i.test(e.cause?.message ?? '') ? e.cause!.message : e.name);
  return new SinkError(`could not reach the webhook (${why})`, true);
}

const appending = new Map<string, Promise<unknown>>();

/** Appends one line; appends to one file from this worker run one after the other, so lines never interleave. */
async function appendLine(file: string, line: string): Promise<void> {
  const previous = appending.get(file) ?? Promise.resolve();
  const mine = previous
    .catch(() => undefined)
    .then(async () => {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.appendFile(file, `${line}\n`, 'utf8');
    });
  appending.set(file, mine);
  try {
    await mine;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SinkError(`cannot append to ${file} (${e.code ?? e.name})`, true);
  } finally {
    if (appending.get(file) === mine) appending.delete(file);
  }
}

async function post(
  sink: WebhookSink,
  event: OperationEvent,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<void> {
  const { url, headers } = resolveWebhook(sink, env);
  const message =
    sink.format === 'slack'
      ? {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: slackEscaped(describeEvent(event)) }),
        }
      : structured(event);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, ...message.headers },
      body: message.body,
      signal,
      // A redirect to another origin would carry the headers (an API key) there.
      redirect: 'error',
    });
  } catch (err) {
    throw unanswered(err);
  }
  await response.body?.cancel();
  if (response.ok) return;
  const { status } = response;
  throw new SinkError(
    `the webhook answered ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`,
    status >= 500 || status === 429,
  );
}

/** Delivers one event to one sink: an HTTP POST or one JSON line. Throws a SinkError. */
export async function deliverTo(
  sink: EventSinkConfig,
  event: OperationEvent,
  { env, signal }: { env: NodeJS.ProcessEnv; signal: AbortSignal },
): Promise<void> {
  if (sink.type === 'file') return appendLine(sink.path, structured(event).body);
  return post(sink, event, env, signal);
}
