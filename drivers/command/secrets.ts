import { ENV_REFERENCE, envReference, referencedNames } from '../../config/env-reference';
import type { CommandSettings, CommandSpec } from './settings';

/** The texts of a command that may hold references: its program and arguments (or line) and its variables. */
function texts(spec: CommandSpec): string[] {
  return [...('argv' in spec ? spec.argv : [spec.shell]), ...Object.values(spec.env ?? {})];
}

/**
 * The secrets of an environment's command settings: substituted into a command when it runs, and
 * masked back to `${env:NAME}` in whatever the driver shows (output, errors, logs, the operation log).
 * Every secret the settings reference is masked in every command's output, not only its own command's.
 */
export class Secrets {
  /** Longest first, so that a secret containing another is masked whole. */
  private readonly known: { name: string; value: string; bytes: Buffer }[];

  /** The variables every command gets, which may reference secrets too. */
  private readonly shared: string[];

  constructor(
    settings: CommandSettings,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.shared = Object.values(settings.env);
    const all = [...this.shared, ...Object.values(settings.commands).flatMap((c) => texts(c))];
    const names = new Set(all.flatMap(referencedNames));
    this.known = [...names]
      .flatMap((name) => {
        const value = env[name];
        return value ? [{ name, value, bytes: Buffer.from(value) }] : [];
      })
      .sort((a, b) => b.value.length - a.value.length);
  }

  /** The variables a command's texts reference that the worker's environment lacks. */
  missing(spec: CommandSpec): string[] {
    const names = [...texts(spec), ...this.shared].flatMap(referencedNames);
    return [...new Set(names.filter((n) => this.env[n] === undefined))];
  }

  /** `text` with its references replaced by their values (call `missing` first). */
  substitute(text: string): string {
    return text.replace(ENV_REFERENCE, (_, name: string) => this.env[name] ?? '');
  }

  mask(text: string): string {
    return this.known.reduce((t, s) => t.split(s.value).join(envReference(s.name)), text);
  }

  /**
   * Output cut at a byte limit may end in the first bytes of a secret, which `mask` cannot recognise:
   * those bytes are replaced by the secret's placeholder.
   */
  maskCut(bytes: Buffer): Buffer {
    let cut: { name: string; n: number } | undefined;
    for (const s of this.known)
      for (let n = Math.min(s.bytes.length - 1, bytes.length); n > (cut?.n ?? 0); n--)
        if (bytes.subarray(bytes.length - n).equals(s.bytes.subarray(0, n))) cut = { name: s.name, n };
    return cut
      ? Buffer.concat([bytes.subarray(0, bytes.length - cut.n), Buffer.from(envReference(cut.name))])
      : bytes;
  }
}
