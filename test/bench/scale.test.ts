import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm run bench:scale` with small arguments, so that it cannot rot: it runs end to end (dev server,
 * in-process environments, the bench worker, the floor, a rollout) and writes its JSON and its chart.
 * The timings are not asserted (they are measurements, printed for the closing note); the server's
 * work per operation is, loosely: counted at all, and an operation costs more than the floor's workflow.
 */
const BENCH = path.resolve(__dirname, '../../dist/bench/scale.js');

it('measures 3 environments at concurrency 1 and 3 and a rollout, writing JSON, SVG and the spec', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
  try {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [BENCH, '--environments', '3', '--concurrency', '1,3', '--rollout-concurrency', '2', '--out', out],
        { timeout: 150_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(run.stdout).toContain('every operation and rollout Succeeded');
    expect(run.code).toBe(0);
    const files = fs.readdirSync(out);
    const json = files.find((f) => f.endsWith('.json') && !f.endsWith('.vl.json'))!;
    const results = JSON.parse(fs.readFileSync(path.join(out, json), 'utf8'));
    expect(results.levels.map((l: { concurrency: number }) => l.concurrency)).toEqual([1, 3]);
    expect(results.levels[1]).toMatchObject({
      operations: { operations: 6 },
      floor: { operations: 6 },
      resources: { operations: { worker: { peakRssMiB: expect.any(Number) } } },
    });
    for (const level of results.levels) {
      const { operations, floor } = level.workPerOperation;
      for (const work of [operations, floor]) {
        expect(work.events).toBeGreaterThan(0);
        expect(work.workflowTasks).toBeGreaterThan(0);
        expect(work.activityTasks).toBeGreaterThan(0);
        expect(work.devServerCpuMs).toBeGreaterThan(0);
        expect(work.workerCpuMs).toBeGreaterThan(0);
      }
      // The floor has an operation's activities and nothing else: no updates, signals or upserts.
      expect(floor).toMatchObject({ updates: 0, signals: 0, searchAttributeUpserts: 0 });
      // Sized from an operation's activities (an entity may add one now and then).
      expect(Math.abs(floor.activityTasks - operations.activityTasks)).toBeLessThanOrEqual(1);
      expect(operations.updates).toBeGreaterThan(0);
      expect(operations.searchAttributeUpserts).toBeGreaterThan(0);
      expect(floor.events).toBeLessThan(operations.events);
    }
    expect(run.stdout).toContain('server work per operation');
    expect(results.rollout).toMatchObject({
      environments: 3,
      maxConcurrency: 2,
      idealMs: expect.any(Number),
    });
    const svg = fs.readFileSync(path.join(out, json.replace(/\.json$/, '.svg')), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*>/);
    expect(svg).toContain('floor p95');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
