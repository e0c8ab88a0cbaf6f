import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowFailedError } from '@temporalio/client';
import { secretsOf, workerSecrets, type Secrets } from '../../config/secrets';
import { decisionUpdates, logQuery } from '../../contract/operation';
import { environmentWorkflowId } from '../../contract/environment';
import { disableMaintenanceMode, enableMaintenanceMode } from '../../workflows';
import { createLogger, installRuntimeLogger } from '../../worker/logger';
import { metricsExporter } from '../../worker/metrics';
import { canaryForms, canaryValue } from '../helpers/canary';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { waitForDecision } from '../helpers/status';
import { freePort } from '../helpers/temporal';
import { timeSkippingTestbed } from '../helpers/testbed';

/**
 * The canary: one secret, given to commands through their environment, which they print raw,
 * JSON-escaped and in base64 (standard and URL-safe), on stdout and stderr, in JSON they report, on
 * success and on failure. Not one form of it reaches anything that leaves the worker: errors, the
 * operation log and its transcript of commands, a plan, the worker's log, histories, events (webhook,
 * Slack, file) or metrics. Each path shows the secret masked as ${env:CANARY_SECRET}, so the canary
 * went through it.
 */
const CANARY = canaryValue();
process.env.CANARY_SECRET = CANARY;
const FORMS = canaryForms(CANARY);
const MASKED = '${env:CANARY_SECRET}';

const LEAKY = path.resolve(__dirname, '../../dist/test/fixtures/commands/leaky.js');
const node = (...args: string[]) => ({ argv: ['node', LEAKY, ...args] });

/** The worker's log, as JSON lines: the SDK's, the activities' and the drivers' logs all come here. */
const logLines: string[] = [];
let metricsPort: number;
let hook: Receiver;
let slack: Receiver;

beforeAll(async () => {
  metricsPort = await freePort();
  // The worker's own logger and exporter, as worker/index.ts installs them (one runtime per process).
  // The logger is given the secrets the worker will hold: checked against workerSecrets below.
  const secrets: Secrets = secretsOf(['${env:CANARY_SECRET}'], process.env);
  installRuntimeLogger(
    createLogger({
      pretty: false,
      level: 'debug',
      secrets,
      destination: { write: (line: string) => void logLines.push(line) },
    }),
    metricsExporter({ port: metricsPort, address: '127.0.0.1' }),
  );
  hook = await startReceiver();
  slack = await startReceiver();
});
afterAll(async () => {
  await hook?.close();
  await slack?.close();
});

const bed = timeSkippingTestbed(() => ({
  commands: true,
  commandChanges: {
    env: { LEAK_SECRET: '${env:CANARY_SECRET}' },
    commands: {
      writeFlag: node('then', 'flag.js', 'write'),
      restartAos: node('fail'),
      probeUsers: node('users'),
    },
  },
  events: {
    timeout: '5s',
    retry: { initialInterval: '100ms', maximumAttempts: 2 },
    sinks: [
      { type: 'webhook', name: 'hook', url: hook.url },
      { type: 'webhook', name: 'slack', url: slack.url, format: 'slack' },
      { type: 'file', path: 'audit/events.jsonl' },
    ],
  },
}));

const start = (workflow: typeof enableMaintenanceMode, extra: object = {}) =>
  bed.temporal.client.workflow.start(workflow, {
    workflowId: `secrets-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'test', reason: 'canary', ...extra }],
  });

/** Every string in a value, and each byte array (a payload) as text: all a reader of it could see. */
function allText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value && typeof value === 'object') return Object.values(value).map(allText).join('\n');
  return '';
}

/** What each path carried, as text. */
const seen: Record<string, string> = {};

beforeAll(async () => {
  await bed.withWorker(async () => {
    // The flag is written by a command that leaks and succeeds; the restart by one that leaks and fails.
    const handle = await start(enableMaintenanceMode);
    const failed = await waitForDecision(handle);
    seen.errors = JSON.stringify(failed.failure);
    await handle.executeUpdate(decisionUpdates.abort, { args: [{ by: 'jane', reason: 'canary seen' }] });
    // An aborted operation fails its workflow, saying why: the failure quotes the command's stderr.
    const aborted = await handle.result().then(
      () => Promise.reject(new Error('expected the abort to fail the workflow')),
      (err: WorkflowFailedError) => err,
    );
    seen.errors += `${aborted.cause?.message} ${aborted.cause?.stack}`;
    seen.transcript = JSON.stringify(
      (await handle.query(logQuery)).entries.filter((e) => e.message.startsWith('ran ')),
    );
    seen.log = JSON.stringify(await handle.query(logQuery));

    // The probe users are read for a plan: the administrator is named by the secret, in JSON.
    const planned = await start(disableMaintenanceMode, { dryRun: true });
    seen.plan = JSON.stringify(await planned.result());

    const entity = bed.temporal.client.workflow.getHandle(environmentWorkflowId(bed.env.name));
    const histories = await Promise.all([handle, planned, entity].map((h) => h.fetchHistory()));
    seen.history = allText(histories);
  });
  seen['worker log'] = logLines.join('');
  seen['webhook event'] = hook.received.map((r) => r.body).join('\n');
  seen['Slack event'] = slack.received.map((r) => r.body).join('\n');
  seen['file event'] = fs.readFileSync(path.join(bed.env.dir, 'audit/events.jsonl'), 'utf8');
  seen.metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
});

it('the logger masks what the worker holds', () => {
  expect(workerSecrets(bed.env.config, process.env).held).toEqual(
    expect.arrayContaining([{ name: 'CANARY_SECRET', value: CANARY }]),
  );
});

describe.each([
  'errors',
  'transcript',
  'plan',
  'log',
  'history',
  'worker log',
  'webhook event',
  'Slack event',
  'file event',
])('the %s', (where) => {
  it.each(Object.entries(FORMS))('never show the secret %s', (_form, value) => {
    expect(seen[where]).not.toContain(JSON.stringify(value).slice(1, -1));
    expect(seen[where]).not.toContain(value);
  });

  it('show it masked, so the canary went through', () => {
    expect(seen[where]).toContain(MASKED);
  });
});

it('the metrics never show the secret in any form', () => {
  expect(seen.metrics).toContain('maintenance_operations_started_total');
  for (const value of Object.values(FORMS)) expect(seen.metrics).not.toContain(value);
});
