#!/usr/bin/env node
/**
 * `npm run bench:scale -- [--environments N] [--concurrency 1,10,50] [--aos-startup-ms MS]`: enables then
 * disables N in-process environments (one supervisor) at each concurrency, through one worker on the
 * dev server; and, in the same run on the same server and worker process, a floor: a trivial workflow
 * with as many no-op activities as an operation runs. Prints and writes JSON (p50/p95 per operation,
 * throughput, the worker's and the dev server's peak RSS and CPU) and a vega-lite spec of latency
 * against concurrency next to it.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import YAML from 'yaml';
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { loadConfig } from '../config/load';
import type { ServicingResult } from '../contract/operation';
import { describeIssues } from '../fleet/schemas';
import { startSupervisor } from '../fleet/launch';
import { projectRoot } from '../scripts/binaries';
import { createDevServerEnv } from '../test/helpers/temporal';
import { disableMaintenanceMode, enableMaintenanceMode } from '../workflows';
import type { FloorInput } from './floor-workflow';
import { benchFloor } from './floor-workflow';
import type { Usage } from './proc-stats';
import { childPids, sampleUsage } from './proc-stats';
import { renderSvg } from './chart';

const DEFAULT_CONCURRENCY = [1, 10, 50, 100, 200];

const argsSchema = z
  .object({
    environments: z.coerce.number().int().min(1).max(1000).default(200),
    concurrency: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'give a comma-separated list of numbers, e.g. "--concurrency 1,10,50"')
      .transform((list) => list.split(',').map(Number))
      .optional(),
    aosStartupMs: z.coerce.number().int().min(0).max(10_000).default(50),
    out: z.string().min(1).default(path.join(projectRoot(), 'bench/results')),
  })
  .strict()
  .transform((args) => ({
    ...args,
    // The default list stops at the number of environments; a list given explicitly must fit in it.
    concurrency: args.concurrency ?? DEFAULT_CONCURRENCY.filter((c) => c <= args.environments),
  }))
  .refine(
    (args) => args.concurrency.length > 0 && args.concurrency.every((c) => c >= 1 && c <= args.environments),
    {
      message: 'every --concurrency must be between 1 and --environments',
    },
  );

function parseArgs(argv: string[]): z.infer<typeof argsSchema> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined)
      throw new Error(`expected "--flag value" pairs, got "${argv.slice(i, i + 2).join(' ')}"`);
    flags[argv[i].slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = argv[i + 1];
  }
  const parsed = argsSchema.safeParse(flags);
  if (!parsed.success) throw new Error(`invalid arguments: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/** Runs `count` jobs with at most `concurrency` at once; each job's duration in ms, and the wall time. */
async function pool(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  const runner = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const start = performance.now();
      await job(i);
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, runner));
  return { latencies, wallMs: performance.now() - began };
}

interface Phase {
  operations: number;
  p50Ms: number;
  p95Ms: number;
  throughputPerSecond: number;
}
const phase = ({ latencies, wallMs }: { latencies: number[]; wallMs: number }): Phase => ({
  operations: latencies.length,
  p50Ms: Math.round(percentile(latencies, 50)),
  p95Ms: Math.round(percentile(latencies, 95)),
  throughputPerSecond: Number(((latencies.length / wallMs) * 1000).toFixed(2)),
});

async function startWorker(configFile: string, floorQueue: string, dir: string): Promise<ChildProcess> {
  const floorBundle = path.join(dir, 'floor-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./floor-workflow'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  fs.writeFileSync(floorBundle, code);
  const logFile = path.join(dir, 'worker.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [path.join(projectRoot(), 'dist/bench/scale-worker.js'), configFile, floorQueue, floorBundle],
    { stdio: ['ignore', 'pipe', log], env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production' } },
  );
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the bench worker exited (${code}); see ${logFile}`)));
  });
}

function writeConfig(
  dir: string,
  address: string,
  supervisorPort: number,
  names: string[],
  aosStartupMs: number,
) {
  const file = path.join(dir, 'temporal.yaml');
  const environments = Object.fromEntries(
    names.map((name) => [
      name,
      {
        driver: 'fleet',
        supervisorPort,
        database: path.join(dir, `${name}.db`),
        topology: { interactive: 2, batch: 1 },
        aosStartupMs,
        aosMode: 'inprocess',
      },
    ]),
  );
  const policies = {
    activity: {
      startToCloseTimeout: '1m',
      heartbeatTimeout: '10s',
      retry: {
        initialInterval: '100ms',
        backoffCoefficient: 2,
        maximumInterval: '500ms',
        maximumAttempts: 4,
      },
    },
    // A failed operation waits this long for a decision before it ends Failed, so the bench cannot hang.
    decisionTimeout: '30s',
  };
  fs.writeFileSync(
    file,
    YAML.stringify({ temporal: { address, taskQueue: 'bench-scale' }, policies, environments }),
  );
  return file;
}

/** How many activities and local activities one operation's history records. */
async function activitiesOf(client: Client, workflowId: string): Promise<FloorInput> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return {
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    localActivities: events.filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ).length,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  const names = Array.from({ length: args.environments }, (_, i) => `env-${String(i + 1).padStart(4, '0')}`);
  const temporal = await createDevServerEnv();
  const devServerPid = childPids(process.pid, 'temporal')[0];
  const supervisorBegan = performance.now();
  const supervisor = await startSupervisor({
    spec: {
      environments: names.map((environment) => ({
        environment,
        databaseFile: path.join(dir, `${environment}.db`),
        topology: { interactive: 2, batch: 1 },
        aosStartupMs: args.aosStartupMs,
        aosMode: 'inprocess' as const,
      })),
    },
    logFile: path.join(dir, 'fleet.log'),
  });
  const supervisorStartMs = Math.round(performance.now() - supervisorBegan);
  const configFile = writeConfig(
    dir,
    temporal.address,
    Number(new URL(supervisor.url).port),
    names,
    args.aosStartupMs,
  );
  const { taskQueue } = loadConfig(configFile, {}).temporal;
  const floorQueue = 'bench-scale-floor';
  const worker = await startWorker(configFile, floorQueue, dir);
  const client = temporal.client;
  const run = Date.now().toString(36);
  const operation = (wf: typeof enableMaintenanceMode, environment: string, id: string) =>
    client.workflow.execute(wf, {
      workflowId: `bench-${run}-${id}`,
      taskQueue,
      args: [{ environment, requestedBy: 'bench', reason: 'scale benchmark' }],
    });
  const failures: string[] = [];
  const checked = async (result: Promise<ServicingResult>): Promise<void> => {
    const { result: outcome, environment, action } = await result;
    if (outcome !== 'Succeeded') failures.push(`${action} ${environment}: ${outcome}`);
  };

  try {
    // Warm-up, and the floor's size: as many activities as one enable and one disable schedule on average.
    await checked(operation(enableMaintenanceMode, names[0], 'warmup-enable'));
    await checked(operation(disableMaintenanceMode, names[0], 'warmup-disable'));
    const [enabled, disabled] = [
      await activitiesOf(client, `bench-${run}-warmup-enable`),
      await activitiesOf(client, `bench-${run}-warmup-disable`),
    ];
    const floorActivities: FloorInput = {
      activities: Math.round((enabled.activities + disabled.activities) / 2),
      localActivities: Math.round((enabled.localActivities + disabled.localActivities) / 2),
    };
    const floor = (id: string) =>
      client.workflow.execute(benchFloor, {
        workflowId: `bench-${run}-${id}`,
        taskQueue: floorQueue,
        args: [floorActivities],
      });
    await floor('warmup-floor');

    const levels = [];
    for (const concurrency of args.concurrency) {
      /** The worker, the dev server and the supervisor (where the in-process AOS run). */
      const usage = (): { stop(): { worker: Usage; devServer?: Usage; supervisor: Usage } } => {
        const w = sampleUsage(worker.pid!);
        const d = devServerPid ? sampleUsage(devServerPid) : undefined;
        const f = sampleUsage(supervisor.pid);
        return { stop: () => ({ worker: w.stop(), devServer: d?.stop(), supervisor: f.stop() }) };
      };
      const oursUsage = usage();
      const enable = await pool(names.length, concurrency, (i) =>
        checked(operation(enableMaintenanceMode, names[i], `c${concurrency}-enable-${i}`)),
      );
      const disable = await pool(names.length, concurrency, (i) =>
        checked(operation(disableMaintenanceMode, names[i], `c${concurrency}-disable-${i}`)),
      );
      const ours = oursUsage.stop();
      const floorUsage = usage();
      const floorRun = await pool(2 * names.length, concurrency, (i) => floor(`c${concurrency}-floor-${i}`));
      const floorResources = floorUsage.stop();
      const both = {
        latencies: [...enable.latencies, ...disable.latencies],
        wallMs: enable.wallMs + disable.wallMs,
      };
      const level = {
        concurrency,
        enable: phase(enable),
        disable: phase(disable),
        operations: phase(both),
        floor: phase(floorRun),
        p95RatioToFloor: Number((phase(both).p95Ms / phase(floorRun).p95Ms).toFixed(2)),
        resources: { operations: ours, floor: floorResources },
      };
      levels.push(level);
      process.stderr.write(
        `  concurrency ${concurrency}: operations p50 ${level.operations.p50Ms} ms, p95 ${level.operations.p95Ms} ms, ` +
          `${level.operations.throughputPerSecond}/s; floor p95 ${level.floor.p95Ms} ms; ` +
          `worker peak ${ours.worker.peakRssMiB.toFixed(0)} MiB, ${ours.worker.cores.toFixed(2)} cores\n`,
      );
    }

    const date = new Date().toISOString();
    const results = {
      date,
      environments: names.length,
      topology: { interactive: 2, batch: 1, aosMode: 'inprocess' },
      aosStartupMs: args.aosStartupMs,
      cpus: os.cpus().length,
      supervisor: { startMs: supervisorStartMs },
      floorPerWorkflow: floorActivities,
      failures,
      levels,
      targets: { p95RatioToFloorAt200: 2, workerRssMiB: 400, rolloutRatioToIdeal: 1.5 },
      rollout: {
        measured: false,
        reason: 'the maintenanceRollout workflow (issue 10 point 1) is not on this branch',
      },
    };
    fs.mkdirSync(args.out, { recursive: true });
    const base = path.join(args.out, `scale-${date.replace(/[:.]/g, '-')}`);
    fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2));
    const chart = latencyChart(levels);
    fs.writeFileSync(`${base}.vl.json`, JSON.stringify(chart, null, 2));
    fs.writeFileSync(`${base}.svg`, await renderSvg(chart));
    process.stdout.write(
      [
        '',
        `${names.length} in-process environments (2 interactive + 1 batch AOS each, ${args.aosStartupMs} ms AOS start), ` +
          `supervisor up in ${supervisorStartMs} ms; floor: ${floorActivities.activities} no-op activities and ` +
          `${floorActivities.localActivities} no-op local activities per workflow`,
        'concurrency  ops p50  ops p95  ops/s   floor p50  floor p95  p95 ratio  worker peak  cores: worker  dev server  supervisor',
        ...levels.map((l) =>
          [
            String(l.concurrency).padStart(11),
            `${l.operations.p50Ms}`.padStart(8),
            `${l.operations.p95Ms}`.padStart(8),
            `${l.operations.throughputPerSecond}`.padStart(6),
            `${l.floor.p50Ms}`.padStart(10),
            `${l.floor.p95Ms}`.padStart(10),
            `${l.p95RatioToFloor}`.padStart(10),
            `${l.resources.operations.worker.peakRssMiB.toFixed(0)} MiB`.padStart(12),
            `${l.resources.operations.worker.cores.toFixed(2)}`.padStart(13),
            `${l.resources.operations.devServer?.cores.toFixed(2) ?? '?'}`.padStart(11),
            `${l.resources.operations.supervisor.cores.toFixed(2)}`.padStart(11),
          ].join(' '),
        ),
        failures.length ? `FAILED operations: ${failures.join('; ')}` : 'every operation Succeeded',
        `written to ${path.relative(process.cwd(), base)}.json, .svg (the chart) and .vl.json (its vega-lite spec)`,
        '',
      ].join('\n'),
    );
    if (failures.length) process.exitCode = 1;
  } finally {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    await supervisor.stop();
    await temporal.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** p95 of operations and of the floor against concurrency, as a vega-lite spec with its data inline. */
function latencyChart(levels: { concurrency: number; operations: Phase; floor: Phase }[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'p95 latency against concurrency: enable/disable operations and the floor',
    data: {
      values: levels.flatMap((l) => [
        { concurrency: l.concurrency, series: 'operations p95', ms: l.operations.p95Ms },
        { concurrency: l.concurrency, series: 'operations p50', ms: l.operations.p50Ms },
        { concurrency: l.concurrency, series: 'floor p95', ms: l.floor.p95Ms },
        { concurrency: l.concurrency, series: 'floor p50', ms: l.floor.p50Ms },
      ]),
    },
    width: 520,
    height: 320,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'concurrency', type: 'quantitative', scale: { type: 'log' } },
      y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
      color: { field: 'series', type: 'nominal' },
    },
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
