import { formatImpact, type ImpactPreview } from './impact';
import type { Action, EnvironmentSnapshot, OperationKind } from './operation';

export interface AosStep {
  aosId: string;
  action: 'restart' | 'stop';
}

/**
 * Which AOS to restart and which to stop. Enable keeps one interactive and one batch AOS
 * (preferring ones that run now, so users keep a server) and stops the rest; disable brings back
 * the whole topology, restarting each instance so it reads the flag again.
 */
export function planAosSteps(action: Action, snapshot: EnvironmentSnapshot): AosStep[] {
  if (action === 'disable') return snapshot.instances.map((i) => ({ aosId: i.id, action: 'restart' }));
  const keep = new Set<string>();
  for (const role of ['interactive', 'batch'] as const) {
    const ofRole = snapshot.instances.filter((i) => i.role === role);
    const chosen = ofRole.find((i) => i.running) ?? ofRole[0];
    if (chosen) keep.add(chosen.id);
  }
  return snapshot.instances
    .filter((i) => keep.has(i.id) || i.running)
    .map((i) => ({ aosId: i.id, action: keep.has(i.id) ? 'restart' : 'stop' }));
}

/** True when the environment already is where the action would take it: nothing to do. */
export function isInTargetMode(action: Action, snapshot: EnvironmentSnapshot): boolean {
  const running = snapshot.instances.filter((i) => i.running);
  if (action === 'enable') {
    return (
      snapshot.configurationMode === 1 &&
      running.length === 2 &&
      running.some((i) => i.role === 'interactive') &&
      running.some((i) => i.role === 'batch') &&
      running.every((i) => i.maintenanceMode === true)
    );
  }
  return (
    snapshot.configurationMode === 0 &&
    running.length === snapshot.instances.length &&
    running.every((i) => i.maintenanceMode === false)
  );
}

/** What a dry run is asked: the operation it would be, as its input says. */
export interface PlanRequest {
  environment: string;
  action: OperationKind;
  requestedBy: string;
  /** Windows: how long it stays open (ms) and the keys it changes. */
  duration?: number;
  changes?: { enable: string[]; disable: string[] };
}

/** What an operation would do now, read with read-only calls; a dry run returns it and changes nothing. */
export interface OperationPlan {
  dryRun: true;
  environment: string;
  action: OperationKind;
  /** The environment as it is now. */
  current: { configurationMode: 0 | 1; aos: string[]; holder?: string };
  /** Who it would affect now (enable and window plans; absent in plans of earlier releases). */
  impact?: ImpactPreview;
  /** Why the operation would be refused now, if it would. */
  refusal?: string;
  steps: { step: string; does: string[] }[];
}

/** The plan as text: the CLI prints it, the Web UI shows it in Current Details. */
export function formatPlan(plan: OperationPlan): string {
  const lines = [
    `Plan: ${plan.action} on ${plan.environment} (dry run: nothing was changed)`,
    `  now: CONFIGURATIONMODE ${plan.current.configurationMode}; ${plan.current.aos.join(', ') || 'no AOS'}`,
    ...(plan.current.holder ? [`  lock: held by ${plan.current.holder}`] : []),
    ...(plan.impact ? formatImpact(plan.impact).map((l) => `  ${l}`) : []),
    ...(plan.refusal ? [`  WOULD BE REFUSED: ${plan.refusal}`] : []),
  ];
  plan.steps.forEach(({ step, does }, i) => {
    lines.push(`  ${i + 1}. ${step}`);
    for (const d of does) lines.push(`       ${d}`);
  });
  return lines.join('\n');
}
