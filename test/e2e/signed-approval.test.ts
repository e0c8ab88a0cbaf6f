/**
 * Approval bound to people on the real dev server: the CLI signs with each person's SSH key, the Web
 * UI path is the same input pasted into a client that adds nothing (the `temporal` CLI here), and a
 * schedule's standing approval goes only to runs the schedule itself started.
 */
import { execFile } from 'node:child_process';
import { defineSearchAttributeKey } from '@temporalio/common';
import { WorkflowFailedError, type ApplicationFailure } from '@temporalio/client';
import { logQuery, searchAttributes, type OperationStatus } from '../../contract/operation';
import { signingKey } from '../../client/signing';
import { temporalCliPath } from '../../scripts/binaries';
import { cli } from '../helpers/cli';
import { recordHistory } from '../helpers/record-history';
import { entityOf } from '../helpers/entity';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { testPeople, type PersonName } from '../helpers/people';
import { startedBySchedule } from '../helpers/schedule';
import { waitForStatus } from '../helpers/status';
import { until } from '../helpers/until';

const keys = testPeople();
const SCHEDULE = {
  id: 'weekly-keys',
  environment: 'contoso-sandbox',
  cron: '0 2 * * SUN',
  duration: 'PT1H',
  requestedBy: 'scheduler',
  approvedBy: 'bob',
  reason: 'weekly keys',
};
let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd({
    protected: true,
    people: keys.people,
    approvers: keys.approvers,
    schedules: [SCHEDULE],
  });
});
afterAll(async () => {
  await e2e?.stop();
  keys.remove();
});

/** `maint` as `who`, signing with their key (MAINTENANCE_SIGNING_KEY, as a user would set it). */
const as = (who: PersonName, ...args: string[]) =>
  cli(e2e.env.configFile, args, { env: { MAINTENANCE_SIGNING_KEY: keys.person(who).key } });

/** The `temporal` CLI: a client that adds no header and no signature, as the Web UI's forms. */
function temporalCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      temporalCliPath(),
      [...args, '--address', e2e.env.config.temporal.address],
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const waitFor = (workflowId: string, done: (s: OperationStatus) => boolean) =>
  waitForStatus(e2e.temporal.client.workflow.getHandle(workflowId), done, {
    everyMs: 200,
    timeoutMs: 30_000,
  });

const fingerprint = (who: PersonName) => signingKey(e2e.env.config, keys.person(who).key).fingerprint;

describe('approval on a protected environment, signed with SSH keys (dev server)', () => {
  it('from the CLI: the request is signed by its requester, approvals by an approver who is someone else', async () => {
    const enable = await as('alice', 'enable', 'contoso-sandbox', '-r', 'keys');
    expect(enable.code).toBe(7);
    expect(enable.stdout).toContain(
      'requested by alice — keys; one of bob, carol may approve, signing with their SSH key:',
    );
    expect(enable.stdout).toContain('maint approve contoso-sandbox --reason "..."');
    const list = await e2e.maint('list', '--state', 'AwaitingApproval', '--json');
    expect(JSON.parse(list.stdout)).toMatchObject([
      {
        environment: 'contoso-sandbox',
        state: 'AwaitingApproval',
        operation: { workflowId: 'maintenance-contoso-sandbox' },
      },
    ]);

    const self = await as('alice', 'approve', 'contoso-sandbox');
    expect(self.code).toBe(4);
    expect(self.stderr.trim()).toBe(
      'approve refused: alice is not an approver of contoso-sandbox (approvers: bob, carol)',
    );
    const typed = await as('bob', 'approve', 'contoso-sandbox', '--by', 'carol');
    expect(typed.code).toBe(2);
    expect(typed.stderr).toContain("--by says carol, but your signing key is bob's");
    expect(e2e.env.readFlag()).toBe(0);

    const approve = await as('bob', 'approve', 'contoso-sandbox', '-r', 'CAB-42');
    expect(approve.code).toBe(0);
    expect(e2e.env.readFlag()).toBe(1);
    const status = (await e2e.maint('status', 'contoso-sandbox')).stdout;
    expect(status).toContain(`requester proved by alice's signature (key ${fingerprint('alice')})`);
    expect(status).toContain(`decision: approve by bob (signed, key ${fingerprint('bob')})`);

    expect((await as('alice', 'disable', 'contoso-sandbox')).code).toBe(7);
    const reject = await as('mallory', 'reject', 'contoso-sandbox', '-r', 'not now');
    expect(reject.code).toBe(0);
    expect(reject.stdout).toContain(
      `contoso-sandbox: Rejected, nothing was changed (reject by mallory (signed, key ${fingerprint('mallory')})`,
    );
    expect(e2e.env.readFlag()).toBe(1);
    const [last] = await entityOf(e2e.temporal.client, e2e.env).history(1);
    expect(last).toMatchObject({ action: 'disable', result: 'Rejected', requestedBy: 'alice' });
  });

  it('from the Web UI: an unsigned start is refused with the command that signs it; the printed input and signal, pasted, work', async () => {
    const workflowId = 'maintenance-contoso-sandbox';
    const unsigned = JSON.stringify({
      environment: 'contoso-sandbox',
      requestedBy: 'alice',
      reason: 'by hand',
    });
    const start = (input: string) =>
      temporalCli(
        'workflow',
        'start',
        '--type',
        'disableMaintenanceMode',
        '--task-queue',
        e2e.env.config.temporal.taskQueue,
        '--workflow-id',
        workflowId,
        '--input',
        input,
      );
    expect((await start(unsigned)).code).toBe(0);
    const refused = await e2e.temporal.client.workflow
      .getHandle(workflowId)
      .result()
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    const cause = (refused as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('NotTrusted');
    expect(cause.message).toContain('maint disable contoso-sandbox --print-input');

    const printed = await as('alice', 'disable', 'contoso-sandbox', '-r', 'from the UI', '--print-input');
    expect(printed.code).toBe(0);
    expect(printed.stderr).toContain(`Start Workflow with Workflow ID ${workflowId}`);
    expect((await start(printed.stdout.trim())).code).toBe(0);
    await waitFor(workflowId, (s) => !!s.approval?.awaiting);

    const signal = await as('carol', 'approve', workflowId, '--print-signal');
    expect(signal.stderr).toContain(`Send a Signal named approve`);
    const sent = await temporalCli(
      'workflow',
      'signal',
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      signal.stdout.trim(),
    );
    expect(sent.code).toBe(0);
    const result = await e2e.temporal.client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({
      result: 'Succeeded',
      decisions: [{ kind: 'approve', by: 'carol', fingerprint: fingerprint('carol') }],
    });
    expect(e2e.env.readFlag()).toBe(0);
  });

  it('shows a window booked ahead and approved as Booked in the Web UI, no longer as awaiting approval', async () => {
    const booked = await as(
      'alice',
      'window',
      'contoso-sandbox',
      '--at',
      '2027-07-01T22:00',
      '--tz',
      'Europe/Berlin',
      '-d',
      'PT1H',
      '-r',
      'CAB ahead',
    );
    expect(booked.stderr).toBe('');
    const id = 'window-contoso-sandbox-at-20270701T2000Z';
    await waitFor(id, (s) => !!s.approval?.awaiting);
    const handle = e2e.temporal.client.workflow.getHandle(id);
    const shown = async () => (await handle.describe()).typedSearchAttributes.get(searchAttributes.state);
    await until(shown, (state) => state === 'AwaitingApproval', 'the Web UI to show AwaitingApproval');
    // Returns once the approval is recorded: the window opens at its time, not now.
    const approved = await as('bob', 'approve', id, '-r', 'CAB-7');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('booked: opens at 2027-07-01T20:00:00.000Z');
    await until(shown, (state) => state === 'Booked', 'the Web UI to show the approved window Booked');
    const cancelled = await as('alice', 'cancel-window', id, '-r', 'not needed');
    expect(cancelled.stderr).toBe('');
    await expect(handle.result()).resolves.toMatchObject({ result: 'Rejected' });
    recordHistory('window-booked-approved.json', id, (await handle.fetchHistory()).events ?? []);
    expect(e2e.env.readFlag()).toBe(0);
  });

  it("a schedule's standing approval goes to the runs it started, not to a window started by hand that claims its ID and search attribute", async () => {
    expect((await e2e.maint('schedule', 'sync')).code).toBe(0);
    const input = { ...SCHEDULE, id: undefined, cron: undefined, approvedBy: 'bob' };
    const lookAlike = await e2e.temporal.client.workflow.start('maintenanceWindow', {
      workflowId: `window-${SCHEDULE.id}-2026-12-06T02:00:00Z`,
      taskQueue: e2e.env.config.temporal.taskQueue,
      args: [
        {
          environment: input.environment,
          duration: input.duration,
          requestedBy: input.requestedBy,
          reason: input.reason,
          approvedBy: input.approvedBy,
        },
      ],
      typedSearchAttributes: [
        { key: defineSearchAttributeKey('TemporalScheduledById', 'KEYWORD'), value: SCHEDULE.id },
      ],
    });
    const forged = await lookAlike.result().catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(WorkflowFailedError);
    expect(((forged as WorkflowFailedError).cause as ApplicationFailure).type).toBe('NotTrusted');
    const forgedLog = await lookAlike.query(logQuery).catch(() => undefined);
    expect(forgedLog?.entries.map((e) => e.message) ?? []).toContain(
      `claims to be started by schedule ${SCHEDULE.id}, but schedule ${SCHEDULE.id} did not start ${lookAlike.workflowId}`,
    );
    expect(e2e.env.readFlag()).toBe(0);

    expect((await e2e.maint('schedule', 'trigger', SCHEDULE.id)).code).toBe(0);
    const windowId = await startedBySchedule(e2e.temporal.client, SCHEDULE.id);
    const open = await waitFor(windowId, (s) => !!s.window?.endsAt);
    expect(open).toMatchObject({
      requester: { person: 'scheduler', via: 'schedule', source: SCHEDULE.id },
      approval: { standing: SCHEDULE.id, verified: { by: 'bob', standing: SCHEDULE.id } },
    });
    expect(e2e.env.readFlag()).toBe(1);
    const end = await as('mallory', 'end-window', windowId, '-r', 'done');
    expect(end.code).toBe(0);
    expect(await e2e.temporal.client.workflow.getHandle(windowId).result()).toMatchObject({
      result: 'Succeeded',
      window: { endedEarly: { by: 'mallory', fingerprint: fingerprint('mallory') } },
    });
    expect(e2e.env.readFlag()).toBe(0);
  });
});
