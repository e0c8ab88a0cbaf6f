import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprintOf, parsePublicKeyLine, parseSignature, verifySignature } from '../../contract/sshsig';

/** Keys and signatures made by OpenSSH itself, so the verifier is checked against the real format. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sshsig-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, ...args: string[]): { private: string; pub: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', `${name}@test`, '-f', file]);
  return { private: file, pub: fs.readFileSync(`${file}.pub`, 'utf8') };
}

function sign(keyFile: string, message: string, namespace = 'maintenance-orchestrator'): string {
  return execFileSync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', keyFile], {
    input: message,
    stdio: ['pipe', 'pipe', 'ignore'],
  }).toString();
}

const NS = 'maintenance-orchestrator';
const KEYS = [
  ['ed25519', ['-t', 'ed25519']],
  ['ecdsa-256', ['-t', 'ecdsa', '-b', '256']],
  ['ecdsa-384', ['-t', 'ecdsa', '-b', '384']],
  ['ecdsa-521', ['-t', 'ecdsa', '-b', '521']],
  ['rsa-2048', ['-t', 'rsa', '-b', '2048']],
] as const;

describe('SSH signatures (ssh-keygen -Y sign) verified in pure code', () => {
  it.each(KEYS)(
    '%s: a signature by ssh-keygen verifies, and names the key with the fingerprint ssh-keygen prints',
    (name, args) => {
      const key = keygen(name, ...args);
      const message = `{"decision":"approve","by":"bob","reason":"CAB-42 ✓"}`;
      const signer = verifySignature(sign(key.private, message), message, NS);
      const printed = execFileSync('ssh-keygen', ['-l', '-f', `${key.private}.pub`])
        .toString()
        .split(' ')[1];
      expect(signer.fingerprint).toBe(printed);
      expect(parsePublicKeyLine(key.pub).fingerprint).toBe(printed);
    },
  );

  it.each(KEYS)('%s: another message, another namespace or a flipped bit is refused', (name, args) => {
    const key = keygen(`${name}-b`, ...args);
    const sig = sign(key.private, 'approve run A');
    expect(() => verifySignature(sig, 'approve run B', NS)).toThrow('does not match');
    expect(() => verifySignature(sign(key.private, 'approve run A', 'file'), 'approve run A', NS)).toThrow(
      'signed for namespace "file"',
    );
    const blob = Buffer.from(sig.replace(/-----[A-Z ]+-----/g, ''), 'base64');
    blob[blob.length - 5] ^= 1;
    const flipped = `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64')}\n-----END SSH SIGNATURE-----`;
    expect(() => verifySignature(flipped, 'approve run A', NS)).toThrow();
  });

  it('refuses what is not a signature, with a message that says so', () => {
    expect(() => verifySignature('{"by":"bob"}', 'x', NS)).toThrow('not an SSH signature');
    expect(() =>
      verifySignature('-----BEGIN SSH SIGNATURE-----\n%%%\n-----END SSH SIGNATURE-----', 'x', NS),
    ).toThrow('not base64');
    expect(() => parsePublicKeyLine('ssh-dss AAAAB3NzaC1kc3M= old')).toThrow();
    expect(() => parsePublicKeyLine('ssh-ed25519')).toThrow('as in a .pub file');
  });

  it('refuses a public key line whose type and blob disagree', () => {
    const { pub } = keygen('mismatch', '-t', 'ed25519');
    expect(() => parsePublicKeyLine(pub.replace('ssh-ed25519', 'ssh-rsa'))).toThrow(
      'holds a ssh-ed25519 key',
    );
  });

  describe('hardware-token keys (sk-ssh-ed25519@openssh.com), signed here as a FIDO token would', () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const str = (b: Buffer | string) => {
      const buf = Buffer.from(b);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(buf.length);
      return Buffer.concat([len, buf]);
    };
    const type = 'sk-ssh-ed25519@openssh.com';
    const blob = Buffer.concat([str(type), str(raw), str('ssh:')]);
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest();

    function skSignature(message: string, flags: number): string {
      const signed = Buffer.concat([
        Buffer.from('SSHSIG'),
        str(NS),
        str(''),
        str('sha512'),
        str(crypto.createHash('sha512').update(message).digest()),
      ]);
      const counter = Buffer.from([0, 0, 0, 7]);
      const token = Buffer.concat([sha(Buffer.from('ssh:')), Buffer.from([flags]), counter, sha(signed)]);
      const sig = crypto.sign(null, token, privateKey);
      const sigBlob = Buffer.concat([str(type), str(sig), Buffer.from([flags]), counter]);
      const version = Buffer.from([0, 0, 0, 1]);
      const whole = Buffer.concat([
        Buffer.from('SSHSIG'),
        version,
        str(blob),
        str(NS),
        str(''),
        str('sha512'),
        str(sigBlob),
      ]);
      return `-----BEGIN SSH SIGNATURE-----\n${whole.toString('base64')}\n-----END SSH SIGNATURE-----\n`;
    }

    it('verifies a touched token’s signature', () => {
      const signer = verifySignature(skSignature('approve', 0x01), 'approve', NS);
      expect(signer).toMatchObject({ type, fingerprint: fingerprintOf(blob) });
      expect(parsePublicKeyLine(`${type} ${blob.toString('base64')} bob@yubikey`).fingerprint).toBe(
        signer.fingerprint,
      );
    });

    it('refuses a signature made without user presence, and one over another message', () => {
      expect(() => verifySignature(skSignature('approve', 0x00), 'approve', NS)).toThrow(
        'without user presence',
      );
      expect(() => verifySignature(skSignature('approve', 0x01), 'reject', NS)).toThrow('does not match');
    });
  });

  it('reads the parts of a signature', () => {
    const key = keygen('parts', '-t', 'ed25519');
    const sig = parseSignature(sign(key.private, 'x'));
    expect(sig).toMatchObject({ namespace: NS, hashAlgorithm: 'sha512', key: { type: 'ssh-ed25519' } });
  });
});
