import { patched } from '@temporalio/workflow';
import { Patches } from './settings';

/**
 * One marker for every patch of a release. Asked one by one, each patch a new run checked recorded a
 * marker and the SDK's upsert of `TemporalChangeVersion`: 8 of each in a plain enable, events the
 * server stores and indexes for every operation, though a run started today takes every new branch.
 * A run started now records the newest release's marker at its first check instead, and has every
 * shape it stands for; runs of earlier releases lack it and ask the marker they recorded (or each
 * patch, where they recorded those), as before, so their histories replay unchanged.
 */
interface Release {
  marker: string;
  /**
   * What the marker stands for: exactly these, never a patch added later (a run recorded under the
   * marker never took a later patch's branch). A later patch is asked on its own, or a later marker
   * stands for it too.
   */
  patches: ReadonlySet<string>;
}

/**
 * The environment entity asks its own patches one by one: its runs outlive operations by far, and a
 * worker of an earlier release, which knows those patches but not the markers, can still run them.
 */
const RELEASE_2026_12: Release = {
  marker: 'patches-of-2026-12',
  patches: new Set([
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
  ]),
};

const RELEASE_2026_12_07: Release = {
  marker: 'patches-of-2026-12-07',
  patches: new Set([...RELEASE_2026_12.patches, Patches.oneFinalUpsert]),
};

/** Newest first: a new run records the first; a replay finds the one its run recorded. */
const RELEASES: readonly Release[] = [RELEASE_2026_12_07, RELEASE_2026_12];

/** The marker a run started by this code records. */
export const RELEASE_MARKER = RELEASES[0].marker;

// Module state is the run's own: the SDK gives every run its own module cache.
const recorded = new Map<string, boolean>();

/**
 * `patched(patch)`, answered by a release marker where the run has one. The markers are checked first
 * at the run's first patch check, which every workflow makes before its first await, so that a replay
 * finds the marker where the run recorded it; a release's marker is asked only while no newer one
 * answered (a run records one marker at most).
 */
export function hasPatch(patch: (typeof Patches)[keyof typeof Patches]): boolean {
  for (const release of RELEASES) {
    if (!release.patches.has(patch)) continue;
    let has = recorded.get(release.marker);
    if (has === undefined) recorded.set(release.marker, (has = patched(release.marker)));
    if (has) return true;
  }
  return patched(patch);
}
