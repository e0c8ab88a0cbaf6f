import { rolloutChildId } from '../../contract/rollout';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { until } from '../helpers/until';

/** A CLI process each read: not too often. */
const EVERY_250_MS = { everyMs: 250 };

let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({ faults: true });
});
afterAll(() => e2e?.stop());
afterEach(() => e2e.env.fleet.clearFaults());

const rolloutId = (stdout: string) => /Started rollout (\S+) /.exec(stdout)![1];

describe('maint rollout end to end: CLI, dev server, worker, fleet', () => {
  it('runs a rollout, follows it to its table, and shows it with status', async () => {
    const run = await e2e.maint('rollout', 'enable', '--environments', e2e.env.name, '--reason', 'e2e');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${e2e.env.name}\\s+Done\\s+Succeeded`));
    expect(run.stdout).toContain('1 succeeded, 0 failed, 0 skipped, 0 not started, 0 running of 1; 0 errors');
    expect((await e2e.observe()).flag).toBe(1);
    const status = await e2e.maint('status', rolloutId(run.stdout));
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${rolloutId(run.stdout)}: Succeeded`);
    const paused = await e2e.maint('pause', rolloutId(run.stdout));
    expect(paused.code).toBe(4);
    expect(paused.stderr).toContain(
      `Operation ${rolloutId(run.stdout)} has ended: there is nothing to decide.`,
    );
  });

  it('a failed environment: status exits 6 while it waits for a decision, 1 once it was aborted', async () => {
    await e2e.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const started = await e2e.maint('rollout', 'disable', '--environments', e2e.env.name, '--no-wait');
    expect(started.code).toBe(0);
    const id = rolloutId(started.stdout);
    const status = await until(
      () => e2e.maint('status', id),
      (s) => s.code === 6,
      'status to exit 6',
      EVERY_250_MS,
    );
    expect(status.stdout).toContain(
      `waits for a decision: maint resume|rollback|abort ${rolloutChildId(id, e2e.env.name)}`,
    );
    const aborted = await e2e.maint('abort', rolloutChildId(id, e2e.env.name), '--no-wait');
    expect(aborted.code).toBe(0);
    const ended = await until(
      () => e2e.maint('status', id),
      (s) => s.code === 1,
      'status to exit 1',
      EVERY_250_MS,
    );
    expect(ended.stdout).toMatch(new RegExp(`${e2e.env.name}\\s+Done\\s+Aborted`));
    expect(ended.stdout).toContain('No new environment started: 1 error, more than maxErrors 0');
  });
});
