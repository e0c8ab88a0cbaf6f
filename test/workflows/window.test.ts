import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { decisionSignals } from '../../contract/operation';
import {
  endWindowUpdate,
  extendWindowSignal,
  extendWindowUpdate,
  type WindowInput,
  type WindowResult,
} from '../../contract/window';
import { disableMaintenanceMode, enableMaintenanceMode, maintenanceWindow } from '../../workflows';
import { entityOf } from '../helpers/entity';
import { recordHistory } from '../helpers/record-history';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForDecision, waitForStatus } from '../helpers/status';

const bed = timeSkippingTestbed({ faults: true });
const { withWorker } = bed;
afterEach(() => bed.env.fleet.clearFaults());

const HOUR = 3_600_000;

const start = (input: Partial<WindowInput>) =>
  bed.temporal.client.workflow.start(maintenanceWindow, {
    workflowId: `window-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [
      {
        environment: bed.env.name,
        duration: 'PT2H',
        requestedBy: 'scheduler',
        reason: 'window test',
        ...input,
      },
    ],
  });

/** Real-time polling (no time skipping while we only query): until the status matches. */
/** An enable that failed (a persistent start fault must be on) and holds the environment's lock. */
async function failedEnable(): Promise<WorkflowHandle> {
  const blocker = await bed.temporal.client.workflow.start('enableMaintenanceMode', {
    workflowId: `blocker-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'someone' }],
  });
  await waitForDecision(blocker);
  return blocker;
}

const enableNow = () =>
  bed.temporal.client.workflow.execute(enableMaintenanceMode, {
    workflowId: `setup-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'setup' }],
  });

/** Puts the environment back out of maintenance (needs a worker). */
const disableNow = () =>
  bed.temporal.client.workflow.execute(disableMaintenanceMode, {
    workflowId: `cleanup-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [{ environment: bed.env.name, requestedBy: 'cleanup' }],
  });

async function keys(): Promise<Record<string, boolean>> {
  const aos = (await bed.env.fleet.listAos()).find(
    (a) => a.role === 'interactive' && a.status === 'running',
  )!;
  const { keys: list } = await bed.env.fleet.listConfigurationKeys(aos.port!);
  return Object.fromEntries(list.map((k) => [k.name, k.enabled]));
}

/** Sets CONFIGURATIONMODE in the database alone, as a DBA would: no AOS reads it until restarted. */
function setFlagOnly(value: 0 | 1): void {
  const db = new Database(bed.env.databaseFile);
  try {
    db.prepare("UPDATE SQLSYSTEMVARIABLES SET VALUE = ? WHERE PARM = 'CONFIGURATIONMODE'").run(value);
  } finally {
    db.close();
  }
}

async function expectDeployed() {
  expect(bed.env.readFlag()).toBe(0);
  const running = (await bed.env.fleet.listAos()).filter((a) => a.status === 'running');
  expect(running.map((a) => [a.id, a.maintenanceMode])).toEqual(
    ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'].map((id) => [id, false]),
  );
}

/** How long the window was set to stay open, after checking it closed then (not before, barely after). */
function openFor(r: WindowResult): number {
  const closedLate = Date.parse(r.window.closedAt!) - Date.parse(r.window.endsAt!);
  expect(closedLate).toBeGreaterThanOrEqual(0);
  expect(closedLate).toBeLessThan(60_000);
  return Date.parse(r.window.endsAt!) - Date.parse(r.window.openedAt!);
}

describe('maintenanceWindow (time-skipping server)', () => {
  it('enters maintenance, applies the key changes, stays open two hours, leaves maintenance', async () => {
    const before = await keys();
    expect(before.WHSandTMS).toBe(false);
    const result = await withWorker(async () =>
      (await start({ changes: { enable: ['WHSandTMS'], disable: ['ProjBasic'] } })).result(),
    );
    expect(result).toMatchObject({
      result: 'Succeeded',
      changes: [
        { name: 'WHSandTMS', from: false, to: true },
        { name: 'ProjBasic', from: true, to: false },
      ],
    });
    expect(openFor(result)).toBe(2 * HOUR);
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['preflight', 'succeeded'],
      ['enable', 'succeeded'],
      ['applyChanges', 'succeeded'],
      ['window', 'succeeded'],
      ['disable', 'succeeded'],
      ['record', 'succeeded'],
    ]);
    expect(result.summary.join('\n')).toMatch(
      /maintenance mode on[\s\S]*configuration keys changed: WHSandTMS enabled, ProjBasic disabled[\s\S]*window open until[\s\S]*maintenance mode off/,
    );
    expect(await keys()).toEqual({ ...before, WHSandTMS: true, ProjBasic: false });
    await expectDeployed();
    // put the keys back for the other tests
    await withWorker(async () =>
      (await start({ duration: 1, changes: { enable: ['ProjBasic'], disable: ['WHSandTMS'] } })).result(),
    );
  });

  it('closes early when an operator ends it', async () => {
    const result = await withWorker(async () => {
      const handle = await start({ duration: 'PT8H' });
      await waitForStatus(handle, (s) => s.step === 'window');
      const window = await handle.executeUpdate(endWindowUpdate, {
        args: [{ by: 'jane', reason: 'done early' }],
      });
      expect(window.endedEarly).toMatchObject({ by: 'jane', reason: 'done early' });
      return handle.result();
    });
    expect(result.result).toBe('Succeeded');
    expect(Date.parse(result.window.closedAt!) - Date.parse(result.window.openedAt!)).toBeLessThan(HOUR);
    await expectDeployed();
  });

  it('stays open longer when extended, and refuses an extension past the maximum', async () => {
    const result = await withWorker(async () => {
      const handle = await start({ duration: 'PT1H' });
      await waitForStatus(handle, (s) => s.step === 'window');
      await handle.executeUpdate(extendWindowUpdate, {
        args: [{ by: 'jane', duration: 'PT2H', reason: 'more to do' }],
      });
      const refused = await handle
        .executeUpdate(extendWindowUpdate, { args: [{ by: 'jane', duration: 'PT10H' }] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(
        (refused as Error).message + String((refused as WorkflowUpdateFailedError).cause?.message),
      ).toMatch(/extendWindow refused: it would close at .*, past the latest allowed .* \(maximum 12h\)/);
      await handle.signal(extendWindowSignal, { by: 'joe', duration: 30 });
      return handle.result();
    });
    expect(result.window.extensions.map((e) => [e.by, e.duration])).toEqual([
      ['jane', '2h'],
      ['joe', '30m'],
    ]);
    expect(openFor(result)).toBe(3.5 * HOUR);
  });

  it('ends with the result of a failed enable and changes nothing else', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const before = await keys();
    const error = await withWorker(async () => {
      const handle = await start({ changes: { enable: ['WHSandTMS'] } });
      const child = bed.temporal.client.workflow.getHandle(`${handle.workflowId}-enable`);
      await waitForDecision(child);
      await child.signal(decisionSignals.abort, { by: 'jane', reason: 'cannot start aos-1' });
      return handle.result().catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const details = (error as WorkflowFailedError).cause as unknown as {
      type: string;
      details: WindowResult[];
    };
    expect(details.type).toBe('OperationAborted');
    expect(details.details[0]).toMatchObject({ result: 'Aborted', changes: [] });
    expect(details.details[0].steps.find((s) => s.name === 'disable')?.status).toBe('pending');
    expect(bed.env.readFlag()).toBe(1); // left as the aborted enable left it
    await bed.env.fleet.clearFaults();
    await withWorker(disableNow);
    expect(await keys()).toEqual(before);
  });

  it('refuses a window that names an unknown key before changing anything', async () => {
    const error = await withWorker(async () =>
      (await start({ changes: { enable: ['WHSandTMZ'] } })).result().catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('UnknownConfigurationKey');
    expect(cause.message).toMatch(
      /^The window did not open: Unknown configuration key "WHSandTMZ" on contoso-sandbox\. Known keys: .*WHSandTMS.*\. Nothing was changed\./,
    );
    await expectDeployed();
    expect(await entityOf(bed.temporal.client, bed.env).holder()).toBeUndefined();
  });

  it('rolls back a failed key change to exactly what it found: keys, flag, the AOS that ran', async () => {
    await withWorker(disableNow);
    await bed.env.fleet.stop('aos-3'); // the window finds one AOS stopped, and must leave it stopped
    const before = await keys();
    // aos-1 starts slowly, so the writes can be blocked while the enable is restarting AOS.
    await bed.env.fleet.setFaults({ startDelayMs: { 'aos-1': 1500 } });
    const result = await withWorker(async () => {
      const handle = await start({ changes: { enable: ['WHSandTMS'] } });
      await waitForStatus(
        bed.temporal.client.workflow.getHandle(`${handle.workflowId}-enable`),
        (s) => s.step === 'restartAos',
      );
      await bed.env.fleet.setFaults({ databaseWritesBlocked: true });
      const failed = await waitForDecision(handle);
      expect(failed).toMatchObject({
        state: 'Failed',
        step: 'applyChanges',
        availableDecisions: ['resume', 'rollback', 'abort'],
      });
      await bed.env.fleet.clearFaults();
      await handle.signal(decisionSignals.rollback, { by: 'jane', reason: 'the database refused writes' });
      return handle.result();
    });
    expect(result).toMatchObject({ result: 'RolledBack', decisions: [{ kind: 'rollback', by: 'jane' }] });
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['preflight', 'succeeded'],
      ['enable', 'succeeded'],
      ['applyChanges', 'failed'],
      ['window', 'pending'],
      ['disable', 'pending'],
      ['restoreKeys', 'succeeded'],
      ['restoreFlag', 'succeeded'],
      ['restoreAos', 'succeeded'],
      ['verifyRestored', 'succeeded'],
      ['record', 'succeeded'],
    ]);
    expect(await keys()).toEqual(before);
    expect(bed.env.readFlag()).toBe(0);
    const aos = await bed.env.fleet.listAos();
    expect(aos.map((a) => [a.id, a.status, a.status === 'running' ? a.maintenanceMode : null])).toEqual([
      ['aos-1', 'running', false],
      ['aos-2', 'running', false],
      ['aos-3', 'stopped', null],
      ['aos-4', 'running', false],
      ['aos-5', 'running', false],
    ]);
    await withWorker(disableNow); // starts aos-3 again for the next tests
    await expectDeployed();
  });

  it('keeps maintenance on by the flag it found, also with every AOS running: the close and a rollback agree', async () => {
    setFlagOnly(1); // the flag on, the five AOS still running as they were
    const closed = await withWorker(async () => {
      const handle = await start({ duration: 1 });
      const r = await handle.result();
      recordHistory(
        'window-kept-on-by-flag.json',
        handle.workflowId,
        (await handle.fetchHistory()).events ?? [],
      );
      return r;
    });
    expect(closed.result).toBe('Succeeded');
    expect(closed.window.keepsMaintenanceOn).toBe(true);
    expect(closed.steps.find((s) => s.name === 'disable')).toMatchObject({ status: 'skipped' });
    expect(bed.env.readFlag()).toBe(1);
    await withWorker(disableNow);

    setFlagOnly(1);
    // aos-1 starts slowly, so the writes can be blocked once the enable has set the flag.
    await bed.env.fleet.setFaults({ startDelayMs: { 'aos-1': 1500 } });
    const rolledBack = await withWorker(async () => {
      const handle = await start({ changes: { enable: ['WHSandTMS'] } });
      await waitForStatus(
        bed.temporal.client.workflow.getHandle(`${handle.workflowId}-enable`),
        (s) => s.step === 'restartAos',
      );
      await bed.env.fleet.setFaults({ databaseWritesBlocked: true });
      await waitForDecision(handle);
      await bed.env.fleet.clearFaults();
      await handle.signal(decisionSignals.rollback, { by: 'jane' });
      return handle.result();
    });
    expect(rolledBack.result).toBe('RolledBack');
    // The mode the close leaves too; the AOS exactly as found (the enable had stopped three).
    expect(bed.env.readFlag()).toBe(1);
    const running = (await bed.env.fleet.listAos()).filter((a) => a.status === 'running').map((a) => a.id);
    expect(running).toEqual(['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5']);
    await withWorker(disableNow);
    await expectDeployed();
  });

  it('refuses a "continued" typed into a start: nothing skips approval or the lock, nothing changes', async () => {
    const status = {
      window: { changes: [], extensions: [], endsAt: new Date(Date.now() + HOUR).toISOString() },
    };
    const continued = {
      status,
      log: { entries: [], dropped: 0 },
      keysBefore: {},
      found: { configurationMode: 1, instances: [] },
      summary: [],
    };
    const error = await withWorker(async () =>
      (await start({ duration: 1, continued } as never)).result().catch((e: unknown) => e),
    );
    const cause = (error as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toContain('"continued" is written by a window for its own next run');
    await expectDeployed();
    expect(await entityOf(bed.temporal.client, bed.env).holder()).toBeUndefined();
  });

  it('leaves maintenance mode on when it found it on, also when rolled back', async () => {
    await withWorker(enableNow);
    const inMaintenance = await bed.env.fleet.listAos();
    const closed = await withWorker(async () => (await start({ duration: 1 })).result());
    expect(closed.result).toBe('Succeeded');
    expect(closed.window.keepsMaintenanceOn).toBe(true);
    expect(closed.steps.find((s) => s.name === 'disable')).toMatchObject({
      status: 'skipped',
      detail: 'maintenance mode was on when the window opened: it stays on',
    });
    expect(closed.summary.join('\n')).toMatch(/maintenance mode stays on, as the window found it/);
    expect(bed.env.readFlag()).toBe(1);
    expect(await bed.env.fleet.listAos()).toEqual(inMaintenance);

    const before = await keys();
    await bed.env.fleet.setFaults({ databaseWritesBlocked: true });
    const rolledBack = await withWorker(async () => {
      const handle = await start({ changes: { enable: ['WHSandTMS'] } });
      await waitForDecision(handle);
      await bed.env.fleet.clearFaults();
      await handle.signal(decisionSignals.rollback, { by: 'jane' });
      return handle.result();
    });
    expect(rolledBack.result).toBe('RolledBack');
    expect(rolledBack.steps.slice(5).map((s) => [s.name, s.status])).toEqual([
      ['restoreKeys', 'succeeded'],
      ['restoreFlag', 'skipped'],
      ['restoreAos', 'skipped'],
      ['verifyRestored', 'succeeded'],
      ['record', 'succeeded'],
    ]);
    expect(bed.env.readFlag()).toBe(1);
    expect(await bed.env.fleet.listAos()).toEqual(inMaintenance);
    expect(await keys()).toEqual(before);
    const entries = await entityOf(bed.temporal.client, bed.env).history(10);
    expect(entries.find((e) => e.operationId === rolledBack.operationId)).toMatchObject({
      action: 'window',
      result: 'RolledBack',
    });
    await withWorker(disableNow);
    await expectDeployed();
  });

  it('refuses extensions past policies.windows.maximumExtensions', async () => {
    const result = await withWorker(async () => {
      const handle = await start({ duration: 'PT1H' });
      await waitForStatus(handle, (s) => s.step === 'window');
      for (let i = 0; i < 20; i++)
        await handle.executeUpdate(extendWindowUpdate, { args: [{ by: 'jane', duration: 1 }] });
      const refused = await handle
        .executeUpdate(extendWindowUpdate, { args: [{ by: 'jane', duration: 1 }] })
        .catch((e: unknown) => e);
      expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(
        /extendWindow refused: it was extended 20 times, the most allowed \(policies.windows.maximumExtensions\)/,
      );
      await handle.executeUpdate(endWindowUpdate, { args: [{ by: 'jane' }] });
      return handle.result();
    });
    expect(result.window.extensions).toHaveLength(20);
    await expectDeployed();
  });

  it('waits while another operation holds the environment and opens once it is free', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const result = await withWorker(async () => {
      const blocker = await failedEnable();
      const handle = await start({ duration: 30 });
      await waitForStatus(handle, (s) => s.steps[0].status === 'running');
      await new Promise((r) => setTimeout(r, 2500)); // at least one refusal while it waits
      await bed.env.fleet.clearFaults();
      await blocker.signal(decisionSignals.rollback, { by: 'jane' });
      await blocker.result();
      return handle.result();
    });
    expect(result.result).toBe('Succeeded');
    expect(result.summary.length).toBeGreaterThan(0);
    await expectDeployed();
  });

  it('gives up with a clear result when the environment stays busy past the configured wait', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const error = await withWorker(async () => {
      const blocker = await failedEnable();
      const outcome = await (await start({ duration: 30 })).result().catch((e: unknown) => e);
      // Skipped time would run out the blocker's own decision timeout next: end it here.
      await blocker.terminate('test done');
      await bed.env.fleet.clearFaults();
      await disableNow();
      return outcome;
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('EnvironmentBusy');
    expect(cause.message).toMatch(
      /^The window did not open: contoso-sandbox stayed busy for 20s \(policies.windows.busyTimeout\). Nothing was changed. It was held by workflow blocker-[0-9a-f-]+ \(enable requested by someone\)\.$/,
    );
    await expectDeployed();
  });

  it('rejects a window longer than the maximum before changing anything', async () => {
    const error = await withWorker(async () =>
      (await start({ duration: 'PT13H' })).result().catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toMatch(
      /duration 13h is longer than the maximum of 12h/,
    );
    await expectDeployed();
  });
});
