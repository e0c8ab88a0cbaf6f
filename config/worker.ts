import { z } from 'zod';

/** The least budget a worker runs in: its code, the workflow bundle and the SDK's core take about 300 MiB. */
export const MINIMUM_MEMORY_BUDGET_MIB = 384;

const MEMORY_HINT = 'expected a size such as "512MiB" or "1.5GiB"';

/** A memory size ("512MiB", "1GiB"), as a number of MiB. */
export const memorySize = z
  .string({ invalid_type_error: MEMORY_HINT })
  .trim()
  .regex(/^\d+(\.\d+)?\s*(MiB|GiB)$/, MEMORY_HINT)
  .transform((text) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*(MiB|GiB)$/.exec(text)!;
    return Math.round(Number(amount) * (unit === 'GiB' ? 1024 : 1));
  })
  .refine((mib) => mib >= MINIMUM_MEMORY_BUDGET_MIB, {
    message: `give at least ${MINIMUM_MEMORY_BUDGET_MIB}MiB: the worker itself takes about 300 MiB`,
  });

/** How the worker process runs (`worker:` in temporal.yaml). */
export const workerSchema = z
  .object({
    /**
     * The memory the worker should stay within (its RSS): it sizes the SDK's workflow cache, so that
     * idle environment entities are evicted (and replayed when next needed) instead of holding memory.
     * Absent: the SDK's default cache, sized from the machine's memory.
     */
    memoryBudget: memorySize.optional(),
  })
  .strict()
  .default({});
export type WorkerSettings = z.infer<typeof workerSchema>;
