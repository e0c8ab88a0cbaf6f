import type { z } from 'zod';
import { describeIssues } from './schemas';

/** Parses `--some-flag value` pairs into `{ someFlag: 'value' }` and validates them with `schema`. */
export function parseArgv<T extends z.ZodTypeAny>(schema: T, argv: string[]): z.infer<T> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!flag.startsWith('--') || value === undefined || value.startsWith('--')) {
      throw new Error(`expected "--flag value" pairs, got "${[flag, value].filter(Boolean).join(' ')}"`);
    }
    flags[flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  const parsed = schema.safeParse(flags);
  if (!parsed.success) {
    throw new Error(`invalid arguments: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}
