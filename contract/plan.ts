import type { Action, EnvironmentSnapshot } from './operation';

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
