import type { ApplicationFailure } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { searchAttributes } from '../../contract/operation';
import type { AosInstance } from '../../fleet/schemas';
import { cli } from '../helpers/cli';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import type { TestEnvironment } from '../helpers/environment';

let e2e: EndToEnd;
let temporal: TestWorkflowEnvironment;
let env: TestEnvironment;

beforeAll(async () => {
  // An AOS process each, as `npm start` runs them (other tests run them inside the supervisor).
  e2e = await startEndToEnd({ faults: true, aosMode: 'process' });
  ({ temporal, env } = e2e);
});
afterAll(() => e2e?.stop());
afterEach(() => env.fleet.clearFaults());

const running = async () => (await env.fleet.listAos()).filter((a) => a.status === 'running');

async function signIns(aos: AosInstance) {
  const out: Record<string, boolean> = {};
  for (const user of ['admin', 'maint.user', 'alice'])
    out[user] = (await env.fleet.signIn(aos.port!, user)).allowed;
  return out;
}

describe('enable and disable end to end: CLI, dev server, worker, fleet', () => {
  it('enable puts the environment in maintenance as its users see it, then disable brings everyone back', async () => {
    const enabled = await cli(env.configFile, [
      'enable',
      env.name,
      '--reason',
      'e2e',
      '--requested-by',
      'e2e-test',
    ]);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toMatch(/Started maintenance-contoso-sandbox/);
    expect(enabled.stdout).toMatch(/100%/);
    expect(enabled.stdout).toMatch(/contoso-sandbox is InMaintenance \(Succeeded\)/);

    expect(env.readFlag()).toBe(1);
    const up = await running();
    expect(up.map((a) => a.role).sort()).toEqual(['batch', 'interactive']);
    for (const aos of up) expect((await env.fleet.aosHealth(aos.port!)).maintenanceMode).toBe(true);
    const front = up.find((a) => a.role === 'interactive')!;
    expect(await signIns(front)).toEqual({ admin: true, 'maint.user': true, alice: false });

    const status = await cli(env.configFile, ['status', env.name, '--json']);
    expect(status.code).toBe(8); // in maintenance: a pipeline must not deploy now
    expect(JSON.parse(status.stdout)).toMatchObject({
      environment: env.name,
      state: 'InMaintenance',
      operation: {
        workflowType: 'enableMaintenanceMode',
        status: { result: 'Succeeded', progress: 100, requestedBy: 'e2e-test' },
      },
    });

    const disabled = await cli(env.configFile, ['disable', env.name, '--json', '--requested-by', 'e2e-test']);
    expect(disabled.code).toBe(0);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ result: 'Succeeded', state: 'Deployed' });
    expect(env.readFlag()).toBe(0);
    const all = await running();
    expect(all).toHaveLength(5);
    for (const aos of all) expect((await env.fleet.aosHealth(aos.port!)).maintenanceMode).toBe(false);
    for (const aos of all.filter((a) => a.role === 'interactive')) {
      expect(await signIns(aos)).toEqual({ admin: true, 'maint.user': true, alice: true });
    }

    const text = await cli(env.configFile, ['status', env.name]);
    expect(text.code).toBe(0); // Deployed and free: ready for a deployment
    expect(text.stdout).toMatch(/^contoso-sandbox: Deployed/);
    expect(text.stdout).toMatch(/✓ Verify topology and sign-in rules/);
  });

  it('publishes its search attributes in three upserts: the release marker, who and what at the lock, where it ended with its result', async () => {
    const by = ['--requested-by', 'e2e-test'];
    expect((await cli(env.configFile, ['enable', env.name, ...by])).code).toBe(0);
    const operation = temporal.client.workflow.getHandle(`maintenance-${env.name}`);
    const attributes = (await operation.describe()).typedSearchAttributes;
    expect(Object.values(searchAttributes).map((key) => attributes.get(key))).toEqual([
      env.name,
      'enable',
      'InMaintenance',
      'Succeeded',
    ]);
    const upserts = ((await operation.fetchHistory()).events ?? []).flatMap((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      return fields ? [Object.keys(fields).sort()] : [];
    });
    expect(upserts).toEqual([
      ['TemporalChangeVersion'],
      ['MaintenanceAction', 'MaintenanceEnvironment', 'MaintenanceState'],
      ['MaintenanceResult', 'MaintenanceState'],
    ]);
    expect((await cli(env.configFile, ['disable', env.name, ...by])).code).toBe(0);
  });

  it('fails bad input typed as in the Web UI cleanly, and changes nothing', async () => {
    const pids = (await running()).map((a) => a.pid);
    const handle = await temporal.client.workflow.start('enableMaintenanceMode', {
      workflowId: 'bad-input-from-ui',
      taskQueue: env.config.temporal.taskQueue,
      args: [{ enviroment: 'contoso-sandbox' }],
    });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toMatch(/Unrecognized key\(s\) in object: 'enviroment'/);
    expect(cause.message).toMatch(/environment: name the environment/);
    expect(env.readFlag()).toBe(0);
    expect((await running()).map((a) => a.pid)).toEqual(pids);
  });

  it('retries a transient fault, an AOS start that fails twice, to success', async () => {
    await env.fleet.setFaults({ startFailures: { 'aos-4': 2 } });
    const enabled = await cli(env.configFile, ['enable', env.name, '--json', '--requested-by', 'e2e-test']);
    expect(enabled.code).toBe(0);
    expect(JSON.parse(enabled.stdout)).toMatchObject({ result: 'Succeeded' });
    expect((await env.fleet.getAos('aos-4')).status).toBe('running');
    expect((await cli(env.configFile, ['disable', env.name, '--requested-by', 'e2e-test'])).code).toBe(0);
  });

  it('refuses a second operation while one runs, naming the workflow', async () => {
    await env.fleet.setFaults({ startDelayMs: { 'aos-1': 3000 } });
    const first = await cli(env.configFile, ['enable', env.name, '--no-wait', '--requested-by', 'e2e-test']);
    expect(first.code).toBe(0);
    const second = await cli(env.configFile, ['disable', env.name, '--requested-by', 'e2e-test']);
    expect(second.code).toBe(4);
    expect(second.stderr.trim()).toBe(
      'An operation is already running on contoso-sandbox (workflow maintenance-contoso-sandbox). Follow it with `maint status contoso-sandbox`.',
    );
    await temporal.client.workflow.getHandle('maintenance-contoso-sandbox').result();
    expect((await cli(env.configFile, ['disable', env.name, '--requested-by', 'e2e-test'])).code).toBe(0);
  });

  it('answers an unknown environment and an unreachable server with one line and an exit code', async () => {
    const unknown = await cli(env.configFile, ['enable', 'fabrikam-prod']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(
      /^Unknown environment "fabrikam-prod". Known environments: contoso-sandbox \(from .*temporal\.yaml\)\.$/,
    );
    const down = await cli(env.configFile, ['status', env.name], {
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
    });
    expect(down.code).toBe(3);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/^Cannot reach Temporal at 127\.0\.0\.1:1 \(namespace default\)/);
  });
});
