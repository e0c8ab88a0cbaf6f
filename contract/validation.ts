import type { z } from 'zod';

/** One line per problem, each naming the field path: "  - topology.batch: Expected number, received string". */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `  - ${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('\n');
}
