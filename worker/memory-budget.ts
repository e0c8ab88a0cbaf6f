import type { WorkerOptions } from '@temporalio/worker';

/**
 * What `worker.memoryBudget` sizes: the SDK's workflow cache. An environment entity stays open for
 * good, so with the SDK's default cache (sized from the machine's memory: thousands) every entity an
 * operation ever touched stays in memory beside the operations. A smaller cache evicts the least
 * recently used, in practice idle entities, which are replayed from their history when next needed.
 * Figures measured with `npm run bench:scale` (docs/development.md): about 300 MiB for the worker
 * itself, and about 2 MiB for each cached workflow with its share of the V8 heap.
 */
export const WORKER_BASE_MIB = 300;
export const CACHED_WORKFLOW_MIB = 2;
/** The SDK's default workflow task slots; the cache may not be smaller than them. */
const WORKFLOW_TASK_SLOTS = 40;

export function optionsForMemoryBudget(
  budgetMiB: number | undefined,
): Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions'> {
  if (budgetMiB === undefined) return {};
  const maxCachedWorkflows = Math.max(
    WORKFLOW_TASK_SLOTS,
    Math.floor((budgetMiB - WORKER_BASE_MIB) / CACHED_WORKFLOW_MIB),
  );
  return { maxCachedWorkflows, maxConcurrentWorkflowTaskExecutions: WORKFLOW_TASK_SLOTS };
}
