import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { ErrorType } from '../contract/errors';
import { hookOf, type HookName } from '../contract/hooks';
import type { Action, ErrorInfo, ServicingResult } from '../contract/operation';
import { causeOf, type Operation } from './operation';
import { Patches } from './settings';
import { hasPatch } from './shape';

/** A `before` hook failed with hooks.onFailure `refuse`: the operation ends refused, nothing changed. */
export class HookVeto {
  constructor(
    readonly hook: HookName,
    readonly error: ErrorInfo,
  ) {}

  /** How the refusal reads in the history entry, the event and the workflow's failure. */
  message(environment: string, action: Action): string {
    return (
      `The ${action} was refused by hook ${this.hook}: ${this.error.message}. Nothing was changed on ${environment}. ` +
      'Fix what the hook reports and start it again, or set hooks.onFailure: decide to resume or abort instead.'
    );
  }

  /** The workflow's failure; its details carry the operation's summary (a window reads where it left the environment). */
  failure(environment: string, action: Action, summary: ServicingResult): ApplicationFailure {
    return ApplicationFailure.create({
      message: this.message(environment, action),
      type: ErrorType.HookRefused,
      nonRetryable: true,
      details: [summary],
    });
  }
}

/**
 * An environment's hooks (temporal.yaml `hooks`) around a servicing operation: each one configured is
 * a step of its own, run through the command driver's runner by the `runHook` activity. A `before`
 * hook that fails vetoes (HookVeto) or, with onFailure `decide`, waits for resume or abort; an `after`
 * hook that fails waits for resume, rollback or abort like any step.
 */
export class Hooks {
  /** Checked on construction, before the first await (`Patches.hooks`): earlier runs have no hook steps. */
  private readonly shaped = hasPatch(Patches.hooks);

  constructor(
    private readonly op: Operation,
    private readonly action: Action,
  ) {}

  /** After init(): the configured hooks of this action appear as pending steps around the others. */
  addSteps(): void {
    for (const when of ['before', 'after'] as const) {
      const hook = this.configured(when);
      if (hook) this.op.record.addStep(hook, when === 'before' ? 'flipFlag' : 'record');
    }
  }

  private configured(when: 'before' | 'after'): HookName | undefined {
    const hook = hookOf(when, this.action);
    return this.shaped && this.op.settings.hooks?.configured.includes(hook) ? hook : undefined;
  }

  /** Skipped with the steps it goes with (the environment already in the requested mode). */
  skip(why: string): void {
    for (const when of ['before', 'after'] as const) {
      const hook = this.configured(when);
      if (hook) this.op.record.skipStep(hook, why);
    }
  }

  async run(when: 'before' | 'after'): Promise<void> {
    const hook = this.configured(when);
    if (!hook) return;
    const call = () => this.op.withRetries(hook, `run hook ${hook}`, () => this.call(hook));
    if (when === 'after' || this.op.settings.hooks?.onFailure === 'decide') {
      await this.op.step(hook, call, () => 'exit 0');
      return;
    }
    // A veto is no failure to decide on: the step fails and the operation ends refused.
    this.op.record.startStep(hook);
    this.op.publish();
    try {
      await call();
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { error } = causeOf(err);
      this.op.record.failStep(hook, error);
      throw new HookVeto(hook, error);
    }
    this.op.record.succeedStep(hook, 'exit 0');
    this.op.publish();
  }

  private call(hook: HookName) {
    const s = this.op.status;
    return this.op.act.runHook.executeWithOptions(
      {
        ...this.op.activityOptions,
        startToCloseTimeout: this.op.settings.hooks!.activityTimeoutMs,
        summary: `hook ${hook}`,
      },
      [
        {
          environment: s.environment,
          hook,
          action: this.action,
          operationId: s.operationId,
          requestedBy: s.requestedBy,
          reason: s.reason,
        },
      ],
    );
  }
}
