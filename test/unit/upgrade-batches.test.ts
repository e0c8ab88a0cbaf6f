import { importBatches } from '../../client/upgrade';
import { LIMITS, type HistoryEntry, type LockHolder } from '../../contract/environment';

/** How `maint upgrade` cuts a first-release history into import requests (client/upgrade.ts). */
const entry = (i: number, reason = 'keys'): HistoryEntry => ({
  operationId: `maintenance-sbx-${i}`,
  runId: `run-${i}`,
  environment: 'sbx',
  action: 'enable',
  requestedBy: 'jane',
  reason,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  result: 'Succeeded',
  detail: '',
  decisions: [],
});
const holder: LockHolder = {
  workflowId: 'maintenance-sbx',
  runId: 'run-x',
  lineage: 'run-x',
  action: 'enable',
  requestedBy: 'jane',
  since: '2026-01-01T00:00:00.000Z',
};
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('importBatches', () => {
  it('keeps every entry in order, each request under the limit, the lock holder in the first', () => {
    const entries = Array.from({ length: 500 }, (_, i) => entry(i));
    const batches = importBatches(entries, holder, 10_000);
    expect(batches.length).toBeGreaterThan(5);
    expect(batches.flat()).toEqual(entries);
    batches.forEach((batch, i) =>
      expect(bytes({ entries: batch, holder: i === 0 ? holder : undefined })).toBeLessThanOrEqual(10_000),
    );
  });

  it('puts at most as many entries in a request as the entity takes in one (LIMITS.importBatch)', () => {
    const entries = Array.from({ length: 2 * LIMITS.importBatch + 1 }, (_, i) => entry(i));
    const batches = importBatches(entries, holder, 10_000_000);
    expect(batches.map((b) => b.length)).toEqual([LIMITS.importBatch, LIMITS.importBatch, 1]);
  });

  it('sends one request without entries, so that the holder of a lock still arrives', () => {
    expect(importBatches([], holder)).toEqual([[]]);
  });

  it('refuses an entry that no request can carry, naming it', () => {
    expect(() => importBatches([entry(1), entry(2, 'x'.repeat(20_000))], undefined, 10_000)).toThrow(
      /History entry maintenance-sbx-2 \(run run-2\) of sbx is \d+ bytes of JSON, more than one import request carries \(10000\)/,
    );
  });
});
