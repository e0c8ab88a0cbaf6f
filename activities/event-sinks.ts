import fs from 'node:fs/promises';
import path from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import type { EventSinkConfig } from '../config/events';
import { ENV_REFERENCE } from '../config/env-reference';
import type { OperationEvent } from '../contract/events';

/** Why a delivery failed, and whether trying again can help. Messages never carry URLs' paths or header values. */
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
  }
}

/** Replaces `${env:NAME}` from the worker's environment; a missing variable is named, its value never shown. */
function resolveSecrets(value: string, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(ENV_REFERENCE, (_, name: string) => {
    const found = env[name];
    if (found === undefined)
      throw new SinkError(
        `${where} names the environment variable ${name}, which is not set on this worker`,
        true,
      );
    return found;
  });
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
    throw new SinkError(`cannot append to ${file}: ${(err as Error).message}`, true);
  } finally {
    if (appending.get(file) === mine) appending.delete(file);
  }
}

async function post(
  sink: Extract<EventSinkConfig, { type: 'webhook' }>,
  event: OperationEvent,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<void> {
  const url = resolveSecrets(sink.url, env, 'the url');
  if (!URL.canParse(url)) throw new SinkError(`the url does not parse once its variables are set`, false);
  const host = new URL(url).host;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(sink.headers))
    headers[key] = resolveSecrets(value, env, `header ${key}`);
  const message =
    sink.format === 'slack'
      ? {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: describeEvent(event) }),
        }
      : structured(event);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, ...message.headers },
      body: message.body,
      signal,
    });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    throw new SinkError(`POST to ${host} failed: ${cause?.message ?? (err as Error).message}`, true);
  }
  await response.body?.cancel();
  if (response.ok) return;
  const retryable = response.status >= 500 || response.status === 429;
  throw new SinkError(`POST to ${host} answered ${response.status} ${response.statusText}`.trim(), retryable);
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
