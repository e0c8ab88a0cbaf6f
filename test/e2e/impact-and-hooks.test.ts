import fs from 'node:fs';
import path from 'node:path';
import type { OperationPlan } from '../../contract/plan';
import { entityOf } from '../helpers/entity';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';

/**
 * On the dev server with the real fleet, through the CLI: the impact preview of `maint plan` and of
 * dry runs (users signed in, batch jobs in the fleet's database), and a before hook's veto.
 */
let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({
    hooks: {
      beforeEnable: { shell: 'if [ -f veto ]; then echo "month-end batch still posting" >&2; exit 2; fi' },
    },
  });
  const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
  await e2e.env.fleet.addSession('alice', 'aos-1');
  await e2e.env.fleet.addSession('admin');
  await e2e.env.fleet.addBatchJob({ caption: 'Post invoices', status: 'executing', startsAt: inMinutes(-5) });
  await e2e.env.fleet.addBatchJob({ caption: 'Nightly MRP', status: 'waiting', startsAt: inMinutes(30) });
  await e2e.env.fleet.addBatchJob({ caption: 'Weekly cleanup', status: 'waiting', startsAt: inMinutes(180) });
});
afterAll(() => e2e?.stop());

it('maint plan enable says who is affected now: signed-in users by name, batch jobs running or due within the hour', async () => {
  const run = await e2e.maint('plan', 'enable', 'contoso-sandbox', '-u', 'jane');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('impact: 2 signed-in users (Alice Accountant, Administrator)');
  expect(run.stdout).toMatch(
    /impact: 2 batch jobs running or due before \S+: Post invoices \(running\), Nightly MRP \(due \S+\)\n/,
  );
  expect(run.stdout).toContain('impact: active integrations not known to this driver');
});

it('a window plan counts the batch jobs due before the window ends', async () => {
  const run = await e2e.maint('plan', 'window', 'contoso-sandbox', '-d', '240', '-u', 'jane');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/impact: 3 batch jobs running or due before .*Weekly cleanup \(due \S+\)/);
});

it('"dryRun": true returns the preview in the plan, and a plan of disable has none', async () => {
  const { client } = e2e.temporal;
  const dryRun = (workflowType: string, workflowId: string) =>
    client.workflow.execute<(input: unknown) => Promise<OperationPlan>>(workflowType, {
      workflowId,
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [{ environment: 'contoso-sandbox', requestedBy: 'jane', dryRun: true }],
    });
  const plan = await dryRun('enableMaintenanceMode', 'impact-dry-run');
  expect(plan.impact).toMatchObject({
    available: true,
    users: { count: 2, names: ['Alice Accountant', 'Administrator'] },
    batchJobs: {
      count: 2,
      listed: [{ name: 'Post invoices', status: 'executing' }, { name: 'Nightly MRP' }],
    },
  });
  expect((await dryRun('disableMaintenanceMode', 'impact-dry-run-disable')).impact).toBeUndefined();
});

it('a before hook that fails refuses maint enable: exit 4, its message, nothing changed', async () => {
  fs.writeFileSync(path.join(e2e.env.dir, 'veto'), '');
  const before = { ...(await e2e.observe()), aos: await e2e.env.fleet.listAos() };
  const run = await e2e.maint('enable', 'contoso-sandbox', '-u', 'jane', '-r', 'release');
  expect(run.code).toBe(4);
  expect(run.stderr).toContain('The enable was refused by hook beforeEnable');
  expect(run.stderr).toContain('month-end batch still posting');
  expect({ ...(await e2e.observe()), aos: await e2e.env.fleet.listAos() }).toEqual(before);
  expect(await entityOf(e2e.temporal.client, e2e.env).holder()).toBeUndefined();
  fs.rmSync(path.join(e2e.env.dir, 'veto'));
});
