/**
 * SSH signatures as `ssh-keygen -Y sign` makes them (the SSHSIG format of OpenSSH's PROTOCOL.sshsig),
 * verified in pure code: no I/O, no Node APIs, deterministic, so workflow code can verify an approval
 * itself. Keys: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (signatures rsa-sha2-256/512, never
 * SHA-1), and the hardware-token kinds sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { p256, p384, p521 } from '@noble/curves/nist';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2';

const MAGIC = 'SSHSIG';
const ARMOR = /^-----BEGIN SSH SIGNATURE-----([\s\S]*?)-----END SSH SIGNATURE-----\s*$/;

export class SshFormatError extends Error {
  override name = 'SshFormatError';
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const latin = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (white space ignored); throws on anything else. */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) throw new SshFormatError('not base64');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let i = 0;
  for (const c of clean) {
    value = (value << 6) | B64.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[i++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((s) => B64[(n >> s) & 63]);
    out += chars.slice(0, Math.min(4, bytes.length - i + 1)).join('');
  }
  return out;
}

/** Reads the SSH wire encoding (RFC 4251): uint32, string, mpint. */
class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  uint32(): number {
    if (this.at + 4 > this.bytes.length) throw new SshFormatError('truncated');
    const b = this.bytes;
    const n = ((b[this.at] << 24) | (b[this.at + 1] << 16) | (b[this.at + 2] << 8) | b[this.at + 3]) >>> 0;
    this.at += 4;
    return n;
  }

  byte(): number {
    if (this.at >= this.bytes.length) throw new SshFormatError('truncated');
    return this.bytes[this.at++];
  }

  raw(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new SshFormatError('truncated');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  string(): Uint8Array {
    return this.raw(this.uint32());
  }

  text(): string {
    return new TextDecoder().decode(this.string());
  }

  mpint(): bigint {
    const b = this.string();
    return b.length === 0 ? 0n : BigInt(`0x${hex(b)}`);
  }

  get done(): boolean {
    return this.at === this.bytes.length;
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

export const KEY_TYPES = [
  'ssh-ed25519',
  'sk-ssh-ed25519@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-rsa',
] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** A public key as the `.pub` line gives it. */
export interface PublicKey {
  type: KeyType;
  /** The key's wire encoding, as in the `.pub` line and in a signature. */
  blob: Uint8Array;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** `SHA256:` and the unpadded base64 of the blob's SHA-256, as OpenSSH prints fingerprints. */
export function fingerprintOf(blob: Uint8Array): string {
  return `SHA256:${toBase64(sha256(blob)).replace(/=+$/, '')}`;
}

/** The key of a blob (the `.pub` line's base64, or the key inside a signature). */
export function keyFromBlob(blob: Uint8Array): PublicKey {
  const type = new Reader(blob).text();
  if (!(KEY_TYPES as readonly string[]).includes(type))
    throw new SshFormatError(`key type ${type} is not supported (use ed25519, ecdsa or rsa)`);
  decodeKey(type as KeyType, blob); // checks the rest of the encoding
  return { type: type as KeyType, blob, fingerprint: fingerprintOf(blob) };
}

/** `ssh-ed25519 AAAAC3… bob@laptop`: the line of a `~/.ssh/*.pub` file (options before it are not allowed). */
export function parsePublicKeyLine(line: string): PublicKey {
  const [type, data] = line.trim().split(/\s+/);
  if (!type || !data) throw new SshFormatError('expected "<type> <base64> [comment]", as in a .pub file');
  let blob: Uint8Array;
  try {
    blob = fromBase64(data);
  } catch {
    throw new SshFormatError('its second word is not base64');
  }
  const key = keyFromBlob(blob);
  if (key.type !== type) throw new SshFormatError(`it says ${type} but holds a ${key.type} key`);
  return key;
}

interface DecodedKey {
  verify(signed: Uint8Array, signature: Reader, format: string): boolean;
}

const ECDSA = {
  nistp256: { curve: p256, hash: sha256 },
  nistp384: { curve: p384, hash: sha384 },
  nistp521: { curve: p521, hash: sha512 },
} as const;

/** ECDSA over `hash(data)`; the signature blob holds mpint r and s. */
function ecdsaVerify(name: keyof typeof ECDSA, point: Uint8Array, data: Uint8Array, sig: Uint8Array) {
  const { curve, hash } = ECDSA[name];
  const rs = new Reader(sig);
  const r = rs.mpint();
  const s = rs.mpint();
  if (r <= 0n || s <= 0n) return false;
  const compact = new curve.Signature(r, s).toBytes('compact');
  return curve.verify(compact, hash(data), point, { prehash: false, lowS: false, format: 'compact' });
}

/** What a hardware-token (FIDO) key signs: the application's and the data's hashes, its flags and counter. */
function skSigned(application: Uint8Array, data: Uint8Array, sig: Reader): Uint8Array {
  const flags = sig.byte();
  const counter = sig.raw(4);
  // User presence (0x01) must have been asserted: a token that was not touched signs nothing.
  if ((flags & 0x01) === 0) throw new SshFormatError('the security key signed without user presence');
  return concat(sha256(application), Uint8Array.of(flags), counter, sha256(data));
}

const RSA_DIGEST_INFO = {
  'rsa-sha2-256': { hash: sha256, prefix: '3031300d060960864801650304020105000420' },
  'rsa-sha2-512': { hash: sha512, prefix: '3051300d060960864801650304020305000440' },
} as const;

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
  }
  return result;
}

/** RSASSA-PKCS1-v1_5 (RFC 8017 8.2.2): the encoded message is compared whole, never parsed. */
function rsaVerify(e: bigint, n: bigint, format: string, data: Uint8Array, sig: Uint8Array): boolean {
  const spec = RSA_DIGEST_INFO[format as keyof typeof RSA_DIGEST_INFO];
  if (!spec) throw new SshFormatError(`RSA signatures must be rsa-sha2-256 or rsa-sha2-512, not ${format}`);
  const size = Math.ceil(n.toString(16).length / 2);
  if (size < 256) throw new SshFormatError('RSA keys shorter than 2048 bits are not accepted');
  const s = BigInt(`0x${hex(sig) || '0'}`);
  if (sig.length !== size || s >= n) return false;
  const em = modPow(s, e, n)
    .toString(16)
    .padStart(size * 2, '0');
  const t = spec.prefix + hex(spec.hash(data));
  return em === `0001${'ff'.repeat(size - 3 - t.length / 2)}00${t}`;
}

function decodeKey(type: KeyType, blob: Uint8Array): DecodedKey {
  const r = new Reader(blob);
  r.text();
  switch (type) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      const pk = r.string();
      const application = type === 'ssh-ed25519' ? undefined : r.string();
      if (pk.length !== 32 || !r.done) throw new SshFormatError('malformed ed25519 key');
      return {
        verify: (signed, sig, format) => {
          if (format !== type) return false;
          const bytes = sig.string();
          const message = application ? skSigned(application, signed, sig) : signed;
          return ed25519.verify(bytes, message, pk);
        },
      };
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
    case 'sk-ecdsa-sha2-nistp256@openssh.com': {
      const curve = r.text();
      const point = r.string();
      const application = type.startsWith('sk-') ? r.string() : undefined;
      if (!(curve in ECDSA) || !type.includes(curve) || !r.done)
        throw new SshFormatError('malformed ECDSA key');
      return {
        verify: (signed, sig, format) => {
          if (format !== type) return false;
          const bytes = sig.string();
          const message = application ? skSigned(application, signed, sig) : signed;
          return ecdsaVerify(curve as keyof typeof ECDSA, point, message, bytes);
        },
      };
    }
    case 'ssh-rsa': {
      const e = r.mpint();
      const n = r.mpint();
      if (!r.done || n <= 0n) throw new SshFormatError('malformed RSA key');
      return { verify: (signed, sig, format) => rsaVerify(e, n, format, signed, sig.string()) };
    }
  }
}

const MESSAGE_HASHES = { sha256, sha512 } as const;

/** The parts of an armored SSH signature. */
export interface SshSignature {
  key: PublicKey;
  namespace: string;
  hashAlgorithm: keyof typeof MESSAGE_HASHES;
  signature: Uint8Array;
}

/** `-----BEGIN SSH SIGNATURE-----` … `-----END SSH SIGNATURE-----`, as `ssh-keygen -Y sign` prints it. */
export function parseSignature(armored: string): SshSignature {
  const body = ARMOR.exec(armored.trim())?.[1];
  if (body === undefined)
    throw new SshFormatError(
      'not an SSH signature: it must be the whole "-----BEGIN SSH SIGNATURE-----" block',
    );
  const r = new Reader(fromBase64(body));
  if (latin(r.raw(6)) !== MAGIC) throw new SshFormatError('not an SSHSIG blob');
  const version = r.uint32();
  if (version !== 1) throw new SshFormatError(`SSHSIG version ${version} is not supported`);
  const key = keyFromBlob(r.string());
  const namespace = r.text();
  r.string(); // reserved
  const hashAlgorithm = r.text();
  if (!(hashAlgorithm in MESSAGE_HASHES))
    throw new SshFormatError(`hash algorithm ${hashAlgorithm} is not supported`);
  const signature = r.string();
  if (!r.done) throw new SshFormatError('trailing bytes after the signature');
  return { key, namespace, hashAlgorithm: hashAlgorithm as SshSignature['hashAlgorithm'], signature };
}

/**
 * Whether `sig` is a valid signature of `message` in `namespace` by the key inside it; that key is
 * returned, to be looked up (by fingerprint) among the keys the caller trusts.
 */
export function verifySignature(armored: string, message: string, namespace: string): PublicKey {
  const sig = parseSignature(armored);
  if (sig.namespace !== namespace)
    throw new SshFormatError(`signed for namespace "${sig.namespace}", not "${namespace}"`);
  const signed = concat(
    utf8(MAGIC),
    sshString(utf8(namespace)),
    sshString(new Uint8Array(0)),
    sshString(utf8(sig.hashAlgorithm)),
    sshString(MESSAGE_HASHES[sig.hashAlgorithm](utf8(message))),
  );
  const r = new Reader(sig.signature);
  const format = r.text();
  let valid: boolean;
  try {
    valid = decodeKey(sig.key.type, sig.key.blob).verify(signed, r, format);
  } catch (err) {
    if (err instanceof SshFormatError) throw err;
    valid = false; // a malformed point or scalar is just an invalid signature
  }
  if (!valid) throw new SshFormatError('the signature does not match what was signed');
  return sig.key;
}
