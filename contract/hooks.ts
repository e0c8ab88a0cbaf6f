/**
 * Hooks: commands an environment runs before and after enable and disable (temporal.yaml `hooks`,
 * config/hooks.ts), each a step of the operation. Import-safe in workflows.
 */
import type { Action } from './operation';

export const HOOKS = ['beforeEnable', 'afterEnable', 'beforeDisable', 'afterDisable'] as const;
export type HookName = (typeof HOOKS)[number];

export const isHook = (name: string): name is HookName => (HOOKS as readonly string[]).includes(name);

/** The hook that runs `when` an `action` changes the environment. */
export const hookOf = (when: 'before' | 'after', action: Action): HookName =>
  `${when}${action === 'enable' ? 'Enable' : 'Disable'}`;

/**
 * A `before` hook that fails: `refuse` ends the operation refused, nothing changed (its lock given
 * back); `decide` makes it a Failed step that waits for resume or abort like any other.
 */
export const HOOK_FAILURE_POLICIES = ['refuse', 'decide'] as const;
export type HookFailurePolicy = (typeof HOOK_FAILURE_POLICIES)[number];

/** What a workflow learns of its environment's hooks (through `resolveEnvironment`). */
export interface HookSettings {
  configured: HookName[];
  onFailure: HookFailurePolicy;
  /** The hook activity's startToCloseTimeout: the longest hook timeout, and time to end its process group. */
  activityTimeoutMs: number;
}
