/**
 * Change freezes on the real dev server and fleet: every start during a freeze is refused by the
 * workflow itself, whoever starts it (the CLI, a plain client as the Web UI's Start Workflow, a
 * schedule, a rollout, which skips the frozen member), naming the freeze and when it ends, and
 * changes nothing; an approver's signed exception lets one run through, recorded in its log,
 * history entry and events; `maint freeze list`, `maint plan` and the calendar show the freeze.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError, WorkflowNotFoundError, type ApplicationFailure } from '@temporalio/client';
import { bookedWindowId } from '../../contract/booking';
import { freezeExceptionMessage } from '../../contract/freeze';
import { logQuery } from '../../contract/operation';
import { sign, signingKey } from '../../client/signing';
import { cli } from '../helpers/cli';
import { startEndToEnd, startFleetEndToEnd, type EndToEnd, type FleetEndToEnd } from '../helpers/e2e';
import { minutesFromNow } from '../helpers/freezes';
import { recordHistory } from '../helpers/record-history';
import { testPeople, type PersonName } from '../helpers/people';
import { startedBySchedule } from '../helpers/schedule';

const FREEZE = {
  name: 'month-end-close',
  reason: 'Month-end close',
  start: minutesFromNow(-60),
  end: minutesFromNow(180),
  environments: ['contoso-sandbox'],
};
/** How every refusal names the freeze and when it ends. */
const NAMED = `contoso-sandbox is in the change freeze "month-end-close" (Month-end close), from ${FREEZE.start}:00.000Z until ${FREEZE.end}:00.000Z`;
const SCHEDULE = {
  id: 'weekly-keys',
  environment: 'contoso-sandbox',
  cron: '0 2 * * SUN',
  duration: 'PT1H',
  requestedBy: 'scheduler',
  reason: 'weekly keys',
};

const keys = testPeople();
let e2e: EndToEnd;

/** `maint` as `who`, signing with their key. */
const as = (who: PersonName, ...args: string[]) =>
  cli(e2e.env.configFile, args, { env: { MAINTENANCE_SIGNING_KEY: keys.person(who).key } });

/** How a workflow that refused to start failed: its ApplicationFailure. */
async function refusal(workflowId: string): Promise<ApplicationFailure> {
  const failed = await e2e.temporal.client.workflow
    .getHandle(workflowId)
    .result()
    .catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(WorkflowFailedError);
  return (failed as WorkflowFailedError).cause as ApplicationFailure;
}

const events = () =>
  fs
    .readFileSync(path.join(e2e.env.dir, 'audit/events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('change freezes on a protected environment (dev server, fleet, CLI)', () => {
  beforeAll(async () => {
    e2e = await startEndToEnd({
      protected: true,
      people: keys.people,
      approvers: keys.approvers,
      schedules: [SCHEDULE],
      freezes: [FREEZE],
      events: { sinks: [{ type: 'file', path: 'audit/events.jsonl' }] },
    });
  });
  afterAll(async () => {
    await e2e?.stop();
    keys.remove();
  });

  it('`maint freeze list`, `maint plan` and the calendar show the freeze in force and until when', async () => {
    const list = await e2e.maint('freeze', 'list');
    expect(list.stdout).toMatch(/^month-end-close {2}FROZEN NOW until \S+ \S+ UTC \(\d+h( \d+m)? left\)$/m);
    expect(list.stdout).toContain('  environments: contoso-sandbox');
    const plan = await e2e.maint('plan', 'window', 'contoso-sandbox', '-d', 'PT1H');
    expect(plan.code).toBe(4);
    expect(plan.stdout).toContain(
      `WOULD BE REFUSED: ${NAMED}: the window would be refused; an approver can grant an exception for one run (\`maint freeze except\`)`,
    );
    const ics = await e2e.maint('schedule', 'calendar', '--days', '2');
    expect(ics.stdout).toContain('SUMMARY:Change freeze: month-end-close (contoso-sandbox)');
  });

  it('refuses a start from the CLI, naming the freeze, its end and how to get an exception: exit 4, nothing changed', async () => {
    const enable = await as('alice', 'enable', 'contoso-sandbox', '-r', 'needs a fix');
    expect(enable.code).toBe(4);
    expect(enable.stderr).toContain(
      `The enable did not start: ${NAMED}. Nothing was changed. An approver of contoso-sandbox (bob, carol) can grant an exception for one run: ` +
        '`maint freeze except contoso-sandbox --freeze month-end-close --action enable --reason "..." -o exception.json`, ' +
        'then start it with `--freeze-exception exception.json`.',
    );
    const window = await as('alice', 'window', 'contoso-sandbox', '-d', 'PT1H');
    expect(window.code).toBe(4);
    expect(window.stderr).toContain(`The window did not open: ${NAMED}. Nothing was changed.`);
    expect(e2e.env.readFlag()).toBe(0);
    expect(JSON.parse((await e2e.maint('history', 'contoso-sandbox', '--json')).stdout)).toEqual([]);
    const refusals = events().filter((e) => e.data.error?.type === 'EnvironmentFrozen');
    expect(refusals.map((e) => [e.type, e.data.action, e.data.result])).toEqual([
      ['maintenance.operation.finished', 'enable', 'Failed'],
      ['maintenance.operation.finished', 'window', 'Failed'],
    ]);
  });

  it('refuses a start from a plain client (the Web UI Start Workflow form, with the signed input pasted)', async () => {
    const printed = await as(
      'alice',
      'enable',
      'contoso-sandbox',
      '-r',
      'from the UI',
      '--print-input',
      '--json',
    );
    const { workflowId, workflowType, taskQueue, input } = JSON.parse(printed.stdout);
    await e2e.temporal.client.workflow.start(workflowType, { workflowId, taskQueue, args: [input] });
    const cause = await refusal(workflowId);
    expect(cause.type).toBe('EnvironmentFrozen');
    expect(cause.message).toContain(`The enable did not start: ${NAMED}. Nothing was changed.`);
    const history = await e2e.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    recordHistory('enable-refused-frozen.json', workflowId, history.events ?? []);
    expect(e2e.env.readFlag()).toBe(0);
  });

  it("refuses a schedule's run", async () => {
    expect((await e2e.maint('schedule', 'sync')).code).toBe(0);
    expect((await e2e.maint('schedule', 'trigger', SCHEDULE.id)).code).toBe(0);
    const windowId = await startedBySchedule(e2e.temporal.client, SCHEDULE.id);
    const cause = await refusal(windowId);
    expect(cause.type).toBe('EnvironmentFrozen');
    expect(cause.message).toContain(`The window did not open: ${NAMED}. Nothing was changed.`);
    expect(e2e.env.readFlag()).toBe(0);
  });

  it('refuses exceptions that are not an approver’s, or not for this run', async () => {
    const file = path.join(e2e.env.dir, 'forged.json');
    const byMallory = await as('mallory', ...exceptArgs('enable', file));
    expect(byMallory.code).toBe(2);
    expect(byMallory.stderr).toContain(
      'mallory is not an approver of contoso-sandbox (approvers: bob, carol).',
    );

    // Made by hand, as the CLI would not: mallory's signature reaches the workflow, which refuses it.
    const key = signingKey(e2e.env.config, keys.person('mallory').key);
    const unsigned = {
      freeze: FREEZE.name,
      by: 'mallory',
      reason: 'trust me',
      signedAt: new Date().toISOString(),
    };
    const message = freezeExceptionMessage({
      namespace: 'default',
      workflowId: 'maintenance-contoso-sandbox',
      workflowType: 'enableMaintenanceMode',
      environment: 'contoso-sandbox',
      ...unsigned,
    });
    fs.writeFileSync(file, JSON.stringify({ ...unsigned, signature: sign(key, message) }));
    const forged = await as('alice', 'enable', 'contoso-sandbox', '--freeze-exception', file);
    expect(forged.code).toBe(4);
    expect(forged.stderr).toContain(
      `${NAMED}. Nothing was changed. The freeze exception is refused: mallory is not an approver of contoso-sandbox.`,
    );

    // Bob's, but for a window: an enable cannot use it.
    expect((await as('bob', ...exceptArgs('window', file))).code).toBe(0);
    const elsewhere = await as('alice', 'enable', 'contoso-sandbox', '--freeze-exception', file);
    expect(elsewhere.code).toBe(4);
    expect(elsewhere.stderr).toContain('The freeze exception is refused: the signature does not verify');
    expect(e2e.env.readFlag()).toBe(0);
  });

  it("an approver's signed exception lets one run start; it is recorded in the log, the history and the events", async () => {
    const file = path.join(e2e.env.dir, 'exception.json');
    const granted = await as('bob', ...exceptArgs('enable', file));
    expect(granted.code).toBe(0);
    expect(granted.stderr).toContain(
      'Exception to freeze month-end-close for maintenance-contoso-sandbox, granted by bob: start it within 15 minutes',
    );
    const enable = await as('alice', 'enable', 'contoso-sandbox', '-r', 'hotfix', '--freeze-exception', file);
    expect(enable.code).toBe(7); // protected: it still waits for an approval
    const approve = await as('carol', 'approve', 'contoso-sandbox', '-r', 'ok');
    expect(approve.code).toBe(0);
    expect(e2e.env.readFlag()).toBe(1);

    const bob = signingKey(e2e.env.config, keys.person('bob').key).fingerprint;
    const handle = e2e.temporal.client.workflow.getHandle('maintenance-contoso-sandbox');
    const log = await handle.query(logQuery);
    expect(log.entries.map((e) => e.message)).toContain(
      `change freeze "month-end-close" (Month-end close), from ${FREEZE.start}:00.000Z until ${FREEZE.end}:00.000Z: started by the exception of bob (signed, key ${bob}): INC-42 hotfix`,
    );
    const [entry] = JSON.parse((await e2e.maint('history', 'contoso-sandbox', '--json')).stdout);
    expect(entry).toMatchObject({ action: 'enable', result: 'Succeeded' });
    expect(entry.detail).toContain(
      `Started during change freeze "month-end-close" by the exception of bob (signed, key ${bob}): INC-42 hotfix.`,
    );
    const finished = events().find((e) => e.data.action === 'enable' && e.data.result === 'Succeeded');
    expect(finished.data.freezeException).toEqual({
      freeze: 'month-end-close',
      by: 'bob',
      fingerprint: bob,
      reason: 'INC-42 hotfix',
      until: `${FREEZE.end}:00.000Z`,
    });
    recordHistory(
      'enable-freeze-exception.json',
      handle.workflowId,
      (await handle.fetchHistory()).events ?? [],
    );

    // Bound to the operation: the same exception does not let a disable (same workflow ID) through.
    const disable = await as('alice', 'disable', 'contoso-sandbox', '--freeze-exception', file);
    expect(disable.code).toBe(4);
    expect(disable.stderr).toContain('The freeze exception is refused: the signature does not verify');
  });
});

/** `maint freeze except` for the freeze, an action, written to `file`. */
const exceptArgs = (action: string, file: string) => [
  'freeze',
  'except',
  'contoso-sandbox',
  '--freeze',
  FREEZE.name,
  '--action',
  action,
  '-r',
  'INC-42 hotfix',
  '-o',
  file,
];

describe('a rollout skips the frozen environments (dev server, fleet of three)', () => {
  let fleet: FleetEndToEnd;
  beforeAll(async () => {
    fleet = await startFleetEndToEnd({
      count: 3,
      tags: ['sandbox'],
      freezes: [{ ...FREEZE, name: 'close', reason: '', environments: ['env-02'] }],
    });
  });
  afterAll(() => fleet?.stop());

  it('starts the others, and says in its table why env-02 was skipped', async () => {
    const run = await fleet.maint('rollout', 'enable', '--tag', 'sandbox', '--reason', 'e2e');
    expect(run.stdout).toMatch(/^env-01\s+Done\s+Succeeded/m);
    expect(run.stdout).toMatch(/^env-03\s+Done\s+Succeeded/m);
    expect(run.stdout).toMatch(
      /^env-02\s+Done\s+Skipped\s+\S+\s+\S+\s+The enable did not start: env-02 is in the change freeze/m,
    );
    expect(run.stdout).toContain(
      `env-02 is in the change freeze "close", from ${FREEZE.start}:00.000Z until ${FREEZE.end}:00.000Z. Nothing was changed. env-02 is not protected, so no exception can be granted`,
    );
    expect(run.stdout).toContain('2 succeeded, 0 failed, 1 skipped, 0 not started, 0 running of 3; 0 errors');
    expect(run.code).toBe(0);
    expect((await fleet.fleet.observe('env-02')).flag).toBe(0);
    expect((await fleet.fleet.observe('env-01')).flag).toBe(1);
  });

  it('a window booked during a freeze for after it is booked; one booked into it is refused at once by the CLI, and at its time by the workflow', async () => {
    const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    const after = Date.parse(`${FREEZE.end}:00Z`) + 3_600_000;
    const booked = await fleet.maint('window', 'env-02', '-d', 'PT1H', '--at', utc(after), '--tz', 'UTC');
    expect(booked.code).toBe(0);
    const bookedId = bookedWindowId('env-02', new Date(after).toISOString());
    expect(booked.stdout).toContain(`Booked ${bookedId}`);
    expect((await fleet.maint('cancel-window', bookedId, '--reason', 'moved')).code).toBe(0);

    const during = Date.now() + 3_600_000;
    const early = await fleet.maint('window', 'env-02', '-d', 'PT1H', '--at', utc(during), '--tz', 'UTC');
    expect(early.code).toBe(4);
    expect(early.stderr).toContain(
      `The window was not booked: at ${new Date(Math.floor(during / 1000) * 1000).toISOString()} env-02 is in the change freeze "close", from ${FREEZE.start}:00.000Z until ${FREEZE.end}:00.000Z. Nothing was changed.`,
    );
    const notBooked = await fleet.temporal.client.workflow
      .getHandle(bookedWindowId('env-02', new Date(during).toISOString()))
      .describe()
      .catch((e: unknown) => e);
    expect(notBooked).toBeInstanceOf(WorkflowNotFoundError);

    // A plain client books past the CLI's word: the window refuses at its time, having changed nothing.
    const at = new Date(Date.now() + 4_000).toISOString();
    const handle = await fleet.temporal.client.workflow.start('maintenanceWindow', {
      workflowId: bookedWindowId('env-02', at),
      taskQueue: fleet.fleet.config.temporal.taskQueue,
      args: [{ environment: 'env-02', duration: 'PT1H', requestedBy: 'jane', at }],
    });
    const failed = await handle.result().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    const cause = (failed as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('EnvironmentFrozen');
    expect(cause.message).toContain('The window did not open: env-02 is in the change freeze "close"');
    expect((await fleet.fleet.observe('env-02')).flag).toBe(0);
  });
});
