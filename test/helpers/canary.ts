import crypto from 'node:crypto';

/**
 * A secret whose every form differs: with a quote and a backslash (so its JSON-escaped form is not its
 * raw form) and with both + and / in its base64 (so the URL-safe form differs from the standard one).
 * Random, so that finding it anywhere can only mean it leaked.
 */
export function canaryValue(): string {
  for (let tries = 0; tries < 1000; tries++) {
    // '>' and '?' (0x3e, 0x3f) as a group's third byte end its base64 in '+' and '/'.
    const random = [...crypto.randomBytes(24)].map((b) => '0123456789abcdef?>'[b % 18]).join('');
    const value = `c"an\\ary-${random}`;
    const base64 = Buffer.from(value).toString('base64');
    if (base64.includes('+') && base64.includes('/')) return value;
  }
  throw new Error('no canary with both + and / in its base64 after 1000 tries');
}

/** The forms in which a secret must never show: raw, JSON-escaped, base64 and URL-safe base64. */
export function canaryForms(value: string): Record<string, string> {
  return {
    raw: value,
    'JSON-escaped': JSON.stringify(value).slice(1, -1),
    base64: Buffer.from(value).toString('base64').replace(/=+$/, ''),
    'URL-safe base64': Buffer.from(value).toString('base64url'),
  };
}
