import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A person of the tests, with an SSH key of their own made by ssh-keygen. */
export interface TestPerson {
  name: string;
  /** The private key file (its public half is `<key>.pub`), as `--key` takes it. */
  key: string;
  /** The `.pub` line, as temporal.yaml's `people` takes it. */
  pub: string;
}

/** The people of a test file: alice requests, bob and carol approve, mallory is registered but approves nothing. */
export const PEOPLE = ['alice', 'bob', 'carol', 'mallory'] as const;
export type PersonName = (typeof PEOPLE)[number] | 'stranger';

/**
 * Makes an ed25519 key for each person (and for `stranger`, whom temporal.yaml does not know) in a
 * temporary folder; `people` is the `people:` of temporal.yaml, `approvers` the protected
 * environment's.
 */
export function testPeople(): {
  person(name: PersonName): TestPerson;
  people: Record<string, string>;
  approvers: string[];
  remove(): void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maint-keys-'));
  const all = Object.fromEntries(
    [...PEOPLE, 'stranger'].map((name) => {
      const key = path.join(dir, name);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', key]);
      return [name, { name, key, pub: fs.readFileSync(`${key}.pub`, 'utf8').trim() }];
    }),
  ) as Record<PersonName, TestPerson>;
  return {
    person: (name) => all[name],
    people: Object.fromEntries(PEOPLE.map((n) => [n, all[n].pub])),
    approvers: ['bob', 'carol'],
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
