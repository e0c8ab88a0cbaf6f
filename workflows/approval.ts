import { condition, log, patched, workflowInfo } from '@temporalio/workflow';
import {
  APPROVAL_DECISIONS,
  APPROVAL_HELP,
  SELF_APPROVAL,
  approvalSignals,
  approvalUpdates,
  type ApprovalKind,
  type StandingApproval,
} from '../contract/approval';
import {
  decisionInputSchema,
  describeDecision,
  type Decision,
  type OperationStatus,
} from '../contract/operation';
import { setAnswerHandlers } from './answers';
import { decisionFrom, inputRefusal } from './lifecycle';
import { rolloutOf } from './rollout-report';
import type { Operation } from './operation';
import { Patches, now } from './settings';

/** What a window asks to do, to match against the schedules' standing approvals. */
export interface WindowRequest {
  approvedBy?: string;
  duration: number;
  changes: { enable: string[]; disable: string[] };
}

const sameKeys = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();
const samePerson = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The standing approval that covers this window: declared in the worker's temporal.yaml for the
 * schedule that started it (its workflow ID), with the same requester, approver, duration and keys.
 * An `approvedBy` typed into the Web UI matches none, so it approves nothing.
 */
export function standingApprovalFor(
  standing: StandingApproval[],
  request: WindowRequest,
  requestedBy: string,
  workflowId: string,
): StandingApproval | undefined {
  if (!request.approvedBy) return undefined;
  return standing.find(
    (s) =>
      workflowId.startsWith(`window-${s.schedule}-`) &&
      s.approvedBy === request.approvedBy &&
      s.requestedBy === requestedBy &&
      s.durationMs === request.duration &&
      sameKeys(s.enable, request.changes.enable) &&
      sameKeys(s.disable, request.changes.disable),
  );
}

/** The Web UI's Current Details paragraph while an operation waits for approval. */
export function approvalDetails(s: OperationStatus): string {
  if (!s.approval?.awaiting) return '';
  return (
    `\n\n**Waiting for approval** until ${s.approval.deadline}: someone other than ${s.requestedBy} sends the signal ` +
    '`approve` or `reject` with input {"by": "your.name", "reason": "..."}'
  );
}

/**
 * Approval on a protected environment, before anything changes and before the servicing lock is
 * taken (a request may wait a day; the environment stays free meanwhile). `approve` and `reject` are
 * updates with validators and signals of the same names; the approver may not be the requester. No
 * answer within `policies.approvalTimeout` rejects it. A window's child operations do not ask again.
 */
export class ApprovalGate {
  private answer?: Decision;
  private awaiting = false;

  /** Checked on construction, before the first await, like the Operation's own patches. */
  private readonly shaped = patched(Patches.approval);

  /** Registers the handlers: call it before the workflow's first await. */
  constructor(private readonly op: Operation) {
    for (const kind of APPROVAL_DECISIONS) {
      setAnswerHandlers({
        name: kind,
        update: approvalUpdates[kind],
        signal: approvalSignals[kind],
        description: `${kind}: ${APPROVAL_HELP[kind]} (protected environments). Input: {"by": "your.name", "reason": "..."}`,
        refusal: (payload) => this.check(kind, payload),
        apply: (payload) => ({
          accepted: true as const,
          decision: this.accept(kind, payload),
          message: `${kind} accepted: ${APPROVAL_HELP[kind]}`,
        }),
        note: (message) => this.op.note(message),
      });
    }
  }

  /** Cancelled while waiting: the operation ends Rejected, having changed nothing. */
  get undecided(): boolean {
    return this.awaiting;
  }

  /** The history entry's detail for a rejected operation. */
  describe(): string {
    const d = this.op.status.approval?.decision;
    if (!d || d.kind === 'approve') return 'cancelled while awaiting approval; nothing was changed';
    const who =
      d.kind === 'timeout' ? `no approval by ${this.op.status.approval?.deadline}` : describeDecision(d);
    return `${who}${d.reason && d.kind !== 'timeout' ? ` (${d.reason})` : ''}; nothing was changed`;
  }

  private check(kind: ApprovalKind, payload: unknown): string | undefined {
    const invalid = inputRefusal(payload);
    if (invalid) return invalid;
    const s = this.op.status;
    if (!this.awaiting || this.answer) {
      const d = this.answer ?? s.approval?.decision;
      if (d) return `the operation was already answered (${describeDecision(d)})`;
      if (s.approval === undefined)
        return `the operation is not waiting for approval (${s.environment} is not protected, or it was approved)`;
      return 'the operation is not waiting for approval';
    }
    if (kind === 'approve' && samePerson(decisionInputSchema.parse(payload).by, s.requestedBy))
      return SELF_APPROVAL;
    return undefined;
  }

  private accept(kind: ApprovalKind, payload: unknown): Decision {
    this.answer = decisionFrom(kind, payload, null);
    return this.answer;
  }

  /** Records the answer in the status, the decisions and the log. */
  private decided(decision: Decision, extra: { deadline?: string; standing?: string } = {}): void {
    const s = this.op.status;
    s.approval = { awaiting: false, ...extra, decision };
    this.op.recordDecision(decision);
  }

  /**
   * Waits for approval when the environment is protected; true when the operation may go on, false
   * when it was rejected (by an operator or the timeout). Unprotected environments, a window's child
   * operations and operations recorded before this release pass at once, without any command. A
   * rollout's children do ask: the rollout approves nothing for them.
   */
  async pass(window?: WindowRequest): Promise<boolean> {
    const settings = this.op.settings.approval;
    const parent = workflowInfo().parent?.workflowId;
    const childOfWindow = parent !== undefined && parent !== rolloutOf();
    if (!settings?.protected || childOfWindow || !this.shaped) return true;
    const s = this.op.status;
    const info = workflowInfo();
    const standing = window && standingApprovalFor(settings.standing, window, s.requestedBy, info.workflowId);
    if (standing) {
      this.decided(
        {
          kind: 'approve',
          by: standing.approvedBy,
          reason: `standing approval of schedule ${standing.schedule} (temporal.yaml)`,
          at: now(),
          step: null,
        },
        { standing: standing.schedule },
      );
      this.op.publish();
      return true;
    }
    if (window?.approvedBy) {
      this.op.note(
        `approvedBy "${window.approvedBy}" ignored: it matches no standing approval of a schedule in temporal.yaml`,
      );
    }
    const deadline = new Date(Date.now() + settings.timeoutMs).toISOString();
    const resumeState = s.state;
    s.approval = { awaiting: true, deadline };
    this.awaiting = true;
    this.op.setState('AwaitingApproval');
    this.op.publishSearchAttributes();
    this.op.note(
      `${s.environment} is protected: waiting for approve or reject by someone other than ${s.requestedBy}, until ${deadline}`,
    );
    log.info('Waiting for approval', { environment: s.environment, requestedBy: s.requestedBy, deadline });
    this.op.events.approvalRequired(deadline);
    const came = await condition(() => this.answer !== undefined, settings.timeoutMs);
    const decision: Decision = came
      ? this.answer!
      : { kind: 'timeout', by: 'system', reason: `no approval by ${deadline}`, at: now(), step: null };
    this.awaiting = false;
    this.decided(decision, { deadline });
    this.op.events.decided();
    if (decision.kind !== 'approve') {
      this.op.publish();
      return false;
    }
    this.op.setState(resumeState);
    return true;
  }
}
