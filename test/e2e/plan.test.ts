import { entityOf } from '../helpers/entity';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import type { OperationPlan } from '../../contract/plan';

/**
 * Dry runs change nothing: `maint plan`, `--dry-run` and `"dryRun": true` from the Web UI read the
 * environment with read-only calls and list each step as the driver would make it.
 */
let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd();
});
afterAll(() => e2e?.stop());

const aosUrl = (id: string) => `${e2e.env.fleet.url}/environments/contoso-sandbox/aos/${id}`;

async function unchanged<T>(run: () => Promise<T>): Promise<T> {
  const before = { ...(await e2e.observe()), aos: await e2e.env.fleet.listAos() };
  const result = await run();
  expect({ ...(await e2e.observe()), aos: await e2e.env.fleet.listAos() }).toEqual(before);
  expect(await entityOf(e2e.temporal.client, e2e.env).history(10)).toEqual([]);
  return result;
}

it('maint plan enable lists the flag change and each AOS restart or stop, and changes nothing', async () => {
  const run = await unchanged(() => e2e.maint('plan', 'enable', 'contoso-sandbox', '-u', 'jane'));
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Plan: enable on contoso-sandbox (dry run: nothing was changed)');
  expect(run.stdout).toContain("UPDATE SQLSYSTEMVARIABLES SET VALUE = 1 WHERE PARM = 'CONFIGURATIONMODE'");
  for (const id of ['aos-1', 'aos-4']) expect(run.stdout).toContain(`POST ${aosUrl(id)}/restart`);
  for (const id of ['aos-2', 'aos-3', 'aos-5']) expect(run.stdout).toContain(`POST ${aosUrl(id)}/stop`);
  expect(run.stdout).toMatch(/check that \S+ is refused/);
});

it('--dry-run on window names an unknown key as the refusal, exit 4, and changes nothing', async () => {
  const run = await unchanged(() =>
    e2e.maint('window', 'contoso-sandbox', '-d', '30', '--enable', 'WHSandTMZ', '--dry-run'),
  );
  expect(run.code).toBe(4);
  expect(run.stdout).toMatch(
    /WOULD BE REFUSED: Unknown configuration key "WHSandTMZ"\. Known keys: .*WHSandTMS/,
  );
});

it('"dryRun": true, as typed into the Web UI, returns the plan of a window and leaves no operation behind', async () => {
  const { client } = e2e.temporal;
  const plan = await unchanged(() =>
    client.workflow.execute<(input: unknown) => Promise<OperationPlan>>('maintenanceWindow', {
      workflowId: 'plan-from-the-web-ui',
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [
        {
          environment: 'contoso-sandbox',
          requestedBy: 'jane',
          duration: 'PT1H',
          changes: { enable: ['WHSandTMS'] },
          dryRun: true,
        },
      ],
    }),
  );
  expect(plan).toMatchObject({ dryRun: true, action: 'window', current: { configurationMode: 0 } });
  expect(plan.refusal).toBeUndefined();
  expect(plan.steps.map((s) => s.step)).toEqual([
    'preflight',
    'enable: flipFlag',
    'enable: restartAos (in parallel, each waited for)',
    'enable: verify',
    'applyChanges',
    'window',
    'disable: flipFlag',
    'disable: restartAos (in parallel, each waited for)',
    'disable: verify',
    'record',
  ]);
  expect(plan.steps.find((s) => s.step === 'applyChanges')!.does).toEqual([
    expect.stringContaining('/license/configuration-keys/WHSandTMS {"enabled": true}'),
  ]);
  const list = await e2e.maint('list');
  expect(list.stdout).not.toContain('plan-from-the-web-ui');
});
