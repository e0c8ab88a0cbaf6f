import { patched } from '@temporalio/workflow';
import { Patches } from './settings';

/**
 * One marker for every patch of the release of December 2026. Asked one by one, each patch a new run
 * checked recorded a marker and the SDK's upsert of `TemporalChangeVersion`: 8 of each in a plain
 * enable, events the server stores and indexes for every operation, though a run started today takes
 * every new branch. A run started now records this one marker at its first check instead, and has
 * every shape it stands for; runs of earlier releases lack it and ask each patch where they recorded
 * it, as before, so their histories replay unchanged.
 */
export const RELEASE_MARKER = 'patches-of-2026-12';

/**
 * What the marker stands for: exactly these, never a patch added later (a run recorded under the
 * marker never took a later patch's branch). A later patch is asked on its own, or a later marker
 * stands for it too. The environment entity asks its own patches one by one: its runs outlive
 * operations by far, and a worker of the release before this one, which knows those patches but not
 * the marker, can still run them.
 */
const MARKED: ReadonlySet<string> = new Set([
  Patches.entityState,
  Patches.lockQueue,
  Patches.windowKeepsFoundState,
  Patches.waitCancellation,
  Patches.recordNonCancellable,
  Patches.operationEvents,
  Patches.approval,
  Patches.rolloutReport,
  Patches.windowCarriesEnd,
  Patches.windowKeepsFlag,
  Patches.windowVerifiesContinuation,
  Patches.rolloutMembers,
  Patches.changeFreezes,
  Patches.windowBooking,
  Patches.rolloutCutoff,
  Patches.hooks,
  Patches.approvalImpact,
]);

// Module state is the run's own: the SDK gives every run its own module cache.
let marked: boolean | undefined;

/**
 * `patched(patch)`, answered by the release marker where the run has it. Checked first at the run's
 * first patch check, which every workflow makes before its first await, so that a replay finds the
 * marker where the run recorded it.
 */
export function hasPatch(patch: (typeof Patches)[keyof typeof Patches]): boolean {
  if (!MARKED.has(patch)) return patched(patch);
  marked ??= patched(RELEASE_MARKER);
  return marked || patched(patch);
}
