import { statusQuery } from '../../contract/operation';
import { faultMatrix } from '../helpers/fault-matrix';

/**
 * examples/fleet-commands: contoso-sandbox reached only through commands (the command driver). The
 * fault matrix of the flag and the AOS restarts, as for the fleet driver; enable, disable, a window
 * with key changes and a dry run; the fleet's URL is a secret that never reaches a history unmasked.
 */
const { e2e, workflowId, log } = faultMatrix({ commands: true, steps: ['flipFlag', 'restartAos'] });

const fleetUrl = () => e2e().env.fleet.url;
const ran = async () =>
  (await log()).entries
    .filter((e) => e.kind === 'note' && e.message.startsWith('ran '))
    .map((e) => e.message);

async function keys(): Promise<Record<string, boolean>> {
  const front = (await e2e().env.fleet.listAos()).find(
    (a) => a.role === 'interactive' && a.status === 'running',
  );
  const { keys } = await e2e().env.fleet.listConfigurationKeys(front!.port!);
  return Object.fromEntries(keys.map((k) => [k.name, k.enabled]));
}

it('enable and disable run the commands, which the operation log lists, secrets masked', async () => {
  const enabled = await e2e().maint('enable', 'contoso-sandbox', '-u', 'jane');
  expect(enabled.stderr).toBe('');
  expect(enabled.code).toBe(0);
  expect(await e2e().observe()).toEqual({ flag: 1, running: ['aos-1 (maintenance)', 'aos-4 (maintenance)'] });
  expect(await ran()).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^ran writeFlag: MAINTENANCE_FLAG=1 node flag\.js write → exit 0/),
      expect.stringMatching(/^ran restartAos: MAINTENANCE_AOS_ID=aos-1 node aos\.js restart → exit 0/),
      expect.stringMatching(/^ran stopAos: MAINTENANCE_AOS_ID=aos-2 node aos\.js stop → exit 0/),
    ]),
  );
  const disabled = await e2e().maint('disable', 'contoso-sandbox', '-u', 'jane');
  expect(disabled.code).toBe(0);
  expect(await e2e().observe()).toEqual({
    flag: 0,
    running: ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'],
  });
});

it('a window with key changes sets them through setKey, then leaves maintenance mode', async () => {
  expect((await keys()).WHSandTMS).toBe(false);
  const opened = await e2e().maint(
    'window',
    'contoso-sandbox',
    '-d',
    '30',
    '--enable',
    'WHSandTMS',
    '-u',
    'jane',
  );
  expect(opened.code).toBe(0);
  expect((await keys()).WHSandTMS).toBe(true);
  const window = e2e().temporal.client.workflow.getHandle('window-contoso-sandbox');
  expect((await window.query(statusQuery)).window?.changes).toEqual([
    { name: 'WHSandTMS', from: false, to: true },
  ]);
  const setKey = (await window.query(statusQuery)).steps.find((s) => s.name === 'applyChanges');
  expect(setKey?.status).toBe('succeeded');
  expect((await e2e().maint('end-window', 'contoso-sandbox', '-u', 'jane')).code).toBe(0);
  expect((await e2e().maint('watch', 'window-contoso-sandbox')).stdout).toMatch(
    /Maintenance window on contoso-sandbox: Succeeded\./,
  );
  expect(await e2e().observe()).toEqual({ flag: 0, running: ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'] });
  expect((await keys()).WHSandTMS).toBe(true);
});

it('maint plan lists the exact commands, secrets masked, and changes nothing', async () => {
  const before = { ...(await e2e().observe()), aos: await e2e().env.fleet.listAos() };
  const plan = await e2e().maint('plan', 'window', 'contoso-sandbox', '-d', '60', '--disable', 'WHSandTMS');
  expect(plan.stderr).toBe('');
  expect(plan.code).toBe(0);
  for (const line of [
    'MAINTENANCE_FLAG=1 node flag.js write',
    'MAINTENANCE_AOS_ID=aos-1 node aos.js restart',
    'MAINTENANCE_AOS_ID=aos-3 node aos.js stop',
    'MAINTENANCE_KEY=WHSandTMS MAINTENANCE_KEY_ENABLED=0 node keys.js set',
    'MAINTENANCE_FLAG=0 node flag.js write',
  ])
    expect(plan.stdout).toContain(line);
  expect(plan.stdout).not.toContain(fleetUrl());
  expect({ ...(await e2e().observe()), aos: await e2e().env.fleet.listAos() }).toEqual(before);
});

it('maint plan tells who is affected through readImpact (impact.js, SQL on the fleet database)', async () => {
  const session = await e2e().env.fleet.addSession('alice');
  try {
    const plan = await e2e().maint('plan', 'enable', 'contoso-sandbox', '-u', 'jane');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('impact: 1 signed-in user (Alice Accountant)');
    expect(plan.stdout).toMatch(/impact: 0 batch jobs running or due before \S+\n/);
  } finally {
    await e2e().env.fleet.endSession(session.id);
  }
});

it('the secret fleet URL is masked in every history, also in failures that quote the output', async () => {
  // The matrix above made commands fail with the URL in their stderr; every history is still clean.
  const { client } = e2e().temporal;
  let masked = 0;
  for await (const wf of client.workflow.list()) {
    const history = JSON.stringify(await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory());
    expect(history).not.toContain(fleetUrl());
    if (history.includes('${env:FLEET_URL_SECRET_')) masked++;
  }
  // Failures quoted the commands' stderr, which named the URL: there, it reads as its reference.
  expect(masked).toBeGreaterThan(0);
  expect(workflowId).toBe('maintenance-contoso-sandbox');
});
