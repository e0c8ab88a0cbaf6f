#!/usr/bin/env node
/**
 * `npm run bench:scale -- [options]` (USAGE below): enables then
 * disables N in-process environments (one supervisor) at each concurrency, through one worker on the
 * dev server; and, in the same run on the same server and worker process, a floor: a trivial workflow
 * with as many no-op activities as an operation runs. Prints and writes JSON (p50/p95 per operation,
 * throughput, the worker's and the dev server's peak RSS and CPU, and the server's work per operation
 * and per floor workflow: events, tasks, updates, signals, markers, upserts and the dev server's CPU),
 * the time of a rollout of every environment at `--rollout-concurrency` (50) against its ideal, and a
 * chart of latency against concurrency beside the server's work (SVG, and its vega-lite spec).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startRollout } from '../client/rollouts';
import { loadConfig, type LoadedConfig } from '../config/load';
import { describeIssues } from '../fleet/schemas';
import { startSupervisor, type RunningSupervisor } from '../fleet/launch';
import { projectRoot } from '../scripts/binaries';
import { writeTestConfig } from '../test/helpers/environment';
import { createDevServerEnv } from '../test/helpers/temporal';
import { stopWorkerProcess } from '../test/helpers/worker-process';
import { disableMaintenanceMode, enableMaintenanceMode } from '../workflows';
import type { FloorInput } from './floor-workflow';
import { benchFloor } from './floor-workflow';
import { childPids, sampleUsage, type Usage } from './proc-stats';
import { renderSvg } from './chart';
import { perOperation, serverWorkBetween, type ServerWork } from './server-work';

const DEFAULT_CONCURRENCY = [1, 10, 50, 100, 200];
/** Every environment's AOS: two interactive and one batch, in-process. */
const TOPOLOGY = { interactive: 2, batch: 1 };

const argsSchema = z
  .object({
    environments: z.coerce.number().int().min(1).max(1000).default(200),
    concurrency: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'give a comma-separated list of numbers, e.g. "--concurrency 1,10,50"')
      .transform((list) => list.split(',').map(Number))
      .optional(),
    aosStartupMs: z.coerce.number().int().min(0).max(10_000).default(50),
    /** The rollout's maxConcurrency (at most the number of environments). */
    rolloutConcurrency: z.coerce.number().int().min(1).max(1000).default(50),
    out: z.string().min(1).default(path.join(projectRoot(), 'bench/results')),
    /** The worker's `worker.memoryBudget` (e.g. "512MiB"); absent, the SDK's default cache. */
    memoryBudget: z.string().min(1).optional(),
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

const USAGE =
  'usage: npm run bench:scale -- [--environments N] [--concurrency 1,10,50] ' +
  '[--rollout-concurrency 50] [--aos-startup-ms MS] [--memory-budget 512MiB]';

/** The options, or undefined when asked for help (`--help`, `-h`). */
function parseArgs(argv: string[]): z.infer<typeof argsSchema> | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return undefined;
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined)
      throw new Error(`expected "--flag value" pairs, got "${argv.slice(i, i + 2).join(' ')}"\n${USAGE}`);
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

/** The floor workflow's bundle, made once (webpack would count in the worker's memory). */
async function bundleFloor(dir: string): Promise<string> {
  const floorBundle = path.join(dir, 'floor-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./floor-workflow'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  fs.writeFileSync(floorBundle, code);
  return floorBundle;
}

async function startWorker({ configFile, floorQueue, floorBundle, dir }: WorkerFiles): Promise<ChildProcess> {
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

/** The environments in temporal.yaml: all on the one supervisor, in-process, tagged for the rollout. */
function writeConfig(
  dir: string,
  temporal: TestWorkflowEnvironment,
  supervisorPort: number,
  names: string[],
  aosStartupMs: number,
  memoryBudget: string | undefined,
) {
  const environments = Object.fromEntries(
    names.map((name) => [
      name,
      {
        driver: 'fleet',
        supervisorPort,
        database: path.join(dir, `${name}.db`),
        // A copy each: one shared object would be written as a YAML alias, and the loader refuses
        // hundreds of them (a resource-exhaustion guard).
        topology: { ...TOPOLOGY },
        aosStartupMs,
        aosMode: 'inprocess',
        tags: ['bench'],
      },
    ]),
  );
  // A failed operation waits this long for a decision before it ends Failed, so the bench cannot hang.
  return writeTestConfig(dir, temporal, environments, {
    decisionTimeout: '30s',
    ...(memoryBudget && { worker: { memoryBudget } }),
  });
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

interface WorkerFiles {
  configFile: string;
  floorQueue: string;
  floorBundle: string;
  dir: string;
}

/** What a run measures on: the dev server, one supervisor of in-process environments, the bench worker. */
interface Bench {
  args: z.infer<typeof argsSchema>;
  dir: string;
  names: string[];
  temporal: TestWorkflowEnvironment;
  client: Client;
  config: LoadedConfig;
  supervisor: RunningSupervisor;
  supervisorStartMs: number;
  devServerPid?: number;
  /** Started anew for each measured phase (freshWorker). */
  worker: ChildProcess;
  workerFiles: WorkerFiles;
  run: string;
  failures: string[];
}

async function setUp(args: z.infer<typeof argsSchema>): Promise<Bench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  const names = Array.from({ length: args.environments }, (_, i) => `env-${String(i + 1).padStart(4, '0')}`);
  const temporal = await createDevServerEnv();
  const supervisorBegan = performance.now();
  const supervisor = await startSupervisor({
    spec: {
      environments: names.map((environment) => ({
        environment,
        databaseFile: path.join(dir, `${environment}.db`),
        topology: TOPOLOGY,
        aosStartupMs: args.aosStartupMs,
        aosMode: 'inprocess' as const,
      })),
    },
    logFile: path.join(dir, 'fleet.log'),
  });
  const supervisorStartMs = Math.round(performance.now() - supervisorBegan);
  const configFile = writeConfig(
    dir,
    temporal,
    Number(new URL(supervisor.url).port),
    names,
    args.aosStartupMs,
    args.memoryBudget,
  );
  const workerFiles = {
    configFile,
    floorQueue: 'bench-scale-floor',
    floorBundle: await bundleFloor(dir),
    dir,
  };
  return {
    args,
    dir,
    names,
    temporal,
    client: temporal.client,
    config: loadConfig(configFile, {}),
    supervisor,
    supervisorStartMs,
    devServerPid: childPids(process.pid, 'temporal')[0],
    worker: await startWorker(workerFiles),
    workerFiles,
    run: Date.now().toString(36),
    failures: [],
  };
}

/**
 * A new worker process for the next phase: RSS seldom shrinks, so in one process a phase's peak was
 * the highest of the phases before it (the floor's 1201 MiB at 200 was the operations'; alone, 468).
 */
async function freshWorker(b: Bench): Promise<void> {
  await stopWorkerProcess(b.worker);
  b.worker = await startWorker(b.workerFiles);
}

async function tearDown(b: Bench): Promise<void> {
  await stopWorkerProcess(b.worker);
  await b.supervisor.stop();
  await b.temporal.teardown();
  fs.rmSync(b.dir, { recursive: true, force: true });
}

/** One enable or disable, recorded as a failure unless it Succeeded. */
async function operation(b: Bench, wf: typeof enableMaintenanceMode, environment: string, id: string) {
  const { result, action } = await b.client.workflow.execute(wf, {
    workflowId: `bench-${b.run}-${id}`,
    taskQueue: b.config.temporal.taskQueue,
    args: [{ environment, requestedBy: 'bench', reason: 'scale benchmark' }],
  });
  if (result !== 'Succeeded') b.failures.push(`${action} ${environment}: ${result}`);
}

/**
 * Warm-up, one operation's time alone (the median of three enables and their disables, for the
 * rollout's ideal), and the floor's size: as many activities as one enable and one disable schedule.
 */
async function calibrate(b: Bench): Promise<{ singleEnableMs: number; floor: FloorInput }> {
  const enables: number[] = [];
  for (let i = 0; i < 3; i++) {
    const began = performance.now();
    await operation(b, enableMaintenanceMode, b.names[0], `single-enable-${i}`);
    enables.push(performance.now() - began);
    await operation(b, disableMaintenanceMode, b.names[0], `single-disable-${i}`);
  }
  const [enabled, disabled] = [
    await activitiesOf(b.client, `bench-${b.run}-single-enable-0`),
    await activitiesOf(b.client, `bench-${b.run}-single-disable-0`),
  ];
  return {
    singleEnableMs: Math.round(percentile(enables, 50)),
    floor: {
      activities: Math.round((enabled.activities + disabled.activities) / 2),
      localActivities: Math.round((enabled.localActivities + disabled.localActivities) / 2),
    },
  };
}

/**
 * The worker, the dev server and the supervisor (where the in-process AOS run), sampled while `work`
 * runs, and when it ran (epoch ms), for the server work counted from the histories afterwards.
 */
async function measured<T>(b: Bench, work: () => Promise<T>) {
  await freshWorker(b);
  const w = sampleUsage(b.worker.pid!);
  const d = b.devServerPid ? sampleUsage(b.devServerPid) : undefined;
  const f = sampleUsage(b.supervisor.pid);
  const fromMs = Date.now();
  const result = await work();
  const toMs = Date.now();
  return { result, fromMs, toMs, usage: { worker: w.stop(), devServer: d?.stop(), supervisor: f.stop() } };
}

/**
 * What the server did per operation in a measured phase: counts from the histories, and the dev
 * server's CPU; beside it the worker's CPU (workflow tasks and activities: the floor's do nothing).
 */
type WorkPerOperation = ServerWork & { devServerCpuMs: number | null; workerCpuMs: number };
async function workPerOperation(
  b: Bench,
  m: { fromMs: number; toMs: number; usage: { devServer?: Usage; worker: Usage } },
  operations: number,
): Promise<WorkPerOperation> {
  const total = await serverWorkBetween(b.client, m.fromMs, m.toMs);
  const cpu = m.usage.devServer?.cpuSeconds;
  return {
    ...perOperation(total, operations),
    devServerCpuMs: cpu === undefined ? null : Math.round((cpu * 1000) / operations),
    workerCpuMs: Math.round((m.usage.worker.cpuSeconds * 1000) / operations),
  };
}

/** Every environment enabled then disabled with at most `concurrency` at once; then the floor, as many times. */
async function measureLevel(b: Bench, concurrency: number, floorInput: FloorInput) {
  const n = b.names.length;
  const ours = await measured(b, async () => ({
    enable: await pool(n, concurrency, (i) =>
      operation(b, enableMaintenanceMode, b.names[i], `c${concurrency}-enable-${i}`),
    ),
    disable: await pool(n, concurrency, (i) =>
      operation(b, disableMaintenanceMode, b.names[i], `c${concurrency}-disable-${i}`),
    ),
  }));
  const floor = await measured(b, () =>
    pool(2 * n, concurrency, (i) =>
      b.client.workflow.execute(benchFloor, {
        workflowId: `bench-${b.run}-c${concurrency}-floor-${i}`,
        taskQueue: b.workerFiles.floorQueue,
        args: [floorInput],
      }),
    ),
  );
  const { enable, disable } = ours.result;
  const operations = phase({
    latencies: [...enable.latencies, ...disable.latencies],
    wallMs: enable.wallMs + disable.wallMs,
  });
  const floorPhase = phase(floor.result);
  const level = {
    concurrency,
    enable: phase(enable),
    disable: phase(disable),
    operations,
    floor: floorPhase,
    p95RatioToFloor: Number((operations.p95Ms / floorPhase.p95Ms).toFixed(2)),
    resources: { operations: ours.usage, floor: floor.usage },
    workPerOperation: {
      operations: await workPerOperation(b, ours, operations.operations),
      floor: await workPerOperation(b, floor, floorPhase.operations),
    },
  };
  process.stderr.write(
    `  concurrency ${concurrency}: operations p50 ${operations.p50Ms} ms, p95 ${operations.p95Ms} ms, ` +
      `${operations.throughputPerSecond}/s; floor p95 ${level.floor.p95Ms} ms; ` +
      `worker peak ${ours.usage.worker.peakRssMiB.toFixed(0)} MiB, ${ours.usage.worker.cores.toFixed(2)} cores\n`,
  );
  return level;
}

/** A rollout enabling every environment at maxConcurrency `concurrency`, against the ideal: waves × one enable. */
async function measureRollout(b: Bench, concurrency: number, singleEnableMs: number) {
  const rollout = (action: 'enable' | 'disable') =>
    measured(b, async () => {
      const began = performance.now();
      const handle = await startRollout(b.client, b.config, {
        action,
        tag: 'bench',
        maxConcurrency: concurrency,
        maxErrors: 0,
        requestedBy: 'bench',
        reason: 'scale benchmark',
      });
      const result = await handle.result();
      if (result.result !== 'Succeeded') b.failures.push(`rollout ${action}: ${result.result}`);
      return Math.round(performance.now() - began);
    });
  const enabled = await rollout('enable');
  const disabled = await rollout('disable');
  const idealMs = Math.ceil(b.names.length / concurrency) * singleEnableMs;
  return {
    environments: b.names.length,
    maxConcurrency: concurrency,
    enableMs: enabled.result,
    disableMs: disabled.result,
    singleEnableMs,
    idealMs,
    ratioToIdeal: Number((enabled.result / idealMs).toFixed(2)),
    workerPeakRssMiB: Math.round(enabled.usage.worker.peakRssMiB),
  };
}

type Level = Awaited<ReturnType<typeof measureLevel>>;

/** The server-work figures in the order the table and the chart show them, with their short titles. */
const WORK_COLUMNS: [keyof WorkPerOperation, string][] = [
  ['events', 'events'],
  ['workflowTasks', 'wf tasks'],
  ['activityTasks', 'act tasks'],
  ['localActivities', 'local act'],
  ['updates', 'updates'],
  ['signals', 'signals'],
  ['markers', 'markers'],
  ['searchAttributeUpserts', 'upserts'],
  ['devServerCpuMs', 'server ms'],
  ['workerCpuMs', 'worker ms'],
];
type Rollout = Awaited<ReturnType<typeof measureRollout>>;

function table(b: Bench, levels: Level[], rollout: Rollout, floor: FloorInput): string {
  return [
    '',
    `${b.names.length} in-process environments (2 interactive + 1 batch AOS each, ${b.args.aosStartupMs} ms AOS start), ` +
      `supervisor up in ${b.supervisorStartMs} ms; worker memory budget ${b.args.memoryBudget ?? 'none'}; floor: ${floor.activities} no-op activities and ` +
      `${floor.localActivities} no-op local activities per workflow`,
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
    '',
    'server work per operation (the floor: per workflow), counted from the histories; dev server and worker CPU from /proc',
    `concurrency  ${WORK_COLUMNS.map(([, title]) => title.padStart(9)).join(' ')}`,
    ...levels.flatMap((l) =>
      (['operations', 'floor'] as const).map(
        (series) =>
          `${String(l.concurrency).padStart(5)} ${series.padEnd(10)} ` +
          WORK_COLUMNS.map(([key]) => `${l.workPerOperation[series][key] ?? '?'}`.padStart(9)).join(' '),
      ),
    ),
    `rollout of ${rollout.environments} at maxConcurrency ${rollout.maxConcurrency}: enable ${rollout.enableMs} ms, ` +
      `ideal ${rollout.idealMs} ms (${Math.ceil(rollout.environments / rollout.maxConcurrency)} waves × ` +
      `${rollout.singleEnableMs} ms), ratio ${rollout.ratioToIdeal}; disable ${rollout.disableMs} ms; ` +
      `worker peak ${rollout.workerPeakRssMiB} MiB`,
    b.failures.length ? `FAILED: ${b.failures.join('; ')}` : 'every operation and rollout Succeeded',
  ].join('\n');
}

async function report(b: Bench, levels: Level[], rollout: Rollout, floor: FloorInput): Promise<void> {
  const date = new Date().toISOString();
  const results = {
    date,
    environments: b.names.length,
    topology: { ...TOPOLOGY, aosMode: 'inprocess' },
    aosStartupMs: b.args.aosStartupMs,
    memoryBudget: b.args.memoryBudget ?? null,
    cpus: os.cpus().length,
    supervisor: { startMs: b.supervisorStartMs },
    floorPerWorkflow: floor,
    failures: b.failures,
    levels,
    rollout,
    targets: { p95RatioToFloorAt200: 2, workerRssMiB: 400, rolloutRatioToIdeal: 1.5 },
  };
  fs.mkdirSync(b.args.out, { recursive: true });
  const base = path.join(b.args.out, `scale-${date.replace(/[:.]/g, '-')}`);
  const chart = benchChart(levels);
  fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2));
  fs.writeFileSync(`${base}.vl.json`, JSON.stringify(chart, null, 2));
  fs.writeFileSync(`${base}.svg`, await renderSvg(chart));
  process.stdout.write(
    `${table(b, levels, rollout, floor)}\nwritten to ${base}.json, .svg (the chart) and .vl.json (its vega-lite spec)\n`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) return void process.stdout.write(`${USAGE}\n`);
  const b = await setUp(args);
  try {
    const { singleEnableMs, floor } = await calibrate(b);
    const levels: Level[] = [];
    for (const concurrency of b.args.concurrency) levels.push(await measureLevel(b, concurrency, floor));
    const rollout = await measureRollout(
      b,
      Math.min(b.args.rolloutConcurrency, b.names.length),
      singleEnableMs,
    );
    await report(b, levels, rollout, floor);
    if (b.failures.length) process.exitCode = 1;
  } finally {
    await tearDown(b);
  }
}

/**
 * Side by side, as a vega-lite spec with its data inline: p95 and p50 of operations and of the floor
 * against concurrency, and the server's work per operation and per floor workflow at the highest one.
 */
function benchChart(levels: Level[]): TopLevelSpec {
  const last = levels[levels.length - 1];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    hconcat: [
      latencyChart(levels),
      {
        title: `server work per operation at concurrency ${last.concurrency}: operations and the floor`,
        data: {
          values: (['operations', 'floor'] as const).flatMap((series) =>
            WORK_COLUMNS.map(([key, title]) => ({
              series,
              figure: title,
              value: last.workPerOperation[series][key] ?? 0,
            })),
          ),
        },
        width: 420,
        height: 320,
        mark: 'bar',
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: null, title: null },
          yOffset: { field: 'series' },
          x: {
            field: 'value',
            type: 'quantitative',
            title: 'per operation (server ms, worker ms: CPU milliseconds)',
          },
          color: { field: 'series', type: 'nominal' },
        },
      },
    ],
  };
}

/** p95 of operations and of the floor against concurrency. */
function latencyChart(levels: { concurrency: number; operations: Phase; floor: Phase }[]) {
  return {
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
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'concurrency', type: 'quantitative' as const, scale: { type: 'log' as const } },
      y: { field: 'ms', type: 'quantitative' as const, title: 'latency (ms)' },
      color: { field: 'series', type: 'nominal' as const },
    },
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
