import { rolloutChildId } from '../../contract/rollout';
import type { Observed } from '../helpers/environment';
import { statusQuery } from '../../contract/operation';
import { startCli } from '../helpers/cli';
import { startFleetEndToEnd, type FleetEndToEnd } from '../helpers/e2e';

/** Ten in-process environments (env-01..env-10, tag sandbox) on one supervisor, the dev server, a worker; the CLI as operators run it. */
let e2e: FleetEndToEnd;
beforeAll(async () => {
  e2e = await startFleetEndToEnd({ count: 10, tags: ['sandbox'] });
});
afterAll(() => e2e?.stop());
afterEach(() => Promise.all(e2e.fleet.names.map((name) => e2e.fleet.fleet(name).clearFaults())));

const EVERY_AOS = ['aos-1', 'aos-2', 'aos-3'];
const NORMAL: Observed = { flag: 0, running: EVERY_AOS };
/** One interactive and one batch AOS, both started after the flag was set. */
const IN_MAINTENANCE: Observed = { flag: 1, running: ['aos-1 (maintenance)', 'aos-3 (maintenance)'] };

const rolloutId = (stdout: string) => /Started rollout (\S+) /.exec(stdout)![1];
const row = (environment: string, state: string, result = '') =>
  new RegExp(`^${environment}\\s+${state}\\s+${result}`, 'm');
/** `maint rollout <action>` on every environment tagged sandbox, at most `concurrency` at once. */
const onSandbox = (action: string, concurrency: number, ...more: string[]) => [
  'rollout',
  action,
  '--tag',
  'sandbox',
  '--max-concurrency',
  String(concurrency),
  '--reason',
  'e2e',
  ...more,
];

/** Every environment as the fleet shows it, by name. */
async function observeAll(): Promise<Record<string, Observed>> {
  const names = e2e.fleet.names;
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await e2e.fleet.observe(n)])));
}

/** How many of the rollout's child workflows were open at once, from their start and close times on the server. */
async function mostChildrenAtOnce(id: string): Promise<number> {
  const children = await Promise.all(
    e2e.fleet.names.map((n) => e2e.temporal.client.workflow.getHandle(rolloutChildId(id, n)).describe()),
  );
  // At the same instant a close comes before a start: a slot freed and refilled is not an overlap.
  const edges = children
    .flatMap((c) => [
      { at: c.startTime.getTime(), delta: 1 },
      { at: c.closeTime!.getTime(), delta: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const { delta } of edges) most = Math.max(most, (open += delta));
  return most;
}

describe('maint rollout over 10 in-process environments on one supervisor', () => {
  it('enables all 10 at most 4 at once, then disable --tag brings them all back', async () => {
    const enabled = await e2e.maint(...onSandbox('enable', 4, '--max-errors', '0'));
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    for (const name of e2e.fleet.names) expect(enabled.stdout).toMatch(row(name, 'Done', 'Succeeded'));
    expect(enabled.stdout).toContain(
      '10 succeeded, 0 failed, 0 skipped, 0 not started, 0 running of 10; 0 errors',
    );
    expect(Object.values(await observeAll())).toEqual(Array(10).fill(IN_MAINTENANCE));
    // The first four start together, so the limit is reached, and never passed.
    expect(await mostChildrenAtOnce(rolloutId(enabled.stdout))).toBe(4);

    const disabled = await e2e.maint(...onSandbox('disable', 4));
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain(
      '10 succeeded, 0 failed, 0 skipped, 0 not started, 0 running of 10; 0 errors',
    );
    expect(Object.values(await observeAll())).toEqual(Array(10).fill(NORMAL));
    expect(await mostChildrenAtOnce(rolloutId(disabled.stdout))).toBe(4);
  });

  it('maxErrors 0 and a persistent fault on env-02: no new start, and exactly env-01 and env-03 changed', async () => {
    expect(Object.values(await observeAll())).toEqual(Array(10).fill(NORMAL));
    // env-02's AOS never start again. Its operation gives up after a few retry rounds (about 4 s);
    // env-01 and env-03 start slowly (8 s), so the error counts while they are still in flight.
    await e2e.fleet.fleet('env-02').setFaults({
      startFailures: Object.fromEntries(EVERY_AOS.map((id) => [id, 1000])),
    });
    for (const name of ['env-01', 'env-03'])
      await e2e.fleet
        .fleet(name)
        .setFaults({ startDelayMs: Object.fromEntries(EVERY_AOS.map((id) => [id, 8000])) });

    // --wait-decisions: it keeps following while env-02 waits, until the rollout ends.
    const rollout = startCli(
      e2e.fleet.configFile,
      onSandbox('enable', 3, '--max-errors', '0', '--wait-decisions'),
    );
    await rollout.waitFor('stdout', row('env-02', 'AwaitingDecision'));
    await rollout.waitFor('stdout', row('env-01', 'Done', 'Succeeded'));
    await rollout.waitFor('stdout', row('env-03', 'Done', 'Succeeded'));
    const id = rolloutId(rollout.stdout());
    const child = rolloutChildId(id, 'env-02');

    // The in-flight ones finished; the rollout waits for the decision on env-02 and starts nothing more.
    const waiting = await e2e.maint('status', id);
    expect(waiting.code).toBe(6);
    expect(waiting.stdout).toContain(`${id}: Draining`);
    expect(waiting.stdout).toMatch(row('env-02', 'AwaitingDecision'));
    for (const name of e2e.fleet.names.slice(3)) expect(waiting.stdout).toMatch(row(name, 'Pending'));
    expect(waiting.stdout).toContain('No new environment started: 1 error, more than maxErrors 0');
    expect(waiting.stdout).toContain(`env-02 waits for a decision: maint resume|rollback|abort ${child}`);
    const failed = { flag: 1, running: [] };
    expect(await observeAll()).toEqual({
      'env-01': IN_MAINTENANCE,
      'env-02': failed,
      'env-03': IN_MAINTENANCE,
      ...Object.fromEntries(e2e.fleet.names.slice(3).map((n) => [n, NORMAL])),
    });

    // The operator clears the cause and rolls env-02 back; then the rollout ends.
    await e2e.fleet.fleet('env-02').clearFaults();
    const rolledBack = await e2e.maint('rollback', child, '--reason', 'AOS fixed, retry later');
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.stdout).toContain('env-02 is Deployed (RolledBack).');

    const ended = await rollout.exit;
    expect(ended.code).toBe(1);
    const table = ended.stdout.slice(ended.stdout.indexOf(`${id}: Failed`));
    expect(table).toMatch(row('env-01', 'Done', 'Succeeded'));
    expect(table).toMatch(row('env-02', 'Done', 'RolledBack'));
    expect(table).toMatch(row('env-03', 'Done', 'Succeeded'));
    for (const name of e2e.fleet.names.slice(3)) expect(table).toMatch(row(name, 'Done', 'NotStarted'));
    expect(table).toContain('2 succeeded, 1 failed, 0 skipped, 7 not started, 0 running of 10; 1 error');
    expect(await observeAll()).toEqual({
      'env-01': IN_MAINTENANCE,
      'env-03': IN_MAINTENANCE,
      ...Object.fromEntries(['env-02', ...e2e.fleet.names.slice(3)].map((n) => [n, NORMAL])),
    });
  });

  it('a rollout that cannot go on without a decision exits 6, naming the environment, its failure and the three commands', async () => {
    // env-04's AOS never start again; maxErrors 0 stops new starts once it waits for a decision.
    await e2e.fleet.fleet('env-04').setFaults({
      startFailures: Object.fromEntries(EVERY_AOS.map((id) => [id, 1000])),
    });
    const started = Date.now();
    const run = await e2e.maint(...onSandbox('enable', 4, '--max-errors', '0'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(6);
    // Once env-01..03 are done it can only wait (the member waits up to 7 days): it says so, at once.
    expect(Date.now() - started).toBeLessThan(60_000);
    const id = rolloutId(run.stdout);
    const child = rolloutChildId(id, 'env-04');
    const { failure } = await e2e.temporal.client.workflow.getHandle(child).query(statusQuery);
    for (const name of ['env-01', 'env-02', 'env-03'])
      expect(run.stdout).toMatch(row(name, 'Done', 'Succeeded'));
    expect(run.stdout).toMatch(row('env-04', 'AwaitingDecision'));
    expect(run.stdout).toContain(
      `${id} cannot go on without a decision: 1 environment waits for one, nothing else runs, and nothing new starts ` +
        '(no new environment starts: 1 error, more than maxErrors 0).',
    );
    expect(run.stdout).toContain(`env-04: ${child} needs a decision.\n  failed at: Restart AOS instances\n`);
    expect(run.stdout).toContain(`  error: ${failure!.error.message}\n`);
    for (const decision of ['resume', 'rollback', 'abort'])
      expect(run.stdout).toMatch(new RegExp(`^  maint ${decision}\\s+${child} --reason "\\.\\.\\."`, 'm'));

    // The rollout itself is still there, waiting: deciding on env-04 lets it end.
    await e2e.fleet.fleet('env-04').clearFaults();
    expect((await e2e.maint('abort', child, '--reason', 'by hand later')).code).toBe(0);
    const result = await e2e.temporal.client.workflow.getHandle(id).result();
    expect(result).toMatchObject({ result: 'Failed', stopped: '1 error, more than maxErrors 0' });
  });

  it("a window rollout that cannot go on names the window's operation that waits, not the window", async () => {
    // Out of maintenance first (an earlier rollout may have enabled it), so that the window's enable restarts AOS.
    expect((await e2e.maint('disable', 'env-10', '--reason', 'e2e')).code).toBe(0);
    await e2e.fleet.fleet('env-10').setFaults({
      startFailures: Object.fromEntries(EVERY_AOS.map((id) => [id, 1000])),
    });
    const run = await e2e.maint(
      'rollout',
      'window',
      '--environments',
      'env-10',
      '-d',
      '30',
      '--reason',
      'e2e',
    );
    expect(run.code).toBe(6);
    const id = rolloutId(run.stdout);
    // The window's enable child failed and waits; the window itself has nothing to decide.
    const waiting = `${rolloutChildId(id, 'env-10')}-enable`;
    expect(run.stdout).toContain(
      `env-10: ${waiting} needs a decision.\n  failed at: Restart AOS instances\n`,
    );
    for (const decision of ['resume', 'rollback', 'abort'])
      expect(run.stdout).toMatch(new RegExp(`^  maint ${decision}\\s+${waiting} --reason`, 'm'));

    await e2e.fleet.fleet('env-10').clearFaults();
    expect((await e2e.maint('rollback', waiting, '--reason', 'later')).code).toBe(0);
    expect(await e2e.temporal.client.workflow.getHandle(id).result()).toMatchObject({ result: 'Failed' });
    expect(await e2e.fleet.observe('env-10')).toEqual(NORMAL);
  });
});
