/**
 * Task-queue priorities (Temporal's `priorityKey`: 1 first, 5 last; 3 when unset). A rollout's
 * members go after the operations an operator starts by hand, and an operation an operator has
 * answered (resume, rollback, abort) goes before both, so that a rollout of hundreds never makes an
 * on-call decision, or a hand-started operation, wait behind its backlog. Servers dispatch by
 * priority from Temporal 1.31 on by default (earlier, from 1.28: `matching.useNewMatcher`).
 * Import-safe in workflow code.
 */
export const PRIORITIES = {
  /** Activities of an operation once an operator has answered it. */
  decided: 2,
  /** Operations started by hand (CLI, Web UI, schedules): Temporal's default. */
  byHand: 3,
  /** A rollout's members, and so their activities, which inherit the workflow's priority. */
  rolloutMember: 4,
} as const;
