import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteServicingStore, type HistoryEntry, type LockHolder } from '../../activities/servicing-store';

let dir: string;
let store: SqliteServicingStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-test-'));
  store = new SqliteServicingStore(path.join(dir, 'history.db'));
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const holder = (runId: string): LockHolder => ({
  environment: 'contoso-sandbox',
  workflowId: `wf-${runId}`,
  runId,
  action: 'enable',
  requestedBy: 'jane',
  since: '2026-11-25T10:00:00.000Z',
});

const entry = (runId: string, startedAt: string): HistoryEntry => ({
  operationId: `wf-${runId}`,
  runId,
  environment: 'contoso-sandbox',
  action: 'enable',
  requestedBy: 'jane',
  reason: 'test',
  startedAt,
  finishedAt: startedAt,
  result: 'Succeeded',
  detail: '',
  decisions: [{ kind: 'resume', by: 'joe', reason: 'fixed', at: startedAt, step: 'verify' }],
});

describe('SqliteServicingStore', () => {
  it('gives the lock to one run, again to the same run (a retried activity), and names the holder to others', () => {
    expect(store.acquire(holder('a'))).toEqual({ acquired: true });
    expect(store.acquire(holder('a'))).toEqual({ acquired: true });
    expect(store.acquire(holder('b'))).toEqual({ acquired: false, holder: holder('a') });
  });

  it('takes a stale lock over only from the holder it saw', () => {
    store.acquire(holder('a'));
    expect(store.takeOver(holder('x'), holder('b'))).toBe(false);
    expect(store.takeOver(holder('a'), holder('b'))).toBe(true);
    expect(store.holder('contoso-sandbox')?.runId).toBe('b');
  });

  it('records a run once however often finish is called, and releases only its own lock', () => {
    store.acquire(holder('a'));
    expect(store.finish(entry('b', '2026-11-25T09:00:00.000Z'))).toEqual({ inserted: true });
    expect(store.holder('contoso-sandbox')?.runId).toBe('a');
    expect(store.finish(entry('a', '2026-11-25T10:00:00.000Z'))).toEqual({ inserted: true });
    expect(store.finish(entry('a', '2026-11-25T10:00:00.000Z'))).toEqual({ inserted: false });
    expect(store.holder('contoso-sandbox')).toBeUndefined();
    expect(store.list('contoso-sandbox').map((e) => e.runId)).toEqual(['a', 'b']);
    expect(store.list('contoso-sandbox')[0].decisions).toEqual(
      entry('a', '2026-11-25T10:00:00.000Z').decisions,
    );
  });

  it('releases by force and says who held the lock', () => {
    store.acquire(holder('a'));
    expect(store.forceRelease('contoso-sandbox')).toEqual(holder('a'));
    expect(store.forceRelease('contoso-sandbox')).toBeUndefined();
  });
});
