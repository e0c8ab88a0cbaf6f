import { defineSearchAttributeKey } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  APPROVAL_DECISIONS,
  APPROVAL_HELP,
  SELF_APPROVAL,
  approvalSignals,
  approvalUpdates,
  type ApprovalKind,
  type ApprovalSettings,
  type ParentProof,
  type RequesterProof,
  type SignerKey,
  type StandingApproval,
} from '../contract/approval';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../contract/errors';
import { formatImpact, type ImpactPreview } from '../contract/impact';
import {
  WORKFLOW_TYPES,
  decisionInputSchema,
  describeDecision,
  type Decision,
  type OperationStatus,
} from '../contract/operation';
import { samePerson } from '../contract/signing';
import { setAnswerHandlers } from './answers';
import { inputRefusal } from './lifecycle';
import { rolloutOf } from './rollout-report';
import type { Operation } from './operation';
import { Patches, now } from './settings';
import { hasPatch } from './shape';
import { startSigner } from './signed';

/** A booked window waits for approval until its start (`until`), or until it is cancelled (`stop`). */
export interface ApprovalWait {
  until?: number;
  stop?: () => Decision | undefined;
}

/** What a window asks to do, to match against the schedules' standing approvals. */
export interface WindowRequest {
  approvedBy?: string;
  duration: number;
  changes: { enable: string[]; disable: string[] };
}

const sameKeys = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** Checks at the server of what a run claims of its origin (activities/trust.ts). */
const { parentProof, scheduledRun, previewImpact } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    maximumInterval: '10s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

/** Set by the server on runs a schedule starts, and by anyone who starts a workflow: a claim to check. */
const scheduledByKey = defineSearchAttributeKey('TemporalScheduledById', 'KEYWORD');

/**
 * The standing approval that covers this window: declared in the worker's temporal.yaml for
 * `schedule` (the schedule that started it, as verified), with the same requester, approver, duration
 * and keys. An `approvedBy` typed into the Web UI matches none, so it approves nothing.
 */
export function standingApprovalFor(
  standing: StandingApproval[],
  request: WindowRequest,
  requestedBy: string,
  startedBy: (s: StandingApproval) => boolean,
): StandingApproval | undefined {
  const { approvedBy } = request;
  if (!approvedBy) return undefined;
  return standing.find(
    (s) =>
      startedBy(s) &&
      samePerson(s.approvedBy, approvedBy) &&
      samePerson(s.requestedBy, requestedBy) &&
      s.durationMs === request.duration &&
      sameKeys(s.enable, request.changes.enable) &&
      sameKeys(s.disable, request.changes.disable),
  );
}

/**
 * Who asked for a run that no parent started: the schedule it names (TemporalScheduledById, which
 * anyone can set at a start, so confirmed at the server), else its start's signature. A string: why
 * neither proves anyone.
 */
export async function provedRequester(
  raw: unknown,
  workflowType: string,
  { keys, schedules }: { keys: SignerKey[]; schedules?: { scheduleId: string; requestedBy: string }[] },
  note: (message: string) => void,
): Promise<RequesterProof | string> {
  const info = workflowInfo();
  const claimed = info.typedSearchAttributes.get(scheduledByKey);
  const schedule = claimed && schedules?.find((x) => x.scheduleId === claimed);
  if (schedule) {
    const run = await scheduledRun({ scheduleId: schedule.scheduleId, firstRunId: info.firstExecutionRunId });
    if (run.started) {
      note(`started by schedule ${schedule.scheduleId}, as the server confirmed`);
      return { person: schedule.requestedBy, via: 'schedule', source: schedule.scheduleId };
    }
    note(`claims to be started by schedule ${claimed}, but ${run.why}`);
  }
  const signer = startSigner(raw, workflowType, keys);
  if (typeof signer === 'string') return signer;
  note(`requested by ${signer.person}, signed with key ${signer.fingerprint}`);
  return { person: signer.person, fingerprint: signer.fingerprint, via: 'signature' };
}

/** The Web UI's Current Details paragraph while an operation waits for approval. */
export function approvalDetails(s: OperationStatus): string {
  if (!s.approval?.awaiting) return '';
  const signed = s.requester
    ? `signed by an approver of ${s.environment} other than ${s.requester.person}: paste the output of \`maint approve ${s.operationId} --print-signal\` as the signal \`approve\``
    : `sent by someone other than ${s.requestedBy}: the signal \`approve\` or \`reject\` with input {"by": "your.name", "reason": "..."}`;
  const impact = s.approval.impact ? `\n\n${formatImpact(s.approval.impact).join('\n\n')}` : '';
  return `\n\n**Waiting for approval** until ${s.approval.deadline}, ${signed}${impact}`;
}

/** The `maint` command that sends an answer (the signal's name, but for the window's). */
const commandOf = (answer: string): string =>
  ({ endWindow: 'end-window', extendWindow: 'extend-window -d <duration>' })[answer] ?? answer;

/** How an unsigned answer to a protected environment is refused: where to get a signed one. */
export const unsignedHint = (answer: string, operationId: string): string =>
  `answers on a protected environment are signed. From the CLI: \`maint ${commandOf(answer)} ${operationId}\` signs with your SSH key; ` +
  `from the Web UI: paste the output of \`maint ${commandOf(answer)} ${operationId} --print-signal\``;

/**
 * Approval on a protected environment, before anything changes and before the servicing lock is
 * taken (a request may wait a day; the environment stays free meanwhile). First the requester is
 * proved (`admit`): a signed start, a run that the schedule really started, or the window or rollout of
 * this product that started it. Then (`pass`) an approve signed by one of the environment's approvers
 * other than the requester, a standing approval of the schedule, or the parent window's own verified
 * approval. `approve` and `reject` are updates with validators and signals of the same names. No
 * answer within `policies.approvalTimeout` rejects it. Runs of earlier releases (their settings carry
 * no keys) keep taking unsigned answers.
 */
export class ApprovalGate {
  private answer?: Decision;
  private awaiting = false;
  /** The window this child operation belongs to approved it (as the server confirmed). */
  private vouched?: ParentProof;
  /** The schedule (id on the server) that started this run, as the server confirmed. */
  private scheduledBy?: string;

  /** Checked on construction, before the first await, like the Operation's own patches. */
  private readonly shaped = hasPatch(Patches.approval);
  /** The request carries the impact preview (`Patches.approvalImpact`). */
  private readonly previews = hasPatch(Patches.approvalImpact);

  /** Registers the handlers: call it before the workflow's first await. */
  constructor(private readonly op: Operation) {
    for (const kind of APPROVAL_DECISIONS) {
      setAnswerHandlers({
        name: kind,
        update: approvalUpdates[kind],
        signal: approvalSignals[kind],
        description: `${kind}: ${APPROVAL_HELP[kind]} (protected environments). Input: {"by": "your.name", "reason": "...", "seq": 0, "signature": "..."} (\`maint ${kind} <env> --print-signal\` prints it)`,
        refusal: (payload) => this.check(kind, payload),
        apply: (payload) => ({
          accepted: true as const,
          decision: this.accept(kind, payload),
          message: `${kind} accepted: ${APPROVAL_HELP[kind]}`,
        }),
        ignored: (message) => this.op.signalIgnored(message),
      });
    }
  }

  private get settings(): ApprovalSettings | undefined {
    return this.op.settings.approval;
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
    const signer = this.op.signerOf(kind, payload);
    if (typeof signer === 'string') return signer;
    if (kind !== 'approve') return undefined;
    if (!signer)
      return samePerson(decisionInputSchema.parse(payload).by, s.requestedBy) ? SELF_APPROVAL : undefined;
    const approvers = this.settings?.approvers ?? [];
    if (!approvers.some((a) => samePerson(a, signer.person)))
      return `${signer.person} is not an approver of ${s.environment} (approvers: ${approvers.join(', ')})`;
    const requester = s.requester;
    if (
      requester &&
      (samePerson(requester.person, signer.person) || requester.fingerprint === signer.fingerprint)
    )
      return `${SELF_APPROVAL} (signed with the requester's ${requester.fingerprint === signer.fingerprint ? 'own key' : 'name'})`;
    return undefined;
  }

  private accept(kind: ApprovalKind, payload: unknown): Decision {
    this.answer = this.op.answerFrom(kind, payload, null);
    return this.answer;
  }

  /** Records the answer in the status, the decisions and the log. */
  private decided(decision: Decision, extra: Partial<NonNullable<OperationStatus['approval']>> = {}): void {
    const s = this.op.status;
    s.approval = {
      awaiting: false,
      ...extra,
      decision,
      ...(s.approval?.impact && { impact: s.approval.impact }),
    };
    this.op.recordDecision(decision);
  }

  /**
   * Proves who asked for an operation on a protected environment, before anything else happens:
   * the window or rollout that started it, the schedule that started it (both confirmed at the
   * server), or the requester's signature over the input. An operation that cannot be proved is
   * refused (NotTrusted) and changes nothing.
   */
  async admit(raw: unknown): Promise<void> {
    const workflowType = WORKFLOW_TYPES[this.op.status.action];
    const settings = this.settings;
    const keys = settings?.keys;
    if (!settings?.protected || !keys || !this.shaped) return;
    const s = this.op.status;
    const info = workflowInfo();
    if (info.parent) {
      const proof = await parentProof({
        parent: { workflowId: info.parent.workflowId, runId: info.parent.runId },
        environment: s.environment,
      }).catch((err: unknown) => {
        const cause = err instanceof ActivityFailure ? err.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type === ErrorType.NotTrusted)
          throw this.refuse(cause.message);
        throw err;
      });
      const { person, fingerprint, via } = proof.requester;
      s.requester = {
        person,
        fingerprint,
        via: via === 'name' ? 'name' : 'parent',
        source: info.parent.workflowId,
      };
      if (proof.kind === 'window' && proof.approved) this.vouched = proof;
      return this.op.note(
        `requested by ${person} through ${info.parent.workflowId}, as the server confirmed`,
      );
    }
    const proof = await provedRequester(raw, workflowType, { ...settings, keys }, (m) => this.op.note(m));
    if (typeof proof === 'string') throw this.refuse(proof);
    s.requester = proof;
    if (proof.via === 'schedule') this.scheduledBy = proof.source;
  }

  private refuse(why: string): ApplicationFailure {
    const { environment, action: command } = this.op.status;
    return ApplicationFailure.nonRetryable(
      `${environment} is protected and ${why}. Nothing was changed. Start it with \`maint ${command} ${environment}\`, ` +
        `which signs the request with your SSH key, or from the Web UI with the input that \`maint ${command} ${environment} --print-input\` prints.`,
      ErrorType.NotTrusted,
    );
  }

  /**
   * Waits for approval when the environment is protected; true when the operation may go on, false
   * when it was rejected (by an operator or the timeout). Unprotected environments and operations
   * recorded before approval pass at once, without any command; so does a window's child whose window
   * was approved. A rollout's children do ask: the rollout approves nothing for them.
   */
  async pass(window?: WindowRequest, wait: ApprovalWait = {}): Promise<boolean> {
    const settings = this.settings;
    if (!settings?.protected || !this.shaped) return true;
    const s = this.op.status;
    if (!settings.keys) {
      if (this.passesUnsigned(settings, window)) return true;
    } else if (this.vouched) {
      const { approved } = this.vouched;
      s.approval = { awaiting: false, verified: { ...approved!, parent: s.requester?.source } };
      this.op.note(
        `approved with its window ${s.requester?.source} (${approved!.standing ? `standing approval of ${approved!.standing}` : `approve by ${approved!.by}`})`,
      );
      return true;
    } else if (
      window &&
      this.scheduledBy &&
      this.standing(settings, window, (x) => x.scheduleId === this.scheduledBy)
    ) {
      return true;
    }
    if (window?.approvedBy) {
      this.op.note(
        `approvedBy "${window.approvedBy}" ignored: it matches no standing approval of the schedule that started this window`,
      );
    }
    return this.await(settings, wait, window);
  }

  /**
   * Why an approval given in advance (a booked window's) no longer holds under the settings read
   * now, at the start: its signer is no approver any more, or the key is gone. Undefined: it holds.
   */
  noLongerHolds(): string | undefined {
    const settings = this.settings;
    const verified = this.op.status.approval?.verified;
    if (!settings?.protected || !settings.keys || !verified?.fingerprint) return undefined;
    const { environment } = this.op.status;
    if (!(settings.approvers ?? []).some((a) => samePerson(a, verified.by)))
      return `${verified.by}, who approved it, is no longer an approver of ${environment} (approvers: ${(settings.approvers ?? []).join(', ')})`;
    if (
      !settings.keys.some((k) => k.fingerprint === verified.fingerprint && samePerson(k.person, verified.by))
    )
      return `the key ${verified.fingerprint} that signed the approval is no longer ${verified.by}'s in temporal.yaml`;
    return undefined;
  }

  /** A booked window's approval that no longer holds at its start: it ends Rejected, having changed nothing. */
  revoke(why: string): void {
    this.decided({
      kind: 'reject',
      by: 'policy',
      reason: `approval no longer holds at the start: ${why}`,
      at: now(),
      step: null,
    });
    this.op.setState('Rejected');
  }

  /** Earlier releases' runs: a window's child passes, and a standing approval goes by workflow ID. */
  private passesUnsigned(settings: ApprovalSettings, window?: WindowRequest): boolean {
    const parent = workflowInfo().parent?.workflowId;
    if (parent !== undefined && parent !== rolloutOf()) return true;
    const id = workflowInfo().workflowId;
    return !!window && this.standing(settings, window, (x) => id.startsWith(`window-${x.schedule}-`));
  }

  /** Approves a window by its schedule's standing approval, if one matches. */
  private standing(
    settings: ApprovalSettings,
    window: WindowRequest,
    startedBy: (s: StandingApproval) => boolean,
  ): boolean {
    const s = this.op.status;
    const standing = standingApprovalFor(settings.standing, window, s.requestedBy, startedBy);
    if (!standing) return false;
    this.decided(
      {
        kind: 'approve',
        by: standing.approvedBy,
        reason: `standing approval of schedule ${standing.schedule} (temporal.yaml)`,
        at: now(),
        step: null,
      },
      {
        standing: standing.schedule,
        ...(settings.keys && { verified: { by: standing.approvedBy, standing: standing.schedule } }),
      },
    );
    this.op.publish();
    return true;
  }

  /**
   * Who the operation would affect, for the approver: read when the request is made; a disable affects
   * nobody. Never fails the request: without it the preview says why.
   */
  private async impact(window?: WindowRequest): Promise<ImpactPreview | undefined> {
    const s = this.op.status;
    if (s.action === 'disable') return undefined;
    try {
      return await previewImpact({ environment: s.environment, durationMs: window?.duration });
    } catch (err) {
      if (isCancellation(err)) throw err;
      return { available: false, reason: `could not be read (${(err as Error).message})` };
    }
  }

  /** Waits for approve or reject (or the timeout, or a booked window's start); true when approved. */
  private async await(
    settings: ApprovalSettings,
    wait: ApprovalWait,
    window?: WindowRequest,
  ): Promise<boolean> {
    const s = this.op.status;
    // Read first, so that the request shows who it affects from the moment it waits.
    const impact = this.previews ? await this.impact(window) : undefined;
    const timeoutMs = wait.until === undefined ? settings.timeoutMs : Math.max(1, wait.until - Date.now());
    const deadline = new Date(Date.now() + timeoutMs).toISOString();
    const resumeState = s.state;
    s.approval = {
      awaiting: true,
      deadline,
      ...(settings.keys && { approvers: settings.approvers }),
      ...(impact && { impact }),
    };
    this.awaiting = true;
    this.op.setState('AwaitingApproval');
    this.op.publishSearchAttributes();
    const requester = s.requester?.person ?? s.requestedBy;
    this.op.note(
      settings.keys
        ? `${s.environment} is protected: waiting for an approval signed by one of ${(settings.approvers ?? []).join(', ')} other than ${requester}, until ${deadline}`
        : `${s.environment} is protected: waiting for approve or reject by someone other than ${s.requestedBy}, until ${deadline}`,
    );
    log.info('Waiting for approval', { environment: s.environment, requestedBy: requester, deadline });
    this.op.events.approvalRequired(deadline);
    const came = await condition(() => this.answer !== undefined || !!wait.stop?.(), timeoutMs);
    const decision: Decision = (came && (this.answer ?? wait.stop?.())) || {
      kind: 'timeout',
      by: 'system',
      reason: `no approval by ${deadline}`,
      at: now(),
      step: null,
    };
    this.awaiting = false;
    const verified =
      decision.kind === 'approve' && decision.fingerprint
        ? { by: decision.by, fingerprint: decision.fingerprint }
        : undefined;
    this.decided(decision, { deadline, ...(verified && { verified }) });
    this.op.events.decided();
    if (decision.kind !== 'approve') {
      this.op.publish();
      return false;
    }
    this.op.approved();
    this.op.setState(resumeState);
    return true;
  }
}
