import { ENABLE_HORIZON_MS, IMPACT_NOT_AVAILABLE, previewOf, type ImpactPreview } from '../contract/impact';
import type { EnvironmentDrivers } from '../drivers/capabilities';
import { environmentDrivers, guarded, type DriverDeps } from './guards';

export interface ImpactRequest {
  environment: string;
  /** How long the environment stays in maintenance (a window's duration); an enable counts an hour. */
  durationMs?: number;
}

/**
 * Who turning maintenance mode on would affect now, from the driver's `impact` capability. Never
 * fails: a driver without it, or a read that fails, gives a preview that says why there is none.
 */
export async function readImpact(
  d: EnvironmentDrivers,
  durationMs: number | undefined,
  signal?: AbortSignal,
): Promise<ImpactPreview> {
  if (!d.impact) return { available: false, reason: IMPACT_NOT_AVAILABLE };
  const until = new Date(Date.now() + (durationMs ?? ENABLE_HORIZON_MS)).toISOString();
  try {
    return previewOf(await d.impact.read(until, signal), until);
  } catch (err) {
    if (signal?.aborted) throw err;
    // The driver masks what it reports; its message says what went wrong, and the preview only informs.
    return { available: false, reason: `could not be read (${(err as Error).message})` };
  }
}

/** The impact preview a protected environment's approval request carries. */
export function createImpactActivities(deps: DriverDeps) {
  return {
    async previewImpact({ environment, durationMs }: ImpactRequest): Promise<ImpactPreview> {
      const d = environmentDrivers(deps, environment);
      return guarded(d, 'read who is affected', (signal) => readImpact(d, durationMs, signal));
    },
  };
}
