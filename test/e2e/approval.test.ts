import os from 'node:os';
import { entityOf } from '../helpers/entity';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';

let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({ protected: true });
});
afterAll(() => e2e?.stop());

describe('approval on a protected environment, through the CLI', () => {
  it('enable waits for approval and says who may approve (exit 7); list finds it; self-approval is refused; approve by another proceeds; reject changes nothing', async () => {
    const enable = await e2e.maint('enable', 'contoso-sandbox', '-u', 'alice', '-r', 'keys');
    expect(enable.code).toBe(7);
    expect(enable.stdout).toContain(
      'contoso-sandbox is protected: maintenance-contoso-sandbox waits for approval',
    );
    expect(enable.stdout).toContain('requested by alice — keys; anyone else may approve:');
    expect(enable.stdout).toContain('maint approve contoso-sandbox --by <name>');
    expect(e2e.env.readFlag()).toBe(0);

    const list = await e2e.maint('list', '--state', 'AwaitingApproval', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([
      {
        environment: 'contoso-sandbox',
        state: 'AwaitingApproval',
        operation: { workflowId: 'maintenance-contoso-sandbox' },
      },
    ]);

    const self = await e2e.maint('approve', 'contoso-sandbox', '--by', 'alice');
    expect(self.code).toBe(4);
    expect(self.stderr.trim()).toBe('approve refused: you requested it; someone else must approve');

    const approve = await e2e.maint('approve', 'contoso-sandbox', '--by', 'bob', '-r', 'CAB-42');
    expect(approve.code).toBe(0);
    expect(e2e.env.readFlag()).toBe(1);
    const identity = `maint-cli ${os.userInfo().username}@${os.hostname()}`;
    expect((await e2e.maint('status', 'contoso-sandbox')).stdout).toContain(
      `decision: approve by bob (client ${identity})`,
    );

    expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'alice')).code).toBe(7);
    const reject = await e2e.maint('reject', 'contoso-sandbox', '--by', 'bob', '-r', 'not now');
    expect(reject.code).toBe(0);
    expect(reject.stdout).toContain('contoso-sandbox: Rejected, nothing was changed (reject by bob');
    expect(e2e.env.readFlag()).toBe(1);
    const [last] = await entityOf(e2e.temporal.client, e2e.env).history(1);
    expect(last).toMatchObject({ action: 'disable', result: 'Rejected', requestedBy: 'alice' });
    expect((await e2e.maint('list', '--state', 'InMaintenance')).stdout).toContain('contoso-sandbox');
  });
});
