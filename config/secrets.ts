import { variableTexts } from '../drivers/command/settings';
import { hookRunnerSettings } from './hooks';
import { sinkTexts } from './events';
import { envReference, referencedNames } from './env-reference';
import type { LoadedConfig } from './load';

/** A secret the worker holds: the variable it comes from (shown as `${env:NAME}` in its place) and its value. */
export interface Secret {
  name: string;
  value: string;
}

/** A shorter secret is masked too, wherever its characters appear: the worker warns at start. */
export const MIN_SECRET_LENGTH = 8;

const urlSafe = (base64: string) => base64.replace(/\+/g, '-').replace(/\//g, '_');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The forms in which a value shows in text: as it is, JSON-escaped (inside a JSON string), and in
 * base64, standard and URL-safe: whole, and (for a value of MIN_SECRET_LENGTH bytes or more) the
 * characters that encode it inside longer base64 text, such as `user:password` in a Basic
 * authorization header, at each of the three byte alignments it can have there.
 */
export function formsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const base64 = [bytes.toString('base64').replace(/=+$/, '')];
  if (bytes.length >= MIN_SECRET_LENGTH)
    for (const before of [0, 1, 2]) {
      const encoded = Buffer.concat([Buffer.alloc(before), bytes]).toString('base64');
      // The characters whose 6 bits all come from the value's bytes.
      base64.push(encoded.slice(Math.ceil((8 * before) / 6), Math.floor((8 * (before + bytes.length)) / 6)));
    }
  return [...new Set([value, JSON.stringify(value).slice(1, -1), ...base64, ...base64.map(urlSafe)])];
}

/**
 * Every secret the worker holds, and the one way to mask them: each form of each value (formsOf)
 * becomes `${env:NAME}`, in text, in parsed values (strings and keys, never text before it is
 * parsed), in errors (message, stack, details, cause) and in output cut at a byte limit.
 */
export class Secrets {
  /** Every form of every secret, longest first, so that a secret containing another is masked whole. */
  private readonly pattern: RegExp | undefined;
  private readonly nameOf = new Map<string, string>();

  constructor(readonly held: Secret[]) {
    for (const { name, value } of held) for (const form of formsOf(value)) this.nameOf.set(form, name);
    const forms = [...this.nameOf.keys()].sort((a, b) => b.length - a.length);
    this.pattern = forms.length > 0 ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  /** Secrets too short to mask without garbling other text, said for the worker's log at start. */
  warnings(): string[] {
    return this.held
      .filter((s) => s.value.length < MIN_SECRET_LENGTH)
      .map(
        (s) =>
          `The secret ${envReference(s.name)} is only ${s.value.length} character${s.value.length === 1 ? '' : 's'} long: ` +
          `it is masked wherever those characters appear (AOS names, numbers, other text), which garbles what ` +
          `the worker reports. Use a secret of at least ${MIN_SECRET_LENGTH} characters.`,
      );
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, (form) => envReference(this.nameOf.get(form)!)) : text;
  }

  /**
   * `value` with every string in it masked (object keys too): arrays and plain objects are copied,
   * errors are masked in place (so that they keep their class), anything else is returned as it is.
   */
  maskValue<T>(value: T, seen = new WeakSet<object>()): T {
    if (typeof value === 'string') return this.mask(value) as T;
    if (!this.pattern || typeof value !== 'object' || value === null || seen.has(value)) return value;
    seen.add(value);
    if (value instanceof Error) return this.maskError(value, seen);
    if (Array.isArray(value)) return value.map((v: unknown) => this.maskValue(v, seen)) as T;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [this.mask(k), this.maskValue(v, seen)]),
    ) as T;
  }

  private maskError<E extends Error>(err: E, seen: WeakSet<object>): E {
    for (const key of Object.getOwnPropertyNames(err)) {
      const property = Object.getOwnPropertyDescriptor(err, key);
      if (!property?.writable) continue;
      const masked: unknown = this.maskValue(property.value, seen);
      if (masked !== property.value) (err as Record<string, unknown>)[key] = masked;
    }
    return err;
  }

  /**
   * Output cut at a byte limit may end in the first bytes of a secret, which `mask` cannot recognise:
   * those bytes become the secret's placeholder.
   */
  maskCut(bytes: Buffer): Buffer {
    let cut: { name: string; n: number } | undefined;
    for (const [form, name] of this.nameOf) {
      const b = Buffer.from(form);
      for (let n = Math.min(b.length - 1, bytes.length); n > (cut?.n ?? 0); n--)
        if (bytes.subarray(bytes.length - n).equals(b.subarray(0, n))) cut = { name, n };
    }
    return cut
      ? Buffer.concat([bytes.subarray(0, bytes.length - cut.n), Buffer.from(envReference(cut.name))])
      : bytes;
  }
}

/** The secrets that `texts` reference and `env` holds, each once. */
export function secretsOf(texts: string[], env: NodeJS.ProcessEnv, extra: Secret[] = []): Secrets {
  const names = [...new Set(texts.flatMap(referencedNames))];
  const referenced = names.flatMap((name) => {
    const value = env[name];
    return value ? [{ name, value }] : [];
  });
  return new Secrets([...referenced, ...extra.filter((s) => s.value)]);
}

/**
 * Every secret the worker holds: the `${env:NAME}` variables of every command driver, of hooks and every event
 * sink in the configuration, and the Temporal API key.
 */
export function workerSecrets(config: LoadedConfig, env: NodeJS.ProcessEnv): Secrets {
  const drivers = Object.values(config.environments).flatMap((e) => [e, ...Object.values(e.capabilities)]);
  const texts = [
    ...drivers.flatMap((d) => (d?.driver === 'command' ? variableTexts(d) : [])),
    ...Object.values(config.environments).flatMap((e) =>
      e.hooks ? variableTexts(hookRunnerSettings(e.hooks)) : [],
    ),
    ...config.events.sinks.flatMap(sinkTexts),
  ];
  const apiKeys = [...new Set([config.apiKey, env.TEMPORAL_API_KEY])].flatMap((value) =>
    value ? [{ name: 'TEMPORAL_API_KEY', value }] : [],
  );
  return secretsOf(texts, env, apiKeys);
}
