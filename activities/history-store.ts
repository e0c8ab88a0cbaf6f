import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Action } from '../contract/operation';

export interface HistoryEntry {
  operationId: string;
  runId: string;
  environment: string;
  action: Action;
  requestedBy: string;
  reason: string;
  startedAt: string;
  finishedAt: string;
  result: string;
  detail: string;
}

/** The environment history ("Environment changes"). An interface so a server database can replace SQLite. */
export interface HistoryStore {
  /** Exactly once per run: recording the same run again changes nothing and says so. */
  record(entry: HistoryEntry): { inserted: boolean };
  list(environment: string, limit?: number): HistoryEntry[];
  close(): void;
}

export class SqliteHistoryStore implements HistoryStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS environment_history (
      run_id TEXT PRIMARY KEY,
      operation_id TEXT NOT NULL,
      environment TEXT NOT NULL,
      action TEXT NOT NULL,
      requested_by TEXT NOT NULL,
      reason TEXT NOT NULL,
      started_at TEXT NOT NULL,
      finished_at TEXT NOT NULL,
      result TEXT NOT NULL,
      detail TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS environment_history_by_env ON environment_history (environment, started_at);`);
  }

  record(e: HistoryEntry): { inserted: boolean } {
    const info = this.db
      .prepare(
        `INSERT INTO environment_history (run_id, operation_id, environment, action, requested_by, reason,
           started_at, finished_at, result, detail)
         VALUES (@runId, @operationId, @environment, @action, @requestedBy, @reason, @startedAt, @finishedAt, @result, @detail)
         ON CONFLICT(run_id) DO NOTHING`,
      )
      .run(e);
    return { inserted: info.changes === 1 };
  }

  list(environment: string, limit = 50): HistoryEntry[] {
    return this.db
      .prepare(
        `SELECT run_id AS runId, operation_id AS operationId, environment, action, requested_by AS requestedBy,
           reason, started_at AS startedAt, finished_at AS finishedAt, result, detail
         FROM environment_history WHERE environment = ? ORDER BY started_at DESC LIMIT ?`,
      )
      .all(environment, limit) as HistoryEntry[];
  }

  close(): void {
    this.db.close();
  }
}
