import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { HistoryEntry } from '../../contract/environment';
import type { OperationLog } from '../../contract/operation';
import { cli } from '../helpers/cli';
import { startTestEnvironment, type TestEnvironment } from '../helpers/environment';
import {
  PREVIOUS_DIST,
  PREVIOUS_RELEASE as RELEASE,
  buildPreviousRelease,
  previousReleaseCli,
  workflowTaskWorkers,
  writeCurrentConfig,
  writePreviousReleaseConfig,
} from '../helpers/previous-release';
import { recordHistory } from '../helpers/record-history';
import { createDevServerEnv } from '../helpers/temporal';
import { exited, startWorkerProcess, stopWorkerProcess } from '../helpers/worker-process';

/**
 * Operations of release c536525 that end by a decision or for want of one, run to their end on that
 * release's own worker: an enable rolled back, one aborted, one cancelled while it waits, one whose
 * decision times out, and windows whose key change fails, rolled back and aborted. Then today's
 * worker answers `maint logs` for each (a query on a closed workflow replays its whole history with
 * today's code) and today's CLI shows what they recorded (`maint upgrade`, `maint history`).
 * With RECORD_HISTORY_DIR set, each history is kept as a replay fixture (histories/c536525/).
 */

/** Short, so that a run waits it out within the test (the release does not run on the time-skipping server). */
const DECISION_TIMEOUT = '15s';

const NAMES = {
  rolledBack: 'contoso-rolled-back',
  aborted: 'contoso-aborted',
  cancelled: 'contoso-cancelled',
  timedOut: 'contoso-timed-out',
  windowRolledBack: 'contoso-window-rolled-back',
  windowAborted: 'contoso-window-aborted',
} as const;
type Run = keyof typeof NAMES;

let temporal: TestWorkflowEnvironment;
let envs: Record<Run, TestEnvironment>;
let dir: string;
let previousConfig: string;
let previousWorker: ChildProcess;
const workers: ChildProcess[] = [];

function startWorker(configFile: string, dist?: string): ChildProcess {
  const child = startWorkerProcess({
    configFile,
    logFile: path.join(dir, `worker-${workers.length + 1}.log`),
    dist,
  });
  workers.push(child);
  return child;
}

beforeAll(async () => {
  buildPreviousRelease();
  temporal = await createDevServerEnv();
  const entries = await Promise.all(
    Object.entries(NAMES).map(async ([run, name]) => [
      run,
      await startTestEnvironment(temporal, {
        name,
        faults: true,
        aosMode: 'inprocess',
        decisionTimeout: DECISION_TIMEOUT,
      }),
    ]),
  );
  envs = Object.fromEntries(entries) as Record<Run, TestEnvironment>;
  dir = envs.rolledBack.dir;
  previousConfig = writePreviousReleaseConfig(
    path.join(dir, 'previous-release.yaml'),
    temporal,
    Object.values(envs),
  );
  previousWorker = startWorker(previousConfig, PREVIOUS_DIST);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
  await Promise.all(Object.values(envs ?? {}).map((env) => env.stop()));
  await temporal?.teardown();
});

const handle = (workflowId: string): WorkflowHandle => temporal.client.workflow.getHandle(workflowId);
const enableId = (run: Run) => `maintenance-${NAMES[run]}`;
const windowId = (run: Run) => `window-${NAMES[run]}`;

/**
 * Through the release's CLI, an operation that fails and waits for a decision: an enable whose AOS
 * restart keeps failing (aos-1 never starts), or a window whose key change names an unknown key.
 */
async function failing(run: Run, command: 'enable' | 'window'): Promise<WorkflowHandle> {
  const env = envs[run];
  if (command === 'enable') await env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
  const [workflowId, args] =
    command === 'enable'
      ? [enableId(run), ['-r', 'license keys']]
      : [windowId(run), ['-d', 'PT60M', '--enable', 'WHSandTMS,NoSuchKey']];
  const started = await previousReleaseCli(previousConfig)(command, env.name, ...args, '-u', 'jane');
  expect(started.stdout).toContain(`${env.name}: ${workflowId} needs a decision.`);
  expect(started.code).toBe(6);
  return handle(workflowId);
}

/** A decision through the release's CLI, which follows the operation to its end. */
async function decide(kind: 'rollback' | 'abort', workflowId: string): Promise<void> {
  const decided = await previousReleaseCli(previousConfig)(kind, workflowId, '-r', 'not today', '-u', 'jane');
  expect(decided.stderr).toBe('');
  expect(decided.code).toBe(0);
}

/** How an operation closed: its result, the type of the failure it closed with, or cancelled. */
async function outcome(h: WorkflowHandle): Promise<string> {
  return h.result().then(
    (r: { result: string }) => r.result,
    (e: { cause?: Error & { type?: string } }) =>
      e.cause instanceof CancelledFailure ? 'cancelled' : `failed: ${e.cause?.type}`,
  );
}

/** The runs on the release's worker, each ended as its name says, and the fixture files of their workflows. */
const RUNS: Record<Run, () => Promise<Record<string, string>>> = {
  async rolledBack() {
    const h = await failing('rolledBack', 'enable');
    await envs.rolledBack.fleet.clearFaults(); // so that the AOS that ran come back
    await decide('rollback', h.workflowId);
    expect(await outcome(h)).toBe('RolledBack');
    return { 'enable-rolled-back.json': h.workflowId };
  },
  async aborted() {
    const h = await failing('aborted', 'enable');
    await decide('abort', h.workflowId);
    expect(await outcome(h)).toBe('failed: OperationAborted');
    return { 'enable-aborted.json': h.workflowId };
  },
  async cancelled() {
    const h = await failing('cancelled', 'enable');
    await h.cancel();
    expect(await outcome(h)).toBe('cancelled');
    return { 'enable-cancelled.json': h.workflowId };
  },
  async timedOut() {
    const h = await failing('timedOut', 'enable');
    expect(await outcome(h)).toBe('failed: OperationFailed');
    return { 'enable-decision-timed-out.json': h.workflowId };
  },
  async windowRolledBack() {
    const h = await failing('windowRolledBack', 'window');
    await decide('rollback', h.workflowId);
    expect(await outcome(h)).toBe('RolledBack');
    // Its children ran to their end too: an enable and a disable of the release, as a window's children.
    return {
      'window-rolled-back.json': h.workflowId,
      'window-rolled-back-enable.json': `${h.workflowId}-enable`,
      'window-rolled-back-disable.json': `${h.workflowId}-disable-rollback`,
    };
  },
  async windowAborted() {
    const h = await failing('windowAborted', 'window');
    await decide('abort', h.workflowId);
    expect(await outcome(h)).toBe('failed: OperationAborted');
    return { 'window-aborted.json': h.workflowId };
  },
};

let recorded: Record<string, string> = {};

it(`runs release ${RELEASE}'s operations to a rollback, an abort, a cancel and a decision timeout on its own worker`, async () => {
  // All at once: the decision timeout runs out while the others are decided.
  // Settled all before the first failure is told, so that none runs on into the teardown.
  const runs = await Promise.allSettled(Object.values(RUNS).map((run) => run()));
  for (const r of runs) if (r.status === 'rejected') throw r.reason;
  recorded = Object.assign({}, ...runs.map((r) => r.status === 'fulfilled' && r.value));

  const identity = `${previousWorker.pid}@${os.hostname()}`;
  for (const [file, workflowId] of Object.entries(recorded)) {
    const events = (await handle(workflowId).fetchHistory()).events ?? [];
    expect([file, new Set(workflowTaskWorkers(events))]).toEqual([file, new Set([identity])]);
    recordHistory(file, workflowId, events);
  }
}, 180_000);

it(`today's worker replays each to its end for \`maint logs\`; today's CLI imports and shows what they recorded`, async () => {
  expect(Object.keys(recorded)).toHaveLength(8);
  previousWorker.kill('SIGTERM');
  expect(await exited(previousWorker)).toBe(0);
  const currentConfig = writeCurrentConfig(path.join(dir, 'current.yaml'), Object.values(envs));
  startWorker(currentConfig);
  const maint = (...args: string[]) => cli(currentConfig, args);

  // Each log is today's code's account of the old history, replayed to its end.
  const decisions = async (workflowId: string) => {
    const logs = await maint('logs', workflowId, '--json');
    expect([workflowId, logs.stderr, logs.code]).toEqual([workflowId, '', 0]);
    const log = JSON.parse(logs.stdout) as OperationLog;
    return log.entries.filter((e) => e.kind === 'decision').map((e) => e.message);
  };
  const logged = Object.fromEntries(
    await Promise.all(Object.values(recorded).map(async (id) => [id, await decisions(id)])),
  );
  // Today's words for the decisions the old runs took (a client that release did not know is "unknown").
  const byJane = (kind: string) => [
    expect.stringMatching(new RegExp(`^${kind} by jane( \\(client unknown\\))?: not today$`)),
  ];
  const [rolledBackWindow, abortedWindow] = [windowId('windowRolledBack'), windowId('windowAborted')];
  expect(logged).toEqual({
    [enableId('rolledBack')]: byJane('rollback'),
    [enableId('aborted')]: byJane('abort'),
    [enableId('cancelled')]: ['cancelled: acting as abort'],
    [enableId('timedOut')]: [expect.stringMatching(/^timeout by system: no decision by /)],
    [rolledBackWindow]: byJane('rollback'),
    [`${rolledBackWindow}-enable`]: [],
    [`${rolledBackWindow}-disable-rollback`]: [],
    [abortedWindow]: byJane('abort'),
  });

  // What they recorded in the release's history file, moved into Temporal, newest first; no lock left.
  const upgraded = await maint('upgrade', '--from', path.join(dir, 'history.db'));
  expect(upgraded.stderr).toBe('');
  expect(upgraded.code).toBe(0);
  expect(upgraded.stdout.match(/ history entries imported; not locked\.$/gm)).toHaveLength(6);
  const history = async (name: string) => {
    const shown = await maint('history', name, '--json');
    expect([name, shown.code]).toEqual([name, 0]);
    return (JSON.parse(shown.stdout) as HistoryEntry[]).map((e) =>
      `${e.operationId} ${e.result} ${e.decisions.map((d) => `${d.kind} by ${d.by}`).join(', ')}`.trim(),
    );
  };
  const histories = Object.fromEntries(
    await Promise.all(Object.entries(NAMES).map(async ([run, name]) => [run, await history(name)])),
  );
  expect(histories).toEqual({
    rolledBack: [`${enableId('rolledBack')} RolledBack rollback by jane`],
    aborted: [`${enableId('aborted')} Aborted abort by jane`],
    cancelled: [`${enableId('cancelled')} Aborted cancel by cancellation request`],
    timedOut: [`${enableId('timedOut')} Failed timeout by system`],
    windowRolledBack: [
      `${rolledBackWindow}-disable-rollback Succeeded`,
      `${rolledBackWindow}-enable Succeeded`,
      `${rolledBackWindow} RolledBack rollback by jane`,
    ],
    windowAborted: [`${abortedWindow}-enable Succeeded`, `${abortedWindow} Aborted abort by jane`],
  });
}, 120_000);
