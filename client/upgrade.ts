import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Client } from '@temporalio/client';
import type { LoadedConfig } from '../config/load';
import { fitEntry, importHistoryUpdate, type HistoryEntry, type LockHolder } from '../contract/environment';
import { ExitCode, OperatorError, entitiesOf } from './operations';

export interface ImportLine {
  environment: string;
  entries: number;
  imported: number;
  holder?: LockHolder;
}

/**
 * Upgrade from the first release: its environment history and the locks its operations still hold
 * lived in a SQLite file on the worker's host. Each environment's entries and lock go to its entity
 * workflow, once (entries already there are skipped), so operations started before the upgrade keep
 * the environment until they finish.
 */
export async function importFirstReleaseHistory(
  client: Client,
  config: LoadedConfig,
  file: string,
): Promise<ImportLine[]> {
  if (!fs.existsSync(file)) {
    throw new OperatorError(`No history file at ${file}: nothing to import.`, ExitCode.NotFound);
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const lines: ImportLine[] = [];
    for (const environment of Object.keys(config.environments)) {
      const entries = readEntries(db, environment);
      const holder = readHolder(db, environment);
      const { imported, holder: now } = await entitiesOf(client, config).update(
        environment,
        importHistoryUpdate,
        { entries, holder },
      );
      lines.push({ environment, entries: entries.length, imported, holder: now });
    }
    return lines;
  } finally {
    db.close();
  }
}

function readEntries(db: Database.Database, environment: string): HistoryEntry[] {
  const rows = db
    .prepare(
      `SELECT run_id AS runId, operation_id AS operationId, environment, action, requested_by AS requestedBy,
         reason, started_at AS startedAt, finished_at AS finishedAt, result, detail, decisions
       FROM environment_history WHERE environment = ? ORDER BY finished_at`,
    )
    .all(environment) as (Omit<HistoryEntry, 'decisions'> & { decisions: string })[];
  // Bounded as the entity takes them: long texts cut, the latest decisions kept.
  return rows.map((r) => fitEntry({ ...r, decisions: JSON.parse(r.decisions) as HistoryEntry['decisions'] }));
}

function readHolder(db: Database.Database, environment: string): LockHolder | undefined {
  const row = db
    .prepare(
      `SELECT workflow_id AS workflowId, run_id AS runId, action, requested_by AS requestedBy, since
       FROM servicing_locks WHERE environment = ?`,
    )
    .get(environment) as Omit<LockHolder, 'lineage'> | undefined;
  // The first release knew no lineage: its runs' first run ID is their own.
  return row && { ...row, lineage: row.runId };
}
