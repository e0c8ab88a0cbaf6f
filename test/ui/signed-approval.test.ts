import type { WorkflowHandle } from '@temporalio/client';
import { logQuery, statusQuery } from '../../contract/operation';
import { signingKey } from '../../client/signing';
import { cli } from '../helpers/cli';
import { testPeople, type PersonName } from '../helpers/people';
import {
  closedWorkflowPage,
  currentDetails,
  sendSignal,
  startFromForm,
  startWebUi,
  type WebUi,
} from '../helpers/web-ui';
import { until } from '../helpers/until';

/**
 * A protected environment driven from the real Web UI, as an operator does it: the UI cannot sign,
 * so what the CLI prints with `--print-input` and `--print-signal` (signed with the person's SSH key)
 * is pasted into the Start Workflow form and the Send a Signal dialog; what is typed by hand is
 * refused. The steps follow one operation, in order. Screenshots go to test-artifacts/ui/.
 */
const ENV = 'contoso-sandbox';
const WORKFLOW_ID = `maintenance-${ENV}`;
const keys = testPeople();
let ui: WebUi;
beforeAll(async () => {
  ui = await startWebUi({ protected: true, people: keys.people, approvers: keys.approvers });
});
afterAll(async () => {
  await ui?.stop();
  keys.remove();
});

/** `maint` as `who`, signing with their key (MAINTENANCE_SIGNING_KEY, as a user would set it). */
const as = (who: PersonName, ...args: string[]) =>
  cli(ui.e2e.env.configFile, args, { env: { MAINTENANCE_SIGNING_KEY: keys.person(who).key } });
const fingerprint = (who: PersonName) => signingKey(ui.e2e.env.config, keys.person(who).key).fingerprint;
const operation = (): WorkflowHandle => ui.e2e.temporal.client.workflow.getHandle(WORKFLOW_ID);

/** Waits until the operation's log has an entry with `text` (a signal is handled after the UI sent it). */
async function logged(text: string): Promise<void> {
  await until(
    () => operation().query(logQuery),
    (log) => log.entries.some((e) => e.message.includes(text)),
    `the log to say "${text}"`,
  );
}

async function state(): Promise<string> {
  return JSON.parse((await ui.e2e.maint('status', ENV, '--json')).stdout).state;
}

describe('approval on a protected environment from the Web UI (dev server, headless Chromium)', () => {
  it('an unsigned input typed into the Start Workflow form fails at once, NotTrusted, naming `maint enable <env> --print-input`, and changes nothing', async () => {
    const before = { observed: await ui.e2e.observe(), state: await state() };
    const page = await ui.newPage();
    await startFromForm(ui, page, {
      workflowId: WORKFLOW_ID,
      workflowType: 'enableMaintenanceMode',
      input: JSON.stringify({ environment: ENV, requestedBy: 'alice', reason: 'typed by hand' }),
      screenshot: `${WORKFLOW_ID}-form-unsigned`,
    });
    const { result } = await closedWorkflowPage(ui, page, WORKFLOW_ID, 'Failed');
    expect(result).toContain('"type": "NotTrusted"');
    expect(result).toContain(`${ENV} is protected and its start is not signed. Nothing was changed.`);
    expect(result).toContain(`\`maint enable ${ENV} --print-input\``);
    // At once: refused before it waits for anyone, so it never asked for approval.
    expect((await operation().query(statusQuery)).approval).toBeUndefined();
    expect({ observed: await ui.e2e.observe(), state: await state() }).toEqual(before);
    await page.close();
  });

  it('the input `maint enable <env> --print-input` prints, pasted into the form, starts the operation, which waits for approval (Current Details say so)', async () => {
    const printed = await as('alice', 'enable', ENV, '-r', 'from the Web UI', '--print-input');
    expect(printed.code).toBe(0);
    expect(printed.stderr).toContain(
      `Start Workflow with Workflow ID ${WORKFLOW_ID}, Task Queue ${ui.e2e.env.config.temporal.taskQueue}, ` +
        'Workflow Type enableMaintenanceMode and this input (signed: start it within 15 minutes):',
    );
    const page = await ui.newPage();
    await startFromForm(ui, page, {
      workflowId: WORKFLOW_ID,
      workflowType: 'enableMaintenanceMode',
      input: printed.stdout.trim(),
      screenshot: `${WORKFLOW_ID}-form-signed`,
    });
    const details = await currentDetails(ui, page, WORKFLOW_ID, 'Waiting for approval');
    expect(details).toContain(`Enable maintenance mode on ${ENV}: AwaitingApproval`);
    expect(details).toContain(
      `signed by an approver of ${ENV} other than alice: paste the output of ` +
        `maint approve ${WORKFLOW_ID} --print-signal as the signal approve`,
    );
    expect(await state()).toBe('AwaitingApproval');
    expect(ui.e2e.env.readFlag()).toBe(0);
    await page.close();
  });

  it('an unsigned approve sent from the Send a Signal dialog is ignored: still AwaitingApproval, and `maint logs` says why and names --print-signal', async () => {
    const page = await ui.newPage();
    await ui.open(page, `workflows/${WORKFLOW_ID}`);
    await sendSignal(ui, page, {
      name: 'approve',
      input: '{"by": "bob", "reason": "typed by hand"}',
      screenshot: `${WORKFLOW_ID}-signal-unsigned`,
    });
    await logged('Signal approve ignored');
    const logs = await ui.e2e.maint('logs', ENV);
    expect(logs.stdout).toContain(
      'Signal approve ignored: it is not signed: answers on a protected environment are signed. ' +
        `From the CLI: \`maint approve ${WORKFLOW_ID}\` signs with your SSH key; ` +
        `from the Web UI: paste the output of \`maint approve ${WORKFLOW_ID} --print-signal\``,
    );
    expect(await state()).toBe('AwaitingApproval');
    expect(ui.e2e.env.readFlag()).toBe(0);
    await page.close();
  });

  it("the signal `maint approve <id> --print-signal` prints for an approver, pasted into the dialog, approves it: it completes, the flag is 1 and `maint status` names the approver's key", async () => {
    const printed = await as('bob', 'approve', WORKFLOW_ID, '-r', 'CAB-42', '--print-signal');
    expect(printed.code).toBe(0);
    expect(printed.stderr).toContain(`open ${WORKFLOW_ID}, Send a Signal named approve with this input:`);
    const page = await ui.newPage();
    await ui.open(page, `workflows/${WORKFLOW_ID}`);
    await sendSignal(ui, page, {
      name: 'approve',
      input: printed.stdout.trim(),
      screenshot: `${WORKFLOW_ID}-signal-signed`,
    });
    const { result } = await closedWorkflowPage(ui, page, WORKFLOW_ID, 'Completed');
    expect(result).toContain(fingerprint('bob'));
    expect(ui.e2e.env.readFlag()).toBe(1);
    const status = (await ui.e2e.maint('status', ENV)).stdout;
    expect(status).toContain(`${ENV}: InMaintenance`);
    expect(status).toContain(`decision: approve by bob (signed, key ${fingerprint('bob')})`);
    expect(status).toContain(`requester proved by alice's signature (key ${fingerprint('alice')})`);
    await page.close();
  });
});
