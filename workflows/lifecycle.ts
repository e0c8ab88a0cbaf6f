import type { QueryDefinition, SearchAttributeUpdatePair } from '@temporalio/common';
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { z } from 'zod';
import { ErrorType } from '../contract/errors';
import { formatIssues } from '../contract/validation';
import {
  decisionInputSchema,
  describeDecision,
  logQuery,
  searchAttributes,
  type Decision,
  type LifecycleKind,
  type StepName,
} from '../contract/operation';
import { callerIdentity } from './caller';
import { operationFinished, operationStarted } from './metrics';
import type { LogBook } from './operation-record';
import { Patches, now } from './settings';
import { hasPatch } from './shape';

/** What the status of every workflow the product runs has: who asked, why, its state, decisions, result. */
export interface LifecycleStatus {
  operationId: string;
  requestedBy: string;
  reason: string;
  state: string;
  startedAt: string;
  finishedAt?: string;
  result?: string;
  decisions: Decision[];
}

/**
 * A workflow's input, checked as the CLI checks it: a bad one (typed into the Web UI, say) fails the
 * workflow at once, non-retryable, naming each field and showing an input that works.
 */
export function parseWorkflowInput<T extends z.ZodTypeAny>(
  schema: T,
  raw: unknown,
  {
    workflowType,
    example,
    nothing = 'Nothing was changed.',
  }: { workflowType: string; example: unknown; nothing?: string },
): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.nonRetryable(
    `Invalid input for ${workflowType}:\n${formatIssues(parsed.error)}\n` +
      `${nothing} Start it again with an input like ${JSON.stringify(example)}`,
    ErrorType.InvalidInput,
  );
}

/** Why an operator's answer (`{"by", "reason"}` and kin) is not valid input, or undefined when it is. */
export function inputRefusal(
  payload: unknown,
  schema: z.ZodTypeAny = decisionInputSchema,
): string | undefined {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return undefined;
  return `invalid input: ${parsed.error.issues.map((i) => i.message).join('; ')}`;
}

/**
 * An operator's answer as a decision, with the client identity its sender gave (if any); a signed
 * answer is recorded as its signer's, with the key's fingerprint.
 */
export function decisionFrom(
  kind: Decision['kind'],
  payload: unknown,
  step: StepName | null,
  signer?: { person: string; fingerprint: string },
): Decision {
  const { by, reason } = decisionInputSchema.parse(payload);
  const identity = callerIdentity();
  return {
    kind,
    by: signer?.person ?? by,
    reason,
    at: now(),
    step,
    ...(identity && { identity }),
    ...(signer && { fingerprint: signer.fingerprint }),
  };
}

/**
 * The lifecycle every workflow type shares (servicing operations, windows, rollouts): the status and
 * log queries, the log, Current Details in the Web UI, the search attributes, decisions recorded,
 * the metrics of start and finish, and waiting for handlers before the workflow returns. A workflow
 * type adds its steps (Operation: activities, the lock, the history; Rollout: child operations).
 */
export abstract class Lifecycle<S extends LifecycleStatus> {
  /** Whether the custom search attributes are registered on the server (from the worker's settings). */
  protected searchAttributesOn = false;

  constructor(
    readonly status: S,
    private readonly book: LogBook,
    private readonly kind: LifecycleKind,
    statusQuery: QueryDefinition<S>,
    { continued }: { continued: boolean },
  ) {
    if (!continued) operationStarted(kind);
    setHandler(statusQuery, () => this.status, {
      description: 'State, progress, failure and the answers it waits for',
    });
    setHandler(logQuery, () => this.book.log, {
      description: 'The log: steps, attempts, errors, decisions',
    });
  }

  /** The Web UI's Current Details (Markdown). */
  protected abstract details(): string;

  /** Whether the state goes to the MaintenanceState search attribute now. */
  protected statePublished(): boolean {
    return this.searchAttributesOn;
  }

  /** Told of each state change, after the search attribute. */
  protected stateChanged(_state: S['state']): void {}

  publish(): void {
    setCurrentDetails(this.details());
  }

  note(message: string): void {
    this.book.add({ kind: 'note', message });
    this.publish();
  }

  /**
   * The last signal ignored (a refused answer from the Web UI), until an answer is accepted: shown
   * in Current Details, since the Web UI itself says only that the signal was sent.
   */
  protected lastIgnored?: string;

  /** A signal was refused: in the log, and in Current Details until an answer is accepted. */
  signalIgnored(message: string): void {
    this.lastIgnored = message;
    this.note(message);
  }

  /** With `identify`, the identification (with the new state) in the same upsert: a workflow that had not published it. */
  setState(state: S['state'], identify = false): void {
    this.status.state = state;
    if (identify) this.publishSearchAttributes();
    else if (this.statePublished()) upsertSearchAttributes([{ key: searchAttributes.state, value: state }]);
    this.stateChanged(state);
    this.publish();
  }

  /** The environment the workflow works on, for MaintenanceEnvironment; a rollout has none. */
  protected environment(): string | undefined {
    return undefined;
  }

  /** MaintenanceEnvironment (when there is one), Action and State. */
  private identification(): SearchAttributeUpdatePair[] {
    const environment = this.environment();
    return [
      ...(environment ? [{ key: searchAttributes.environment, value: environment }] : []),
      { key: searchAttributes.action, value: this.kind },
      { key: searchAttributes.state, value: this.status.state },
    ];
  }

  /** The identification; an operation publishes it at the lock, or before it when it awaits approval (`list` finds it). */
  publishSearchAttributes(): void {
    if (this.searchAttributesOn) upsertSearchAttributes(this.identification());
  }

  /** Keeps a decision in the status and the log. */
  recordDecision(decision: Decision, step?: StepName): void {
    this.status.decisions.push(decision);
    const why = decision.reason ? `: ${decision.reason}` : '';
    this.book.add({
      kind: 'decision',
      ...(step && { step }),
      message: `${describeDecision(decision)}${why}`,
    });
  }

  /**
   * The result and the final state, with the finish metrics and their search attributes (with
   * `identify`, the identification too: a run that never published it). Runs of this release publish
   * them in one upsert; earlier runs upserted the state, the identification and the result in turn.
   */
  protected conclude(result: NonNullable<S['result']>, finalState: S['state'], identify = false): void {
    const s = this.status;
    s.result = result;
    operationFinished(this.kind, result, s.startedAt, s.finishedAt ?? now());
    if (!hasPatch(Patches.oneFinalUpsert)) {
      this.setState(finalState);
      if (identify) this.publishSearchAttributes();
      if (this.searchAttributesOn) upsertSearchAttributes([{ key: searchAttributes.result, value: result }]);
      return;
    }
    s.state = finalState;
    if (this.searchAttributesOn) {
      const where = identify
        ? this.identification()
        : this.statePublished()
          ? [{ key: searchAttributes.state, value: finalState }]
          : [];
      upsertSearchAttributes([...where, { key: searchAttributes.result, value: result }]);
    }
    this.stateChanged(finalState);
    this.publish();
  }

  /** Waits for running handlers before the workflow returns. */
  async handlersFinished(): Promise<void> {
    await condition(allHandlersFinished);
  }
}
