/**
 * Approval on protected environments: before changing anything, an operation on an environment with
 * `protected: true` waits for `approve` or `reject` from someone other than its requester. Updates
 * (the CLI gets an answer or the refusal) and signals of the same names (the Web UI). Import-safe.
 */
import { answerDefinitions } from './operation';

export const APPROVAL_DECISIONS = ['approve', 'reject'] as const;
export type ApprovalKind = (typeof APPROVAL_DECISIONS)[number];
export const APPROVAL_HELP: Record<ApprovalKind, string> = {
  approve: 'let the operation go ahead on the protected environment',
  reject: 'end the operation Rejected; nothing is changed',
};

export const { updates: approvalUpdates, signals: approvalSignals } = answerDefinitions(APPROVAL_DECISIONS);

/** The refusal of a self-approval, as the CLI and the Web UI's log show it. */
export const SELF_APPROVAL = 'you requested it; someone else must approve';

/**
 * A schedule's standing approval as the worker's temporal.yaml declares it: a window this schedule
 * starts (its workflow ID begins with `window-<schedule>-`) with exactly this input is approved.
 */
export interface StandingApproval {
  schedule: string;
  requestedBy: string;
  approvedBy: string;
  durationMs: number;
  enable: string[];
  disable: string[];
}

/** What the workflow learns of approval from the worker's configuration (through `resolveEnvironment`). */
export interface ApprovalSettings {
  protected: boolean;
  timeoutMs: number;
  standing: StandingApproval[];
}
