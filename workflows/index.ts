import type { ServicingInput, ServicingResult } from '../contract/operation';
import { runServicing } from './servicing';

/** Turns maintenance mode on: flag to 1, one interactive and one batch AOS restarted, the rest stopped. */
export async function enableMaintenanceMode(input: ServicingInput): Promise<ServicingResult> {
  return runServicing('enable', input);
}

/** Turns maintenance mode off: flag to 0, the whole topology started again. */
export async function disableMaintenanceMode(input: ServicingInput): Promise<ServicingResult> {
  return runServicing('disable', input);
}

export { maintenanceWindow } from './window';
export { maintenanceEnvironment } from './environment';
export { maintenanceRollout } from './rollout';
