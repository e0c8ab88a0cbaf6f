#!/usr/bin/env node
/**
 * `npm run bench`: turning maintenance mode on for contoso-sandbox, two ways, side by side on the
 * same fleet in one run:
 *  (a) the documented manual procedure as a script: UPDATE the flag, restart every AOS one after
 *      another (as Set-MaintenanceMode.ps1 and an IIS reset do), wait until all are healthy;
 *  (b) the enableMaintenanceMode workflow through Temporal, from start to completed.
 * Prints medians over several repetitions, their ratio, the time each operation spends taking and
 * releasing the servicing lock at the environment entity (from its history, and as its log counts it)
 * and the worker's peak memory; writes JSON.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@temporalio/client';
import { logQuery } from '../contract/operation';
import { disableMaintenanceMode, enableMaintenanceMode } from '../workflows';
import { startTestEnvironment, type TestEnvironment } from '../test/helpers/environment';
import { createDevServerEnv } from '../test/helpers/temporal';
import { loadConfig } from '../config/load';
import { fleetSettingsOf } from '../drivers/fleet/settings';
import { projectRoot } from '../scripts/binaries';
import { lockRoundTrips } from './lock-round-trip';

const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 7);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function manualProcedure(env: TestEnvironment, value: 0 | 1): Promise<void> {
  const db = new Database(env.databaseFile);
  db.prepare("UPDATE SQLSYSTEMVARIABLES SET VALUE = ? WHERE PARM = 'CONFIGURATIONMODE'").run(value);
  db.close();
  for (const aos of await env.fleet.listAos()) await env.fleet.restart(aos.id);
  for (;;) {
    const all = await env.fleet.listAos();
    const healthy = await Promise.all(
      all.map((a) =>
        a.port
          ? env.fleet.aosHealth(a.port).then(
              (h) => h.maintenanceMode === (value === 1),
              () => false,
            )
          : false,
      ),
    );
    if (healthy.every(Boolean)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Peak resident memory of a process, from the kernel's high-water mark. */
function peakRssMiB(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const temporal = await createDevServerEnv();
  // The shipped contoso-sandbox's shape, on a fresh database in a temp folder.
  const shipped = fleetSettingsOf(
    loadConfig(path.join(projectRoot(), 'temporal.yaml')).environments['contoso-sandbox'],
  );
  const env = await startTestEnvironment(temporal, {
    topology: shipped.topology,
    aosStartupMs: shipped.aosStartupMs,
  });
  const workerProcess = spawn(
    process.execPath,
    [path.join(projectRoot(), 'dist/worker/index.js'), env.configFile],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    },
  );
  const client: Client = temporal.client;
  const input = { environment: env.name, requestedBy: 'bench', reason: 'benchmark' };
  const run = (wf: typeof enableMaintenanceMode, i: number) =>
    client.workflow.execute(wf, {
      workflowId: `bench-${wf.name}-${i}`,
      taskQueue: env.config.temporal.taskQueue,
      args: [input],
    });
  const lock = { take: [] as number[], release: [] as number[] };
  const logged = { take: [] as number[], release: [] as number[] };
  /** The lock's share of an operation, from its history; and as its log counts it (see bench/lock-round-trip.ts). */
  const recordLockTimes = async (workflowId: string) => {
    const handle = client.workflow.getHandle(workflowId);
    const { take, release } = lockRoundTrips((await handle.fetchHistory()).events ?? []);
    lock.take.push(take);
    lock.release.push(release);
    const { entries } = await handle.query(logQuery);
    const took = (message: string) =>
      entries.find((e) => e.kind === 'attempt' && e.outcome === 'succeeded' && e.message === message)
        ?.durationMs ?? NaN;
    logged.take.push(took('take the servicing lock'));
    logged.release.push(took('record history and release the lock'));
  };
  const medians = (times: typeof lock) => ({
    takeMedian: median(times.take),
    releaseMedian: median(times.release),
    perOperationMedian: median(times.take.map((t, i) => t + times.release[i])),
  });

  try {
    await run(disableMaintenanceMode, -1); // warm-up: the worker has bundled its workflows and answers
    const manual: number[] = [];
    const workflow: number[] = [];
    for (let i = 0; i < REPETITIONS; i++) {
      manual.push(await timed(() => manualProcedure(env, 1)));
      await manualProcedure(env, 0);
      workflow.push(await timed(() => run(enableMaintenanceMode, i)));
      await run(disableMaintenanceMode, i);
      await recordLockTimes(`bench-${enableMaintenanceMode.name}-${i}`);
      await recordLockTimes(`bench-${disableMaintenanceMode.name}-${i}`);
      process.stderr.write(
        `  repetition ${i + 1}/${REPETITIONS}: manual ${manual[i].toFixed(0)} ms, workflow ${workflow[i].toFixed(0)} ms\n`,
      );
    }
    const results = {
      date: new Date().toISOString(),
      environment: env.name,
      topology: shipped.topology,
      aosStartupMs: shipped.aosStartupMs,
      repetitions: REPETITIONS,
      manualProcedureMs: { median: median(manual), runs: manual },
      enableWorkflowMs: { median: median(workflow), runs: workflow },
      ratio: median(workflow) / median(manual),
      target: 0.7,
      lockMs: { ...medians(lock), target: 50, operations: lock.take.length, asLogged: medians(logged) },
      workerPeakRssMiB: peakRssMiB(workerProcess.pid!),
    };
    const out = path.join(
      projectRoot(),
      'bench/results',
      `enable-${results.date.replace(/[:.]/g, '-')}.json`,
    );
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(results, null, 2));
    process.stdout.write(
      [
        '',
        `Enable maintenance mode on ${env.name} (${results.topology.interactive} interactive + ${results.topology.batch} batch AOS, ` +
          `${results.aosStartupMs} ms AOS start), ${REPETITIONS} runs each`,
        `  (a) manual procedure (flag + restart every AOS + wait healthy)  median ${results.manualProcedureMs.median.toFixed(0)} ms`,
        `  (b) enableMaintenanceMode workflow, start to completed          median ${results.enableWorkflowMs.median.toFixed(0)} ms`,
        `  ratio (b)/(a)                                                   ${results.ratio.toFixed(2)}  (target <= ${results.target})`,
        `  servicing lock per operation (take + release, ${results.lockMs.operations} operations)      median ${results.lockMs.perOperationMedian.toFixed(0)} ms` +
          ` (take ${results.lockMs.takeMedian.toFixed(0)}, release ${results.lockMs.releaseMedian.toFixed(0)}; target <= ${results.lockMs.target})`,
        `    as the operation log counts it (from the start of the workflow task that asked)   median ${results.lockMs.asLogged.perOperationMedian.toFixed(0)} ms` +
          ` (take ${results.lockMs.asLogged.takeMedian.toFixed(0)}, release ${results.lockMs.asLogged.releaseMedian.toFixed(0)})`,
        `  worker peak RSS                                                 ${results.workerPeakRssMiB.toFixed(0)} MiB`,
        `  written to ${path.relative(process.cwd(), out)}`,
        '',
      ].join('\n'),
    );
  } finally {
    workerProcess.kill('SIGTERM');
    await new Promise((r) => workerProcess.once('exit', r));
    await env.stop();
    await temporal.teardown();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
