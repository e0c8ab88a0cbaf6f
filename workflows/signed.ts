import { workflowInfo } from '@temporalio/workflow';
import type { SignerKey } from '../contract/approval';
import {
  CLOCK_SKEW_MS,
  SIGNATURE_NAMESPACE,
  START_SIGNATURE_VALIDITY_MS,
  answerMessage,
  samePerson,
  startMessage,
} from '../contract/signing';
import { verifySignature } from '../contract/sshsig';

/** Who signed, as temporal.yaml's `people` names them. */
export interface Signer {
  person: string;
  fingerprint: string;
}

/** The registered owner of the key that made `signature` over `message`, or why there is none. */
export function signerOf(
  signature: string,
  message: string,
  keys: SignerKey[],
  what: string,
): Signer | string {
  let fingerprint: string;
  try {
    fingerprint = verifySignature(signature, message, SIGNATURE_NAMESPACE).fingerprint;
  } catch (err) {
    return `the signature does not verify for ${what} (${(err as Error).message}): it was made for another operation, run or answer, or the input changed after signing`;
  }
  const key = keys.find((k) => k.fingerprint === fingerprint);
  if (!key)
    return `the key ${fingerprint} is not registered: add its .pub line under people: in the worker's temporal.yaml`;
  return { person: key.person, fingerprint };
}

/**
 * Who signed an answer (approve, resume, endWindow, ...) to this run, or why it is refused. The
 * signature must cover this namespace, workflow and first run, the answer and its whole input, and
 * `seq`: the number of answers the operation has taken, so that an answer signed once is not sent
 * again later. `by` must be the key's owner.
 */
export function answerSigner(
  answer: string,
  payload: unknown,
  { keys, answers, unsignedHint }: { keys: SignerKey[]; answers: number; unsignedHint: string },
): Signer | string {
  const p = payload as { by?: string; seq?: number; signature?: string };
  if (!p.signature) return `it is not signed: ${unsignedHint}`;
  if (p.seq !== answers)
    return `it was signed as answer #${p.seq ?? '(none)'}, and this operation is at answer #${answers}: sign it again`;
  const info = workflowInfo();
  const message = answerMessage({
    namespace: info.namespace,
    workflowId: info.workflowId,
    runId: info.firstExecutionRunId,
    answer,
    payload,
  });
  const signer = signerOf(
    p.signature,
    message,
    keys,
    `${answer} to ${info.workflowId} (run ${info.firstExecutionRunId})`,
  );
  if (typeof signer === 'string') return signer;
  if (!samePerson(p.by ?? '', signer.person))
    return `it is signed with ${signer.person}'s key (${signer.fingerprint}) but says "by": "${p.by}"`;
  return signer;
}

/**
 * Who signed this workflow's start, or why it is refused: the requester's signature over the whole
 * input for this workflow ID and type, made at most 15 minutes before the workflow started.
 */
export function startSigner(raw: unknown, workflowType: string, keys: SignerKey[]): Signer | string {
  const input = raw as { requestedBy?: string; signature?: string; signedAt?: string };
  if (!input.signature || !input.signedAt) return 'its start is not signed';
  const info = workflowInfo();
  const age = info.startTime.getTime() - Date.parse(input.signedAt);
  if (age > START_SIGNATURE_VALIDITY_MS || age < -CLOCK_SKEW_MS)
    return `its start was signed at ${input.signedAt}, not within 15 minutes before it started (${info.startTime.toISOString()}): sign it again`;
  const message = startMessage({
    namespace: info.namespace,
    workflowId: info.workflowId,
    workflowType,
    input: raw,
  });
  const signer = signerOf(input.signature, message, keys, `the start of ${info.workflowId}`);
  if (typeof signer === 'string') return signer;
  if (!samePerson(input.requestedBy ?? '', signer.person))
    return `its start is signed with ${signer.person}'s key (${signer.fingerprint}) but says "requestedBy": "${input.requestedBy}"`;
  return signer;
}
