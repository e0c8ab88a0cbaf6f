import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Decision, OperationKind, Result } from '../contract/operation';

export interface HistoryEntry {
  operationId: string;
  runId: string;
  environment: string;
  action: OperationKind;
  requestedBy: string;
  reason: string;
  startedAt: string;
  finishedAt: string;
  result: Result;
  detail: string;
  decisions: Decision[];
}

/** Who holds an environment's servicing lock. */
export interface LockHolder {
  environment: string;
  workflowId: string;
  runId: string;
  action: OperationKind;
  requestedBy: string;
  since: string;
}

export type AcquireResult = { acquired: true } | { acquired: false; holder: LockHolder };

/**
 * The environment history ("Environment changes") and the servicing locks, in one store so that
 * recording an operation and releasing its lock happen in one transaction. An interface so that a
 * server database can replace the SQLite default.
 */
export interface ServicingStore {
  /** Takes the lock, or returns it already held by the same run (a retried activity), or the holder. */
  acquire(holder: LockHolder): AcquireResult;
  /** Replaces `stale` as holder, only if it still holds the lock (a safe takeover). */
  takeOver(stale: LockHolder, holder: LockHolder): boolean;
  holder(environment: string): LockHolder | undefined;
  /** Drops the lock whoever holds it (`unlock --force`); returns who held it. */
  forceRelease(environment: string): LockHolder | undefined;
  /** Records the operation once per run and releases its lock; a repeated call changes nothing. */
  finish(entry: HistoryEntry): { inserted: boolean };
  list(environment: string, limit?: number): HistoryEntry[];
  close(): void;
}

interface HistoryRow extends Omit<HistoryEntry, 'decisions'> {
  decisions: string;
}

export class SqliteServicingStore implements ServicingStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS environment_history (
        run_id TEXT PRIMARY KEY,
        operation_id TEXT NOT NULL,
        environment TEXT NOT NULL,
        action TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        result TEXT NOT NULL,
        detail TEXT NOT NULL,
        decisions TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS environment_history_by_env ON environment_history (environment, started_at);
      CREATE TABLE IF NOT EXISTS servicing_locks (
        environment TEXT PRIMARY KEY,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        action TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        since TEXT NOT NULL
      );`);
  }

  acquire(h: LockHolder): AcquireResult {
    return this.db
      .transaction((): AcquireResult => {
        this.db
          .prepare(
            `INSERT INTO servicing_locks (environment, workflow_id, run_id, action, requested_by, since)
           VALUES (@environment, @workflowId, @runId, @action, @requestedBy, @since) ON CONFLICT(environment) DO NOTHING`,
          )
          .run(h);
        const current = this.holder(h.environment)!;
        return current.runId === h.runId ? { acquired: true } : { acquired: false, holder: current };
      })
      .immediate();
  }

  takeOver(stale: LockHolder, h: LockHolder): boolean {
    const info = this.db
      .prepare(
        `UPDATE servicing_locks SET workflow_id = @workflowId, run_id = @runId, action = @action,
           requested_by = @requestedBy, since = @since WHERE environment = @environment AND run_id = @staleRunId`,
      )
      .run({ ...h, staleRunId: stale.runId });
    return info.changes === 1;
  }

  holder(environment: string): LockHolder | undefined {
    return this.db
      .prepare(
        `SELECT environment, workflow_id AS workflowId, run_id AS runId, action, requested_by AS requestedBy, since
         FROM servicing_locks WHERE environment = ?`,
      )
      .get(environment) as LockHolder | undefined;
  }

  forceRelease(environment: string): LockHolder | undefined {
    return this.db
      .transaction(() => {
        const current = this.holder(environment);
        this.db.prepare('DELETE FROM servicing_locks WHERE environment = ?').run(environment);
        return current;
      })
      .immediate();
  }

  finish(e: HistoryEntry): { inserted: boolean } {
    return this.db
      .transaction(() => {
        const info = this.db
          .prepare(
            `INSERT INTO environment_history (run_id, operation_id, environment, action, requested_by, reason,
             started_at, finished_at, result, detail, decisions)
           VALUES (@runId, @operationId, @environment, @action, @requestedBy, @reason, @startedAt, @finishedAt,
             @result, @detail, @decisions)
           ON CONFLICT(run_id) DO NOTHING`,
          )
          .run({ ...e, decisions: JSON.stringify(e.decisions) });
        this.db
          .prepare('DELETE FROM servicing_locks WHERE environment = ? AND run_id = ?')
          .run(e.environment, e.runId);
        return { inserted: info.changes === 1 };
      })
      .immediate();
  }

  list(environment: string, limit = 50): HistoryEntry[] {
    const rows = this.db
      .prepare(
        `SELECT run_id AS runId, operation_id AS operationId, environment, action, requested_by AS requestedBy,
           reason, started_at AS startedAt, finished_at AS finishedAt, result, detail, decisions
         FROM environment_history WHERE environment = ? ORDER BY started_at DESC LIMIT ?`,
      )
      .all(environment, limit) as HistoryRow[];
    return rows.map((r) => ({ ...r, decisions: JSON.parse(r.decisions) as Decision[] }));
  }

  close(): void {
    this.db.close();
  }
}
