import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';
import { formatPlan, type OperationPlan, type PlanRequest } from '../contract/plan';

const { planOperation } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/**
 * `"dryRun": true`: the plan of the operation, from read-only calls. No lock, no approval, no history
 * entry, no search attributes: the run is not an operation, so lists and the environment ignore it.
 */
export async function dryRun(request: PlanRequest): Promise<OperationPlan> {
  const plan = await planOperation(request);
  setCurrentDetails(`**Dry run: nothing was changed**\n\n\`\`\`\n${formatPlan(plan)}\n\`\`\``);
  return plan;
}
