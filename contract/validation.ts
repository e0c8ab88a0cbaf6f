import type { z } from 'zod';

/** One line per problem, each naming the field path: "  - topology.batch: Expected number, received string". */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `  - ${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('\n');
}

/**
 * A pattern check for `.refine()`, used instead of zod's `.regex()`: workflow runs share the
 * contract's schemas frozen (workflows/shared.ts), and `.regex()` writes its RegExp's `lastIndex`
 * at every parse, which a frozen RegExp refuses.
 */
export const matches =
  (pattern: RegExp) =>
  (text: string): boolean =>
    pattern.test(text);
