import type { Duration } from '@temporalio/common';
import { z } from 'zod';

/** A duration in Temporal's `ms` format ("30s", "2m", "7d", "1 hour") or milliseconds. */
const DURATION_HINT = 'expected a duration such as "500ms", "30s", "2m", "1h" or "7d"';
export const duration = z.union(
  [
    z.number().int().positive(),
    z
      .string()
      .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/i)
      .transform((v) => v as Duration),
  ],
  { errorMap: () => ({ message: DURATION_HINT }) },
);
