import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Client } from '@temporalio/client';
import type { LoadedConfig } from '../config/load';
import {
  LIMITS,
  fitEntry,
  importHistoryUpdate,
  type HistoryEntry,
  type LockHolder,
} from '../contract/environment';
import { ExitCode, OperatorError, entitiesOf } from './operations';

/**
 * The most one import request carries: far below Temporal's 2 MiB payload limit (and its 512 KiB
 * warning), so a long history goes in several requests.
 */
export const IMPORT_BATCH_BYTES = 256 * 1024;

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
    const entities = entitiesOf(client, config);
    for (const environment of Object.keys(config.environments)) {
      const entries = readEntries(db, environment);
      const line: ImportLine = { environment, entries: entries.length, imported: 0 };
      // The lock goes with the first request, so an operation in flight keeps its environment from the start.
      let holder = readHolder(db, environment);
      for (const batch of importBatches(entries, holder)) {
        // The same file gives the same requests: the entity applies each once, however often this runs.
        const id = createHash('sha256')
          .update(JSON.stringify({ entries: batch, holder }))
          .digest('hex');
        const answer = await entities.update(environment, importHistoryUpdate, {
          entries: batch,
          holder,
          id,
        });
        line.imported += answer.imported;
        line.holder = answer.holder;
        holder = undefined;
      }
      lines.push(line);
    }
    return lines;
  } finally {
    db.close();
  }
}

/**
 * The entries in order, cut into requests of at most `limit` bytes of JSON and LIMITS.importBatch
 * entries (the first also carries the lock holder); at least one request, so that an environment without history gets its entity and lock.
 */
export function importBatches(
  entries: HistoryEntry[],
  holder: LockHolder | undefined,
  limit = IMPORT_BATCH_BYTES,
): HistoryEntry[][] {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const batches: HistoryEntry[][] = [[]];
  let size = bytes({ entries: [], holder });
  for (const entry of entries) {
    const more = bytes(entry) + 1;
    if (bytes({ entries: [entry] }) > limit) {
      throw new OperatorError(
        `History entry ${entry.operationId} (run ${entry.runId}) of ${entry.environment} is ${bytes(entry)} bytes of JSON, ` +
          `more than one import request carries (${limit}). Shorten its reason or detail in the history file, then run maint upgrade again.`,
        ExitCode.InvalidInput,
      );
    }
    // Also at most LIMITS.importBatch entries, as many as the entity takes in one request.
    if (size + more > limit || batches[batches.length - 1].length >= LIMITS.importBatch) {
      batches.push([]);
      size = bytes({ entries: [] });
    }
    batches[batches.length - 1].push(entry);
    size += more;
  }
  return batches;
}

function readEntries(db: Database.Database, environment: string): HistoryEntry[] {
  const rows = db
    .prepare(
      `SELECT run_id AS runId, operation_id AS operationId, environment, action, requested_by AS requestedBy,
         reason, started_at AS startedAt, finished_at AS finishedAt, result, detail, decisions
       FROM environment_history WHERE environment = ? ORDER BY finished_at, run_id`,
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
