/**
 * What people sign on protected environments, and how the product compares names. A start and
 * every answer (approve, reject, resume, rollback, abort, endWindow, extendWindow) carry an SSH
 * signature (`ssh-keygen -Y sign -n maintenance-orchestrator`) over one of the messages below, which
 * bind it to one namespace and workflow and, for answers, to one run and to the answers before it.
 * Import-safe in workflow code.
 */
import { z } from 'zod';
import { matches } from './validation';

/** The SSHSIG namespace of every signature the product makes or accepts. */
export const SIGNATURE_NAMESPACE = 'maintenance-orchestrator';

/** How long a signed start stays valid: signed at most this long before the workflow starts. */
export const START_SIGNATURE_VALIDITY_MS = 15 * 60_000;
/** Clocks of the signer and the server may disagree this much. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** One person, however the name was typed: case, surrounding spaces and compatible forms (ｂｏｂ) aside. */
export const personKey = (name: string): string => name.normalize('NFKC').trim().toLowerCase();
export const samePerson = (a: string, b: string): boolean => personKey(a) === personKey(b);

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An armored SSH signature, as a workflow input or answer carries it (the JSON string of the block). */
export const signatureSchema = z
  .string()
  .max(16_384, 'a signature is at most 16 KiB')
  .refine(matches(/^\s*-----BEGIN SSH SIGNATURE-----[\s\S]+-----END SSH SIGNATURE-----\s*$/), {
    message:
      'a signature is the whole "-----BEGIN SSH SIGNATURE-----" block that `maint` or `ssh-keygen -Y sign` prints',
  });

/** The signature fields of a start's input (the CLI adds them on protected environments). */
export const signedStartFields = {
  /** When it was signed (ISO 8601); the signature is valid for 15 minutes from then. */
  signedAt: z.string().datetime({ offset: true, message: 'signedAt is an ISO 8601 time' }).optional(),
  signature: signatureSchema.optional(),
};

/** The signature fields of an answer: `seq` is the number of answers the operation had taken before it. */
export const signedAnswerFields = {
  seq: z.number().int().min(0).optional(),
  signature: signatureSchema.optional(),
};

const withoutSignature = (raw: unknown): unknown => {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const rest: Record<string, unknown> = { ...raw };
  delete rest.signature;
  return rest;
};

/** What the requester signs to start an operation: the whole input (with signedAt), for one workflow ID. */
export function startMessage(s: {
  namespace: string;
  workflowId: string;
  workflowType: string;
  input: unknown;
}): string {
  return `${SIGNATURE_NAMESPACE} start v1\n${canonicalJson({ ...s, input: withoutSignature(s.input) })}`;
}

/** What a person signs to answer one run (its first run ID) of an operation: the answer and its whole input. */
export function answerMessage(a: {
  namespace: string;
  workflowId: string;
  /** The first run ID: a continue-as-new or a Reset keeps it. */
  runId: string;
  answer: string;
  payload: unknown;
}): string {
  return `${SIGNATURE_NAMESPACE} answer v1\n${canonicalJson({ ...a, payload: withoutSignature(a.payload) })}`;
}
