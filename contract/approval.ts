/**
 * Approval on protected environments: before changing anything, an operation on an environment with
 * `protected: true` waits for `approve` or `reject`, signed by one of the environment's approvers
 * other than its requester (contract/signing.ts). Updates (the CLI gets an answer or the refusal)
 * and signals of the same names (the Web UI). Import-safe.
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
 * started (the server's record of the schedule's actions says so) with exactly this input is approved.
 */
export interface StandingApproval {
  schedule: string;
  /** The schedule's id on the server (installation prefix included); absent in earlier releases' settings. */
  scheduleId?: string;
  requestedBy: string;
  approvedBy: string;
  durationMs: number;
  enable: string[];
  disable: string[];
}

/** A registered key: its fingerprint (`SHA256:…`) and the person it belongs to. */
export interface SignerKey {
  fingerprint: string;
  person: string;
}

/** What the workflow learns of approval from the worker's configuration (through `resolveEnvironment`). */
export interface ApprovalSettings {
  protected: boolean;
  timeoutMs: number;
  standing: StandingApproval[];
  /**
   * On a protected environment, every registered key. Present: starts and answers must be signed.
   * Absent in settings recorded by earlier releases, whose operations keep taking unsigned answers.
   */
  keys?: SignerKey[];
  /** Who may approve (names from `people`). */
  approvers?: string[];
  /** The window schedules of this environment (ids on the server): a run one of them started needs no signed start. */
  schedules?: { scheduleId: string; requestedBy: string }[];
}

/** How an operation on a protected environment knows who asked for it. */
export interface RequesterProof {
  /** The person (or, for a schedule, the requester temporal.yaml declares). */
  person: string;
  /** The key that signed the start. */
  fingerprint?: string;
  /**
   * A signed start, a run the schedule started, the parent window or rollout that vouched for it, or
   * (a parent of an earlier release) only the name it was given.
   */
  via: 'signature' | 'schedule' | 'parent' | 'name';
  /** The schedule (id on the server) or the parent workflow. */
  source?: string;
}

/** What a child operation's parent (a window or a rollout of this product) vouches for, checked at the server. */
export interface ParentProof {
  kind: 'window' | 'rollout';
  requester: RequesterProof;
  /** A window whose own approval was verified: its children need none. */
  approved?: { by: string; fingerprint?: string; standing?: string };
}
