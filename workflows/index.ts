import type { ServicingInput, ServicingResult } from '../contract/operation';
import type { OperationPlan } from '../contract/plan';
import { runServicing } from './servicing';

// Overloads: `"dryRun": true` returns the plan; the last signature is the one clients infer by default.
type DryRunInput = ServicingInput & { dryRun: true };

/** Turns maintenance mode on: flag to 1, one interactive and one batch AOS restarted, the rest stopped. */
export async function enableMaintenanceMode(input: DryRunInput): Promise<OperationPlan>;
export async function enableMaintenanceMode(input: ServicingInput): Promise<ServicingResult>;
export async function enableMaintenanceMode(input: ServicingInput): Promise<ServicingResult | OperationPlan> {
  return runServicing('enable', input);
}

/** Turns maintenance mode off: flag to 0, the whole topology started again. */
export async function disableMaintenanceMode(input: DryRunInput): Promise<OperationPlan>;
export async function disableMaintenanceMode(input: ServicingInput): Promise<ServicingResult>;
export async function disableMaintenanceMode(
  input: ServicingInput,
): Promise<ServicingResult | OperationPlan> {
  return runServicing('disable', input);
}

export { maintenanceWindow } from './window';
export { maintenanceEnvironment } from './environment';
export { maintenanceRollout } from './rollout';
