import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { LoadedConfig } from '../config/load';
import { keyLinesOf } from '../config/schema';
import { SIGNATURE_NAMESPACE, answerMessage, samePerson, startMessage } from '../contract/signing';
import { parsePublicKeyLine, verifySignature } from '../contract/sshsig';
import { ExitCode, OperatorError } from './operations';

/** The key a person signs with, and whose it is by temporal.yaml's `people`. */
export interface SigningKey {
  /** The private key file, or a `.pub` file whose private half ssh-agent (or a security key) holds. */
  file: string;
  person: string;
  fingerprint: string;
}

const invalid = (message: string) => new OperatorError(message, ExitCode.InvalidInput);

const expandHome = (file: string) =>
  file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : path.resolve(file);

/**
 * The signing key: `--key`, else MAINTENANCE_SIGNING_KEY, else `signing.key` in temporal.yaml, else
 * ~/.ssh/id_ed25519. Its public half (`<key>.pub`) says whose it is.
 */
export function signingKey(config: LoadedConfig, option?: string, env = process.env): SigningKey {
  const file = expandHome(option ?? env.MAINTENANCE_SIGNING_KEY ?? config.signing.key ?? '~/.ssh/id_ed25519');
  const pub = file.endsWith('.pub') ? file : `${file}.pub`;
  let fingerprint: string;
  try {
    fingerprint = parsePublicKeyLine(fs.readFileSync(pub, 'utf8')).fingerprint;
  } catch (err) {
    throw invalid(
      `Cannot read the public key ${pub} of your signing key (${(err as Error).message}). ` +
        'Name your key with --key ~/.ssh/<key> or MAINTENANCE_SIGNING_KEY; its .pub file must be beside it.',
    );
  }
  const person = Object.entries(config.people).find(([, entry]) =>
    keyLinesOf(entry).some((line) => parsePublicKeyLine(line).fingerprint === fingerprint),
  )?.[0];
  if (!person)
    throw invalid(
      `Your key ${pub} (${fingerprint}) is not registered in ${config.file}: add its line under people: (e.g. ` +
        `people: { your.name: "${fs.readFileSync(pub, 'utf8').trim().slice(0, 40)}…" }) and restart the workers.`,
    );
  return { file, person, fingerprint };
}

/** An SSH signature of `message` by `key`, made by `ssh-keygen -Y sign` (so ssh-agent and security keys work too). */
export function sign(key: SigningKey, message: string): string {
  let signature: string;
  try {
    signature = execFileSync('ssh-keygen', ['-Y', 'sign', '-n', SIGNATURE_NAMESPACE, '-f', key.file], {
      input: message,
      stdio: ['pipe', 'pipe', 'pipe'],
    }).toString();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT')
      throw invalid(
        'ssh-keygen was not found: signing needs OpenSSH 8.1 or later (the openssh-client package).',
      );
    throw invalid(`ssh-keygen could not sign with ${key.file}: ${e.stderr?.toString().trim() || e.message}`);
  }
  // A key file whose .pub does not match it would make a signature the workflow refuses: say so here.
  if (verifySignature(signature, message, SIGNATURE_NAMESPACE).fingerprint !== key.fingerprint)
    throw invalid(`${key.file} signed with another key than its .pub file names (${key.fingerprint}).`);
  return signature;
}

/**
 * Who a signed start or answer is by: the key's owner. A `--requested-by` or `--by` (`option`) naming
 * someone else is refused (the workflow would refuse it too); left at its default (your user name), it
 * becomes the key's owner.
 */
export function signer(
  key: SigningKey,
  name: string,
  { typed, option }: { typed: boolean; option: string },
): string {
  if (typed && !samePerson(name, key.person))
    throw invalid(
      `${option} says ${name}, but your signing key is ${key.person}'s: what is signed is the key owner's.`,
    );
  return key.person;
}

/**
 * A start's input signed for one workflow ID and type: valid for 15 minutes from `at` (now; a test on
 * the time-skipping server passes the server's time, which runs ahead of the clock).
 */
export function signedStart<T extends object>(
  config: LoadedConfig,
  key: SigningKey,
  target: { workflowId: string; workflowType: string },
  input: T,
  at = new Date(),
): T & { signedAt: string; signature: string } {
  const timed = { ...input, signedAt: at.toISOString() };
  const message = startMessage({ namespace: config.temporal.namespace, ...target, input: timed });
  return { ...timed, signature: sign(key, message) };
}

/**
 * An answer (approve, resume, endWindow, ...) signed for this run of the operation and for its next
 * answer number (`by` should be the key's owner: see `signer`).
 */
export async function signedAnswer<T extends { by: string }>(
  config: LoadedConfig,
  key: SigningKey,
  handle: WorkflowHandle,
  answer: string,
  { payload, answers }: { payload: T; answers: number },
): Promise<T & { seq: number; signature: string }> {
  const description = await handle.describe();
  const runId = description.raw.workflowExecutionInfo?.firstRunId ?? description.runId;
  const body = { ...payload, seq: answers };
  const message = answerMessage({
    namespace: config.temporal.namespace,
    workflowId: handle.workflowId,
    runId,
    answer,
    payload: body,
  });
  return { ...body, signature: sign(key, message) };
}
