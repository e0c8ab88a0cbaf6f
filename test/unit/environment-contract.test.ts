import {
  LIMITS,
  fitEntry,
  historyEntrySchema,
  importHistoryInputSchema,
  jsonBytes,
  type HistoryEntry,
} from '../../contract/environment';
import type { Decision } from '../../contract/operation';

const entry: HistoryEntry = {
  operationId: 'enable-1',
  runId: 'run-1',
  environment: 'contoso-sandbox',
  action: 'enable',
  requestedBy: 'jane',
  reason: 'why',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  result: 'Succeeded',
  detail: '',
  decisions: [],
};
const decision = (i: number): Decision => ({
  kind: 'resume',
  by: 'jane',
  reason: `try ${i}`,
  at: '2026-01-01T00:00:00.000Z',
  step: 'restartAos',
});

describe('the environment history entry is bounded', () => {
  it('refuses each over-long field by name, with its limit', () => {
    const parsed = historyEntrySchema.safeParse({
      ...entry,
      reason: 'x'.repeat(LIMITS.reason + 1),
      detail: 'x'.repeat(LIMITS.detail + 1),
      requestedBy: 'x'.repeat(LIMITS.by + 1),
      decisions: Array.from({ length: LIMITS.decisions + 1 }, (_, i) => decision(i)),
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.message)).toEqual([
      'requestedBy has at most 100 characters',
      'reason has at most 500 characters',
      'detail has at most 2000 characters',
      'at most 20 decisions an entry (the latest)',
    ]);
  });

  it('refuses a decision whose own strings are too long', () => {
    const parsed = historyEntrySchema.safeParse({
      ...entry,
      decisions: [{ ...decision(1), reason: 'x'.repeat(501) }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0].message).toContain('reason (at most 500)');
  });

  it('makes an entry fit: long texts cut, the latest decisions kept, and says how many were left out', () => {
    const fitted = fitEntry({
      ...entry,
      reason: 'r'.repeat(600),
      detail: 'failed',
      decisions: Array.from({ length: 25 }, (_, i) => decision(i)),
    });
    expect(historyEntrySchema.safeParse(fitted).success).toBe(true);
    expect(fitted.reason).toHaveLength(LIMITS.reason);
    expect(fitted.reason.endsWith('…')).toBe(true);
    expect(fitted.decisions.map((d) => d.reason)).toEqual(
      Array.from({ length: 20 }, (_, i) => `try ${i + 5}`),
    );
    expect(fitted.detail).toBe('failed (5 earlier decisions not kept here)');
    expect(fitEntry(entry)).toEqual(entry);
  });

  it('takes imports in batches of at most LIMITS.importBatch entries', () => {
    const parsed = importHistoryInputSchema.safeParse({
      entries: Array.from({ length: LIMITS.importBatch + 1 }, () => entry),
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0].message).toBe('at most 500 entries per import: send them in batches');
  });

  it('counts bytes as UTF-8 JSON, as the server counts a payload', () => {
    expect(jsonBytes('a')).toBe(3);
    expect(jsonBytes('é')).toBe(4);
    expect(jsonBytes('€')).toBe(5);
    expect(jsonBytes('😀')).toBe(6);
    expect(jsonBytes({ a: 'é' })).toBe(Buffer.byteLength(JSON.stringify({ a: 'é' })));
  });
});
