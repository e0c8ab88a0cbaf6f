import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../contract/errors';
import {
  describeFreeze,
  freezeAt,
  freezeExceptionMessage,
  freezeOverlapping,
  type FreezeException,
  type FreezeExceptionRecord,
  type FreezePeriod,
} from '../contract/freeze';
import { CLOCK_SKEW_MS, START_SIGNATURE_VALIDITY_MS, samePerson } from '../contract/signing';
import type { Operation } from './operation';
import { rolloutOf } from './rollout-report';
import { Patches } from './settings';
import { hasPatch } from './shape';
import { signerOf } from './signed';

/**
 * Change freezes in an operation: nothing starts while a freeze covers the environment (the periods
 * come with the settings, computed by the worker and recorded by the local activity; they are
 * compared with workflow time, so a replay decides the same), unless an approver of the protected
 * environment signed an exception for this run. A window's children are not checked: the window was,
 * when it opened, and its closing disable must run even if a freeze began meanwhile.
 */
export class FreezeGuard {
  /** Checked on construction, before the first await, like the Operation's own patches. */
  private readonly checks = hasPatch(Patches.changeFreezes);

  constructor(
    private readonly op: Operation,
    private readonly exception?: FreezeException,
  ) {}

  private get periods(): FreezePeriod[] {
    return this.op.settings.freezes ?? [];
  }

  /** A window's child (its ID derives from its parent's, and the parent is no rollout): the window decided. */
  private get windowChild(): boolean {
    const info = workflowInfo();
    const parent = info.parent?.workflowId;
    return parent !== undefined && parent !== rolloutOf() && info.workflowId.startsWith(`${parent}-`);
  }

  /** The refusal when a freeze covers the environment now and no valid exception lifts it. */
  refusal(): ApplicationFailure | undefined {
    if (!this.checks || this.windowChild) return undefined;
    const period = freezeAt(this.periods, Date.now());
    if (!period || this.op.status.freezeException?.freeze === period.freeze) return undefined;
    const granted = this.granted(period);
    if (typeof granted !== 'string') {
      this.op.status.freezeException = granted;
      this.op.note(
        `${describeFreeze(period)}: started by the exception of ${granted.by} (signed, key ${granted.fingerprint}): ${granted.reason}`,
      );
      return undefined;
    }
    const { action, environment } = this.op.status;
    const what = action === 'window' ? 'The window did not open' : `The ${action} did not start`;
    return ApplicationFailure.nonRetryable(
      `${what}: ${environment} is in the ${describeFreeze(period)}. Nothing was changed. ${granted}`,
      ErrorType.EnvironmentFrozen,
    );
  }

  /** Refuses the start as a busy environment is refused: the event sinks hear of it, the workflow fails. */
  async refuseIfFrozen(): Promise<void> {
    const refusal = this.refusal();
    if (!refusal) return;
    await this.op.events.refused({ message: refusal.message, type: refusal.type ?? undefined });
    throw refusal;
  }

  /**
   * Why an open window may not stay open from `from` until `until` (ms): a freeze in between. A window
   * open when a freeze starts is not cut, but it is not extended into one (except the freeze its
   * exception covers).
   */
  extensionRefusal(from: number, until: number): string | undefined {
    if (!this.checks) return undefined;
    const excepted = this.op.status.freezeException?.freeze;
    const period = freezeOverlapping(
      this.periods.filter((p) => p.freeze !== excepted),
      from,
      until,
    );
    return (
      period &&
      `it would stay open until ${new Date(until).toISOString()}, into the ${describeFreeze(period)}: a window open when a freeze starts is not cut, but it is not extended into one`
    );
  }

  /** The exception as verified, or why there is none (the hint to get one, where one can be had). */
  private granted(period: FreezePeriod): FreezeExceptionRecord | string {
    const { environment, action } = this.op.status;
    const approval = this.op.settings.approval;
    if (!approval?.protected || !approval.keys)
      return `${environment} is not protected, so no exception can be granted: wait until ${period.end}, or change freezes: in the worker's temporal.yaml.`;
    const e = this.exception;
    const hint =
      `An approver of ${environment} (${(approval.approvers ?? []).join(', ')}) can grant an exception for one run: ` +
      `\`maint freeze except ${environment} --freeze ${period.freeze} --action ${action} --reason "..." -o exception.json\`, ` +
      `then start it with \`--freeze-exception exception.json\`.`;
    if (!e) return hint;
    const refused = (why: string) => `The freeze exception is refused: ${why}. ${hint}`;
    if (e.freeze !== period.freeze) return refused(`it is for freeze "${e.freeze}", not "${period.freeze}"`);
    const info = workflowInfo();
    const age = info.startTime.getTime() - Date.parse(e.signedAt);
    if (age > START_SIGNATURE_VALIDITY_MS || age < -CLOCK_SKEW_MS)
      return refused(`it was signed at ${e.signedAt}, not within 15 minutes before this run started`);
    const message = freezeExceptionMessage({
      namespace: info.namespace,
      workflowId: info.workflowId,
      workflowType: info.workflowType,
      environment,
      freeze: e.freeze,
      by: e.by,
      reason: e.reason,
      signedAt: e.signedAt,
    });
    const signer = signerOf(
      e.signature,
      message,
      approval.keys,
      `the freeze exception for ${info.workflowId}`,
    );
    if (typeof signer === 'string') return refused(signer);
    if (!samePerson(e.by, signer.person))
      return refused(`it is signed with ${signer.person}'s key but says "by": "${e.by}"`);
    if (!(approval.approvers ?? []).some((a) => samePerson(a, signer.person)))
      return refused(`${signer.person} is not an approver of ${environment}`);
    return {
      freeze: e.freeze,
      by: signer.person,
      fingerprint: signer.fingerprint,
      reason: e.reason,
      until: period.end,
    };
  }
}
