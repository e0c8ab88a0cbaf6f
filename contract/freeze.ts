/**
 * Change freezes as workflows see them: the periods the worker computed from temporal.yaml (through
 * the settings' local activity, so a replay reads the same ones), the refusal that names a freeze and
 * when it ends, and the signed exception an approver of a protected environment grants for one run.
 * Import-safe in workflow code.
 */
import { z } from 'zod';
import { SIGNATURE_NAMESPACE, canonicalJson, signatureSchema, signedStartFields } from './signing';

/** One period of a freeze, as instants (ISO 8601, UTC). */
export interface FreezePeriod {
  freeze: string;
  start: string;
  end: string;
  reason?: string;
}

/** The period in force at `at` (ms), if any: the one that ends last when periods overlap. */
export function freezeAt(periods: FreezePeriod[], at: number): FreezePeriod | undefined {
  return periods
    .filter((p) => Date.parse(p.start) <= at && at < Date.parse(p.end))
    .sort((a, b) => Date.parse(b.end) - Date.parse(a.end))[0];
}

/** The first period that overlaps [from, to) (ms), if any. */
export function freezeOverlapping(
  periods: FreezePeriod[],
  from: number,
  to: number,
): FreezePeriod | undefined {
  return periods.find((p) => Date.parse(p.start) < to && Date.parse(p.end) > from);
}

/** "change freeze month-end-close (Month-end close) until 2026-12-02T18:00:00.000Z", for refusals. */
export const describeFreeze = (p: FreezePeriod): string =>
  `change freeze "${p.freeze}"${p.reason ? ` (${p.reason})` : ''}, from ${p.start} until ${p.end}`;

/**
 * An exception to a freeze for one run, granted by an approver of the protected environment: a
 * signature over the namespace, the workflow ID and type, the environment, the freeze, who grants it
 * and why, and when it was signed (valid for 15 minutes, as a signed start). `maint freeze except` makes it.
 */
export const freezeExceptionSchema = z
  .object({
    freeze: z.string().min(1).max(100),
    by: z.string().trim().min(1).max(100),
    reason: z.string().trim().min(1, 'say why the freeze is broken, e.g. "P1 incident INC-42"').max(500),
    signedAt: signedStartFields.signedAt.unwrap(),
    signature: signatureSchema,
  })
  .strict();
export type FreezeException = z.infer<typeof freezeExceptionSchema>;

/** What the approver signs to let one run start during a freeze. */
export function freezeExceptionMessage(e: {
  namespace: string;
  workflowId: string;
  workflowType: string;
  environment: string;
  freeze: string;
  by: string;
  reason: string;
  signedAt: string;
}): string {
  return `${SIGNATURE_NAMESPACE} freeze-exception v1\n${canonicalJson(e)}`;
}

/** The exception a run used, as its status, log and history entry record it. */
export interface FreezeExceptionRecord {
  freeze: string;
  by: string;
  fingerprint: string;
  reason: string;
  /** The end of the frozen period it was granted in. */
  until: string;
}
