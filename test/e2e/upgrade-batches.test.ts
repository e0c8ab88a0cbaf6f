import path from 'node:path';
import Database from 'better-sqlite3';
import { IMPORT_BATCH_BYTES } from '../../client/upgrade';
import { environmentQuery, environmentWorkflowId } from '../../contract/environment';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';

/**
 * `maint upgrade` with a first-release history longer than one import request carries: it goes in
 * several requests, each below the bound (well under Temporal's 2 MiB payload limit), and arrives whole.
 */
let e2e: EndToEnd;
beforeAll(async () => {
  e2e = await startEndToEnd();
});
afterAll(() => e2e?.stop());

const ENTRIES = 1500;

/** A history file as the first release wrote it (activities/servicing-store.ts of c536525): its two tables. */
function firstReleaseHistory(file: string, environment: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE environment_history (
      run_id TEXT PRIMARY KEY, operation_id TEXT NOT NULL, environment TEXT NOT NULL, action TEXT NOT NULL,
      requested_by TEXT NOT NULL, reason TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
      result TEXT NOT NULL, detail TEXT NOT NULL, decisions TEXT NOT NULL
    );
    CREATE TABLE servicing_locks (
      environment TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, action TEXT NOT NULL,
      requested_by TEXT NOT NULL, since TEXT NOT NULL
    );`);
  const insert = db.prepare(
    `INSERT INTO environment_history VALUES (@runId, @operationId, @environment, @action, @requestedBy,
       @reason, @startedAt, @finishedAt, @result, @detail, @decisions)`,
  );
  db.transaction(() => {
    for (let i = 0; i < ENTRIES; i++) {
      const at = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString();
      insert.run({
        runId: `run-${i}`,
        operationId: `maintenance-${environment}-${i}`,
        environment,
        action: i % 2 ? 'disable' : 'enable',
        requestedBy: 'jane.doe',
        reason: `Change ${i}: ${'configuration keys for the warehouse and the transport modules '.repeat(3)}`,
        startedAt: at,
        finishedAt: at,
        result: 'Succeeded',
        detail: `CONFIGURATIONMODE set, aos-1 and aos-4 restarted, sign-in verified (${i})`,
        decisions: JSON.stringify([
          { kind: 'resume', by: 'oncall', reason: 'AOS back', at, identity: 'maint-cli oncall@host' },
        ]),
      });
    }
  })();
  db.prepare(
    `INSERT INTO servicing_locks VALUES (?, 'maintenance-in-flight', 'run-in-flight', 'enable', 'jane.doe', ?)`,
  ).run(environment, new Date(Date.UTC(2026, 5, 1)).toISOString());
  db.close();
}

it(`imports a history of ${ENTRIES} entries whole, in requests each under ${IMPORT_BATCH_BYTES} bytes`, async () => {
  const name = e2e.env.name;
  const file = path.join(e2e.env.dir, 'history.db');
  firstReleaseHistory(file, name);

  const upgraded = await e2e.maint('upgrade', '--from', file);
  expect(upgraded.stderr).toBe('');
  expect(upgraded.code).toBe(0);
  expect(upgraded.stdout).toContain(
    `${name}: ${ENTRIES} of ${ENTRIES} history entries imported; locked by workflow maintenance-in-flight`,
  );

  const entity = e2e.temporal.client.workflow.getHandle(environmentWorkflowId(name));
  const view = await entity.query(environmentQuery);
  expect(view.historyLength).toBe(ENTRIES);
  expect(view.recent[0].operationId).toBe(`maintenance-${name}-${ENTRIES - 1}`);
  expect(view.holder).toMatchObject({ workflowId: 'maintenance-in-flight', runId: 'run-in-flight' });

  // What the server received: each importHistory update's input, as its history records it.
  const { events } = await entity.fetchHistory();
  const requests = (events ?? [])
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input)
    .filter((input) => input?.name === 'importHistory')
    .map((input) => (input!.args?.payloads ?? []).reduce((sum, p) => sum + (p.data?.length ?? 0), 0));
  const total = requests.reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThan(3 * IMPORT_BATCH_BYTES);
  expect(requests.length).toBeGreaterThanOrEqual(4);
  for (const size of requests) expect(size).toBeLessThanOrEqual(IMPORT_BATCH_BYTES);

  // Again: nothing more is imported.
  const again = await e2e.maint('upgrade', '--from', file);
  expect(again.stdout).toContain(`${name}: 0 of ${ENTRIES} history entries imported`);
});
