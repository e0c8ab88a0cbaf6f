import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { METRICS } from '../../contract/metrics';
import { decisionUpdates } from '../../contract/operation';
import { disableMaintenanceMode, enableMaintenanceMode } from '../../workflows';
import { createWorker, type RunningWorker } from '../../worker/create-worker';
import { metricsExporter } from '../../worker/metrics';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { createTimeSkippingEnv, freePort, workflowBundle } from '../helpers/temporal';
import { waitForDecision } from '../helpers/status';

/**
 * The worker's /metrics after a few operations: the product's counters, histograms and gauges with the
 * right labels and counts, beside the SDK's own metrics, from one Prometheus exporter.
 */
let port: number;
let temporal: TestWorkflowEnvironment;
let env: TestEnvironment;
let worker: RunningWorker;
let running: Promise<void>;

beforeAll(async () => {
  port = await freePort();
  // Before anything else makes the runtime: one per process, here with the exporter.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { metrics: metricsExporter({ port, address: '127.0.0.1' }) },
  });
  temporal = await createTimeSkippingEnv();
  env = await startTestEnvironment(temporal, { faults: true });
  // Gauges read every second: what the test waits for shows within a scrape or two.
  env.config.metrics = { port, address: '127.0.0.1', gaugeInterval: '1s' };
  // Overdue after an hour in maintenance; reported only (autoDisable stays off).
  env.config.policies.maximumInMaintenance = '1h';
  worker = await createWorker(env.config, {
    connection: temporal.nativeConnection,
    workflowBundle: await workflowBundle(),
  });
  running = worker.worker.run();
});
afterAll(async () => {
  worker?.worker.shutdown();
  await running;
  await worker?.close();
  await env?.stop();
  await temporal?.teardown();
});

const start = (workflow: typeof enableMaintenanceMode) =>
  temporal.client.workflow.start(workflow, {
    workflowId: `metrics-${randomUUID()}`,
    taskQueue: env.config.temporal.taskQueue,
    args: [{ environment: env.name, requestedBy: 'test', reason: 'metrics test' }],
  });

/** Prometheus text format: `name{a="b",...} value` lines. */
async function scrape(): Promise<{ name: string; labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(l)!;
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
      );
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

const value = (
  samples: Awaited<ReturnType<typeof scrape>>,
  name: string,
  labels: Record<string, string> = {},
): number =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

/** Waits until a scrape satisfies `check` (the gauges are read every metrics.gaugeInterval, 1 s here). */
async function eventually<T>(
  check: (s: Awaited<ReturnType<typeof scrape>>) => T,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    try {
      return check(samples);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('worker metrics at /metrics', () => {
  it('counts enable, disable and a failed enable aborted by action and result, times the wait for the decision, and serves the SDK metrics too', async () => {
    expect((await (await start(enableMaintenanceMode)).result()).result).toBe('Succeeded');
    await eventually((s) => {
      expect(value(s, METRICS.environmentState, { environment: env.name, state: 'InMaintenance' })).toBe(1);
      expect(value(s, METRICS.environments, { state: 'InMaintenance' })).toBe(1);
    });
    // Awaiting a result lets the server skip time, maybe past the hour already: skip it for sure.
    await temporal.sleep('2h');
    await eventually((s) => {
      expect(value(s, METRICS.environmentOverdue, { environment: env.name })).toBe(1);
    });
    expect((await (await start(disableMaintenanceMode)).result()).result).toBe('Succeeded');
    await eventually((s) => {
      expect(value(s, METRICS.environmentOverdue, { environment: env.name })).toBe(0);
    });

    await env.fleet.setFaults({ databaseWritesBlocked: true });
    const failing = await start(enableMaintenanceMode);
    await waitForDecision(failing);
    await eventually((s) => {
      expect(value(s, METRICS.environmentState, { environment: env.name, state: 'Failed' })).toBe(1);
      expect(value(s, METRICS.environmentState, { environment: env.name, state: 'InMaintenance' })).toBe(0);
      expect(value(s, METRICS.environments, { state: 'Failed' })).toBe(1);
    });
    await env.fleet.clearFaults();
    await failing.executeUpdate(decisionUpdates.abort, { args: [{ by: 'jane', reason: 'by hand' }] });
    await expect(failing.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const s = await scrape();
    expect(value(s, METRICS.started, { action: 'enable' })).toBe(2);
    expect(value(s, METRICS.started, { action: 'disable' })).toBe(1);
    expect(value(s, METRICS.finished, { action: 'enable', result: 'Succeeded' })).toBe(1);
    expect(value(s, METRICS.finished, { action: 'disable', result: 'Succeeded' })).toBe(1);
    expect(value(s, METRICS.finished, { action: 'enable', result: 'Aborted' })).toBe(1);
    expect(value(s, METRICS.finished, { workflowType: 'enableMaintenanceMode' })).toBe(2);
    expect(value(s, `${METRICS.duration}_count`, { action: 'enable' })).toBe(2);
    expect(value(s, `${METRICS.duration}_sum`, { action: 'disable' })).toBeGreaterThan(0);
    expect(value(s, `${METRICS.awaiting}_count`, { awaited: 'decision', outcome: 'abort' })).toBe(1);
    // The SDK's own metrics come from the same exporter.
    expect(
      value(s, 'temporal_workflow_completed', { workflow_type: 'disableMaintenanceMode' }),
    ).toBeGreaterThan(0);
    expect(s.some((x) => x.name.startsWith('temporal_activity_execution_latency'))).toBe(true);
  });

  it('ships a Grafana dashboard whose every panel queries metrics this worker exports', async () => {
    const file = path.resolve(__dirname, '../../dashboards/maintenance.json');
    const dashboard = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      title: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.title).toBe('Maintenance orchestrator');
    const exported = new Set((await scrape()).map((s) => s.name));
    for (const panel of dashboard.panels) {
      const names = panel.targets.flatMap((t) => t.expr.match(/\b(?:maintenance|temporal)_\w+/g) ?? []);
      expect({ panel: panel.title, names: names.length > 0 }).toEqual({ panel: panel.title, names: true });
      for (const name of names)
        expect({ panel: panel.title, name, exported: exported.has(name) }).toMatchObject({ exported: true });
    }
    for (const metric of Object.values(METRICS)) expect(JSON.stringify(dashboard.panels)).toContain(metric);
  });
});
