import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../../config/schema';
import { deliverTo, SinkError } from '../../activities/event-sinks';
import type { EventSinkConfig } from '../../config/events';
import type { OperationEvent } from '../../contract/events';
import { startReceiver, type Receiver } from '../helpers/receiver';

const event = (n = 1): OperationEvent => ({
  specversion: '1.0',
  id: `maintenance-contoso/run-1/decision_required-${n}`,
  source: '/maintenance/default/contoso-sandbox',
  type: 'maintenance.operation.decision_required',
  subject: 'maintenance-contoso',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data: {
    operationId: 'maintenance-contoso',
    environment: 'contoso-sandbox',
    action: 'enable',
    requestedBy: 'jane.doe',
    reason: 'keys',
    state: 'Failed',
    step: 'restartAos',
    error: { message: 'aos-4 failed to start', type: 'AosStartFailed' },
    availableDecisions: ['resume', 'rollback', 'abort'],
    decisionDeadline: '2026-01-08T00:00:00.000Z',
  },
});

const webhook = (url: string, extra: Partial<Extract<EventSinkConfig, { type: 'webhook' }>> = {}) =>
  ({ type: 'webhook', name: 'hook', url, headers: {}, format: 'cloudevents', ...extra }) as EventSinkConfig;
const send = (sink: EventSinkConfig, env: NodeJS.ProcessEnv = {}) =>
  deliverTo(sink, event(), { env, signal: AbortSignal.timeout(5000) });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as SinkError,
  );

describe('event sinks', () => {
  let receiver: Receiver;
  let status = 200;
  beforeAll(async () => (receiver = await startReceiver(() => status)));
  afterAll(() => receiver.close());
  beforeEach(() => {
    status = 200;
    receiver.received.length = 0;
  });

  it('resolves ${env:NAME} in headers and url from the environment given, and names a missing variable without a value', async () => {
    const sink = webhook('${env:HOOK_URL}', { headers: { Authorization: 'Bearer ${env:HOOK_TOKEN}' } });
    await send(sink, { HOOK_URL: receiver.url, HOOK_TOKEN: 's3cret' });
    expect(receiver.received[0].headers.authorization).toBe('Bearer s3cret');
    const missing = await failure(send(sink, { HOOK_URL: receiver.url }));
    expect(missing).toBeInstanceOf(SinkError);
    expect(missing?.message).toBe(
      'header Authorization names the environment variable HOOK_TOKEN, which is not set on this worker',
    );
  });

  it('answers 5xx and 429 as retryable, other 4xx as not, naming only the host', async () => {
    for (const [code, retryable] of [
      [500, true],
      [503, true],
      [429, true],
      [400, false],
      [404, false],
    ] as const) {
      status = code;
      const err = await failure(send(webhook(`${receiver.url}?token=secret`)));
      expect(err).toMatchObject({ retryable });
      expect(err?.message).toMatch(new RegExp(`^POST to ${new URL(receiver.url).host} answered ${code}`));
      expect(err?.message).not.toContain('secret');
    }
  });

  it('takes a receiver that is not listening for a retryable network failure', async () => {
    const closed = await startReceiver();
    await closed.close();
    expect(await failure(send(webhook(closed.url)))).toMatchObject({ retryable: true });
  });

  it('sends one readable line {"text"} to a Slack incoming webhook', async () => {
    await send(webhook(receiver.url, { format: 'slack' }));
    expect(receiver.received[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(receiver.received[0].body)).toEqual({
      text:
        'Decision required: enable on contoso-sandbox (maintenance-contoso, requested by jane.doe): step restartAos ' +
        'failed: aos-4 failed to start. Decide resume, rollback, abort by 2026-01-08T00:00:00.000Z',
    });
  });

  it('appends concurrent events to a file as whole lines, one CloudEvent each', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'events-')), 'sub/events.jsonl');
    const sink: EventSinkConfig = { type: 'file', name: 'file', path: file };
    // Large enough that unserialised appends of this size could interleave.
    const big = (n: number) => ({ ...event(n), data: { ...event(n).data, reason: 'x'.repeat(200_000) } });
    await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        deliverTo(sink, big(n), { env: {}, signal: AbortSignal.timeout(5000) }),
      ),
    );
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(50);
    expect(new Set(lines.map((l) => (JSON.parse(l) as OperationEvent).id)).size).toBe(50);
  });
});

describe('events in temporal.yaml', () => {
  const parse = (events: unknown) =>
    configSchema.safeParse({
      environments: {
        e: { driver: 'fleet', supervisorPort: 1, database: 'x.db', topology: { interactive: 1, batch: 1 } },
      },
      events,
    });

  it('defaults to no sinks, 10 s per attempt and 5 attempts', () => {
    const parsed = parse(undefined);
    expect(parsed.success && parsed.data.events).toMatchObject({
      sinks: [],
      timeout: '10s',
      retry: { maximumAttempts: 5 },
    });
  });

  it('names sinks by host or path unless named, and refuses two of one name', () => {
    const parsed = parse({
      sinks: [
        { type: 'webhook', url: 'https://hooks.example.com/x', format: 'slack' },
        { type: 'webhook', url: '${env:SLACK_URL}' },
        { type: 'file', path: 'data/events.jsonl' },
      ],
    });
    expect(parsed.success && parsed.data.events.sinks.map((s) => s.name)).toEqual([
      'webhook hooks.example.com',
      'webhook 2',
      'file data/events.jsonl',
    ]);
    const twice = parse({
      sinks: [
        { type: 'file', path: 'a', name: 'audit' },
        { type: 'file', path: 'b', name: 'audit' },
      ],
    });
    expect(twice.success).toBe(false);
    expect(!twice.success && twice.error.issues[0]).toMatchObject({
      path: ['events', 'sinks', 1, 'name'],
      message: 'two sinks are named "audit": give each its own name',
    });
  });

  it('refuses a url that is neither a URL nor an environment reference', () => {
    expect(parse({ sinks: [{ type: 'webhook', url: 'not a url' }] }).success).toBe(false);
  });
});
