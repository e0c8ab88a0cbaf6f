/**
 * The environment's database: the maintenance flag, configuration keys, users and roles (as in an
 * ERP database), plus the supervisor's own record of which AOS instances should run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { FleetUser } from './rules';
import { MAINTENANCE_MODE_USER, SYSTEM_ADMINISTRATOR } from './rules';
import type {
  BatchJob,
  BatchJobRequest,
  ConfigurationKey,
  DesiredState,
  InstanceRecord,
  Session,
  Topology,
} from './schemas';

export type FleetDatabase = Database.Database;

export function openFleetDatabase(
  file: string,
  { readonly = false, busyTimeoutMs = 5000 }: { readonly?: boolean; busyTimeoutMs?: number } = {},
): FleetDatabase {
  return new Database(file, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS SQLSYSTEMVARIABLES (PARM TEXT PRIMARY KEY, VALUE INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS CONFIGURATIONKEYS (NAME TEXT PRIMARY KEY, LABEL TEXT NOT NULL, ENABLED INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS USERINFO (ID TEXT PRIMARY KEY, NAME TEXT NOT NULL, ENABLED INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS SECURITYUSERROLE (USERID TEXT NOT NULL, ROLE TEXT NOT NULL, PRIMARY KEY (USERID, ROLE));
CREATE TABLE IF NOT EXISTS FLEETINSTANCES (
  ID TEXT PRIMARY KEY,
  ROLE TEXT NOT NULL CHECK (ROLE IN ('interactive', 'batch')),
  DESIRED TEXT NOT NULL CHECK (DESIRED IN ('running', 'stopped'))
);
CREATE TABLE IF NOT EXISTS SYSCLIENTSESSIONS (
  SESSIONID INTEGER PRIMARY KEY AUTOINCREMENT,
  USERID TEXT NOT NULL,
  SERVERID TEXT,
  STATUS INTEGER NOT NULL DEFAULT 1,
  LOGINDATETIME TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS BATCHJOB (
  RECID INTEGER PRIMARY KEY AUTOINCREMENT,
  CAPTION TEXT NOT NULL,
  STATUS INTEGER NOT NULL,
  STARTDATETIME TEXT NOT NULL
);
`;

/** BATCHJOB.STATUS as the ERP numbers it (BatchStatus): only these two matter to maintenance. */
export const BATCH_STATUS = { waiting: 1, executing: 2 } as const;

const CONFIGURATION_KEYS: [name: string, label: string, enabled: number][] = [
  ['LedgerBasic', 'General ledger', 1],
  ['BankBasic', 'Bank', 1],
  ['ProjBasic', 'Project', 1],
  ['WHSandTMS', 'Warehouse and Transportation management', 0],
  ['RetailEssentials', 'Retail essentials', 0],
  ['PayrollUS', 'Payroll (US)', 0],
];

/** A System administrator, a Maintenance mode user, a regular user and a disabled regular user. */
const USERS: { id: string; name: string; enabled: number; roles: string[] }[] = [
  { id: 'admin', name: 'Administrator', enabled: 1, roles: [SYSTEM_ADMINISTRATOR] },
  { id: 'maint.user', name: 'Maintenance operator', enabled: 1, roles: [MAINTENANCE_MODE_USER] },
  { id: 'alice', name: 'Alice Accountant', enabled: 1, roles: ['Accountant'] },
  { id: 'bob', name: 'Bob Leaver', enabled: 0, roles: ['Accountant'] },
];

function seed(db: FleetDatabase, topology: Topology): void {
  db.prepare("INSERT OR IGNORE INTO SQLSYSTEMVARIABLES (PARM, VALUE) VALUES ('CONFIGURATIONMODE', 0)").run();
  const key = db.prepare<[string, string, number]>(
    'INSERT OR IGNORE INTO CONFIGURATIONKEYS (NAME, LABEL, ENABLED) VALUES (?, ?, ?)',
  );
  for (const row of CONFIGURATION_KEYS) key.run(...row);
  const user = db.prepare<[string, string, number]>(
    'INSERT OR IGNORE INTO USERINFO (ID, NAME, ENABLED) VALUES (?, ?, ?)',
  );
  const role = db.prepare<[string, string]>(
    'INSERT OR IGNORE INTO SECURITYUSERROLE (USERID, ROLE) VALUES (?, ?)',
  );
  for (const { id, name, enabled, roles } of USERS) {
    user.run(id, name, enabled);
    for (const r of roles) role.run(id, r);
  }
  const { n } = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM FLEETINSTANCES').get()!;
  if (n > 0) return;
  const instance = db.prepare<[string, string]>(
    "INSERT INTO FLEETINSTANCES (ID, ROLE, DESIRED) VALUES (?, ?, 'running')",
  );
  const roles = [
    ...Array<string>(topology.interactive).fill('interactive'),
    ...Array<string>(topology.batch).fill('batch'),
  ];
  roles.forEach((r, i) => instance.run(`aos-${i + 1}`, r));
}

/** Creates and seeds what is missing; safe to run on every supervisor start. */
export function ensureSchema(db: FleetDatabase, topology: Topology): void {
  // The "database unreachable" fault needs an exclusive lock to block readers too, which WAL would not do.
  db.pragma('journal_mode = DELETE');
  db.transaction(() => {
    db.exec(SCHEMA);
    seed(db, topology);
  })();
}

export function readConfigurationMode(db: FleetDatabase): boolean {
  const row = db
    .prepare<[string], { VALUE: number }>('SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = ?')
    .get('CONFIGURATIONMODE');
  return row?.VALUE === 1;
}

export function findUser(db: FleetDatabase, id: string): FleetUser | undefined {
  const user = db.prepare<[string], { ENABLED: number }>('SELECT ENABLED FROM USERINFO WHERE ID = ?').get(id);
  if (!user) return undefined;
  const roles = db
    .prepare<[string], string>('SELECT ROLE FROM SECURITYUSERROLE WHERE USERID = ? ORDER BY ROLE')
    .pluck()
    .all(id);
  return { id, enabled: user.ENABLED === 1, roles };
}

interface KeyRow {
  NAME: string;
  LABEL: string;
  ENABLED: number;
}
const toKey = (row: KeyRow): ConfigurationKey => ({
  name: row.NAME,
  label: row.LABEL,
  enabled: row.ENABLED === 1,
});

export function listConfigurationKeys(db: FleetDatabase): ConfigurationKey[] {
  return db
    .prepare<[], KeyRow>('SELECT NAME, LABEL, ENABLED FROM CONFIGURATIONKEYS ORDER BY NAME')
    .all()
    .map(toKey);
}

/** Returns the updated key, or undefined when no key has that name. */
export function setConfigurationKey(
  db: FleetDatabase,
  name: string,
  enabled: boolean,
): ConfigurationKey | undefined {
  const row = db
    .prepare<[number, string], KeyRow>(
      'UPDATE CONFIGURATIONKEYS SET ENABLED = ? WHERE NAME = ? RETURNING NAME, LABEL, ENABLED',
    )
    .get(enabled ? 1 : 0, name);
  return row && toKey(row);
}

export function listInstances(db: FleetDatabase): InstanceRecord[] {
  return db
    .prepare<[], InstanceRecord>(
      'SELECT ID AS id, ROLE AS role, DESIRED AS desired FROM FLEETINSTANCES ORDER BY rowid',
    )
    .all();
}

export function setInstanceDesired(db: FleetDatabase, id: string, desired: DesiredState): void {
  db.prepare<[string, string]>('UPDATE FLEETINSTANCES SET DESIRED = ? WHERE ID = ?').run(desired, id);
}

/**
 * True for SQLITE_BUSY and its variants: another connection holds a lock longer than our busy timeout.
 * By its code alone, neither `instanceof SqliteError` nor `instanceof Error`: better-sqlite3's addon
 * makes its errors with the class of the first copy of the module that loaded it, and jest loads a
 * copy per test file, each in a realm of its own, into one worker process.
 */
export function isDatabaseBusy(err: unknown): err is InstanceType<Database.SqliteError> {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** How long an AOS waits for a lock before it answers "database unreachable". */
export const AOS_BUSY_BUDGET_MS = 500;
/**
 * The waits between tries, the last one repeated: short first, as SQLite's own busy handler waits,
 * since most locks are a commit's few milliseconds (a fixed 20 ms made a read that met one wait 20 ms
 * instead of 3).
 */
const BUSY_RETRY_MS = [1, 2, 5, 10, 15, 20];

/**
 * Runs `query` again until it no longer fails with SQLITE_BUSY or `budgetMs` is spent. Connections that
 * use it have no busy timeout of their own: SQLite's would wait synchronously, and an in-process AOS
 * shares its event loop with the supervisor and every other environment's AOS.
 */
export async function whenNotBusy<T>(query: () => T, budgetMs = AOS_BUSY_BUDGET_MS): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let tries = 0; ; tries++) {
    try {
      return query();
    } catch (err) {
      if (!isDatabaseBusy(err) || Date.now() >= deadline) throw err;
    }
    await sleep(BUSY_RETRY_MS[Math.min(tries, BUSY_RETRY_MS.length - 1)]);
  }
}

/** Whether another connection could read the database right now (waiting at most 250 ms for a lock). */
export async function isDatabaseReachable(file: string): Promise<boolean> {
  try {
    const probe = openFleetDatabase(file, { readonly: true, busyTimeoutMs: 0 });
    try {
      await whenNotBusy(() => readConfigurationMode(probe), 250);
      return true;
    } finally {
      probe.close();
    }
  } catch {
    return false;
  }
}

/** Signs `user` in (a row of SYSCLIENTSESSIONS, STATUS 1): the user must exist and be enabled. */
export function addSession(db: FleetDatabase, user: string, aos: string | undefined, at: string): Session {
  const found = findUser(db, user);
  if (!found?.enabled) throw new Error(`no enabled user "${user}" in USERINFO`);
  const { lastInsertRowid } = db
    .prepare<[string, string | null, string]>(
      'INSERT INTO SYSCLIENTSESSIONS (USERID, SERVERID, STATUS, LOGINDATETIME) VALUES (?, ?, 1, ?)',
    )
    .run(user, aos ?? null, at);
  return { id: Number(lastInsertRowid), user, aos: aos ?? null, loginAt: at };
}

export function endSession(db: FleetDatabase, id: number): boolean {
  return db.prepare<[number]>('DELETE FROM SYSCLIENTSESSIONS WHERE SESSIONID = ?').run(id).changes > 0;
}

export function listSessions(db: FleetDatabase): Session[] {
  return db
    .prepare<[], { SESSIONID: number; USERID: string; SERVERID: string | null; LOGINDATETIME: string }>(
      'SELECT SESSIONID, USERID, SERVERID, LOGINDATETIME FROM SYSCLIENTSESSIONS WHERE STATUS = 1 ORDER BY SESSIONID',
    )
    .all()
    .map((r) => ({ id: r.SESSIONID, user: r.USERID, aos: r.SERVERID, loginAt: r.LOGINDATETIME }));
}

export function addBatchJob(db: FleetDatabase, job: BatchJobRequest): BatchJob {
  const { lastInsertRowid } = db
    .prepare<[string, number, string]>(
      'INSERT INTO BATCHJOB (CAPTION, STATUS, STARTDATETIME) VALUES (?, ?, ?)',
    )
    .run(job.caption, BATCH_STATUS[job.status], new Date(job.startsAt).toISOString());
  return { id: Number(lastInsertRowid), ...job };
}

export function listBatchJobs(db: FleetDatabase): BatchJob[] {
  const status = Object.fromEntries(Object.entries(BATCH_STATUS).map(([k, v]) => [v, k])) as Record<
    number,
    BatchJob['status']
  >;
  return db
    .prepare<[number, number], { RECID: number; CAPTION: string; STATUS: number; STARTDATETIME: string }>(
      'SELECT RECID, CAPTION, STATUS, STARTDATETIME FROM BATCHJOB WHERE STATUS IN (?, ?) ORDER BY STARTDATETIME',
    )
    .all(BATCH_STATUS.waiting, BATCH_STATUS.executing)
    .map((r) => ({ id: r.RECID, caption: r.CAPTION, status: status[r.STATUS], startsAt: r.STARTDATETIME }));
}
