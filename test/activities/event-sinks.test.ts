import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/load';
import { configSchema } from '../../config/schema';
import { createWorker } from '../../worker/create-worker';
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

  it('resolves ${env:NAME} in headers and url from the environment given, and names a missing variable without a value, not to be retried', async () => {
    const sink = webhook('${env:HOOK_URL}', { headers: { Authorization: 'Bearer ${env:HOOK_TOKEN}' } });
    await send(sink, { HOOK_URL: receiver.url, HOOK_TOKEN: 's3cret' });
    expect(receiver.received[0].headers.authorization).toBe('Bearer s3cret');
    const missing = await failure(send(sink, { HOOK_URL: receiver.url }));
    expect(missing).toBeInstanceOf(SinkError);
    expect(missing).toMatchObject({
      retryable: false,
      message:
        'header Authorization names the environment variable HOOK_TOKEN, which is not set on this worker',
    });
  });

  it('answers 5xx and 429 as retryable, other 4xx as not, in a message of the status code alone', async () => {
    for (const [code, retryable, text] of [
      [500, true, 'Internal Server Error'],
      [503, true, 'Service Unavailable'],
      [429, true, 'Too Many Requests'],
      [400, false, 'Bad Request'],
      [404, false, 'Not Found'],
    ] as const) {
      status = code;
      const err = await failure(send(webhook(`${receiver.url}?token=secret`)));
      expect(err).toMatchObject({ retryable, message: `the webhook answered ${code} ${text}` });
    }
  });

  it('does not follow a redirect: the api key never reaches the other origin, and it is not retried', async () => {
    const other = await startReceiver();
    const redirecting = http.createServer((_req, res) => {
      res.writeHead(307, { location: other.url }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`;
      const err = await failure(
        send(webhook(url, { headers: { 'x-api-key': '${env:KEY}' } }), { KEY: 'key-123' }),
      );
      expect(other.received).toEqual([]);
      expect(err).toMatchObject({
        retryable: false,
        message: expect.stringMatching(
          /^the webhook answered with a redirect, which event sinks do not follow/,
        ),
      });
      expect(err?.message).not.toMatch(/127\.0\.0\.1|key-123/);
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
      await other.close();
    }
  });

  it.each([
    [
      'user info in the url',
      { HOOK_URL: 'https://ops:hunter2-pass@hooks.example.com/x' },
      {},
      /^the url, its variables set, holds a user name or password/,
    ],
    [
      'http to another machine',
      { HOOK_URL: 'http://hooks.example.com/x' },
      {},
      /^the url, its variables set, is http to another machine: use https/,
    ],
    [
      'a header value with a line break',
      { HOOK_URL: 'https://hooks.example.com/x' },
      { TOKEN: 'a\r\nX-Evil: hunter2-pass' },
      /^header x-token has a value with a line break or NUL/,
    ],
  ])(
    'refuses %s once its variables are set, without showing them, not to be retried',
    async (_what, env, extra, message) => {
      const sink = webhook('${env:HOOK_URL}', { headers: { 'x-token': 'x${env:TOKEN}' } });
      const err = await failure(send(sink, { TOKEN: 't', ...env, ...extra }));
      expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(message) });
      expect(err?.message).not.toMatch(/hunter2|hooks\.example/);
      expect(receiver.received).toEqual([]);
    },
  );

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

  it('escapes Slack text, so that an input cannot mention @channel or show a link of its own', async () => {
    const hostile = {
      ...event(),
      data: { ...event().data, requestedBy: '<!channel> <https://evil.example|approve here> &amp;' },
    };
    await deliverTo(webhook(receiver.url, { format: 'slack' }), hostile, {
      env: {},
      signal: AbortSignal.timeout(5000),
    });
    const { text } = JSON.parse(receiver.received[0].body) as { text: string };
    expect(text).toContain(
      'requested by &lt;!channel&gt; &lt;https://evil.example|approve here&gt; &amp;amp;)',
    );
    expect(text).not.toMatch(/[<>]/);
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

  it.each([
    ['https://hooks.example.com/x', undefined],
    ['http://127.0.0.1:8080/x', undefined],
    ['http://localhost/x', undefined],
    ['http://[::1]:9000/x', undefined],
    ['${env:SLACK_URL}', undefined],
    ['https://${env:HOOK_HOST}/x?token=${env:HOOK_TOKEN}', undefined],
    [
      'https://ops:${env:HOOK_PASS}@host/x',
      'the url holds a user name or password (user:password@host): send credentials in a header instead',
    ],
    ['https://ops@host/x', 'the url holds a user name or password'],
    [
      'http://hooks.example.com/x',
      'the url is http to another machine: use https (http only to this machine: localhost, 127.0.0.1, [::1])',
    ],
    ['http://hooks.example.com/${env:HOOK_PATH}', 'the url is http to another machine'],
    ['file:///etc/passwd', 'the url is file:: a webhook url is https (or http to this machine)'],
    ['data:text/plain,x', 'the url is data:'],
    ['javascript:alert(1)', 'the url is javascript:'],
  ])('checks the url %s at load', (url, message) => {
    const parsed = parse({ sinks: [{ type: 'webhook', url }] });
    if (!message) return expect(parsed.success).toBe(true);
    expect(!parsed.success && parsed.error.issues).toEqual([
      expect.objectContaining({
        path: ['events', 'sinks', 0, 'url'],
        message: expect.stringContaining(message),
      }),
    ]);
  });

  it('checks header names and values at load, never quoting a value', () => {
    const parsed = parse({
      sinks: [
        { type: 'webhook', url: 'https://x.example', headers: { 'bad name': 'v', Token: 'a\nhunter2' } },
      ],
    });
    expect(!parsed.success && parsed.error.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'events.sinks.0.headers.bad name',
        expect.stringMatching(/^header name "bad name" is not a valid HTTP header name/),
      ],
      [
        'events.sinks.0.headers.Token',
        'header Token has a value with a line break or NUL, which HTTP cannot carry',
      ],
    ]);
  });
});

describe('a worker with a webhook that its variables make unsendable', () => {
  it('does not start, naming the sink and the problem, never the value', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sinks-'));
    const file = path.join(dir, 'temporal.yaml');
    fs.writeFileSync(
      file,
      [
        'environments:',
        '  e: { driver: fleet, supervisorPort: 1, database: x.db, topology: { interactive: 1, batch: 1 } }',
        'events:',
        '  sinks: [{ type: webhook, name: ops, url: "${env:SINK_URL_AT_START}" }]',
      ].join('\n'),
    );
    process.env.SINK_URL_AT_START = 'https://ops:hunter2-pass@hooks.example.com/x';
    try {
      const started = createWorker(loadConfig(file, {}));
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(
        `${file}: event sink "ops": the url, its variables set, holds a user name or password`,
      );
      await expect(started).rejects.not.toThrow(/hunter2|hooks\.example/);
    } finally {
      delete process.env.SINK_URL_AT_START;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
