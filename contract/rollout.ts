/** The rollout's contract: one operation per environment over many, with concurrency and error limits. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import {
  answerDefinitions,
  type BusyPolicy,
  environmentNameSchema,
  servicingInputSchema,
  type Decision,
  type ErrorInfo,
  type Result,
} from './operation';
import type { RequesterProof } from './approval';
import { durationSchema, windowInputSchema } from './window';
import { matches } from './validation';

export const ROLLOUT_WORKFLOW_TYPE = 'maintenanceRollout';
/** Below this, one run's history stays far under Temporal's limits (about 8 events per environment), so no continue-as-new. */
export const MAX_ROLLOUT_TARGETS = 1000;
export const ROLLOUT_ACTIONS = ['enable', 'disable', 'window'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** A number of environments, or a percentage of the targets ("25%"), as AWS Systems Manager takes them. */
export type Limit = number | `${number}%`;

const limitSchema = (what: string, least: number, example: string) => {
  const message = `${what} is a whole number of environments (at least ${least}) or a percentage of the targets, e.g. ${example}`;
  return z
    .union([z.number().int(message).min(least, message), z.string().refine(matches(/^\d{1,3}%$/), message)], {
      errorMap: () => ({ message }),
    })
    .refine(
      (v) => typeof v === 'number' || (Number(v.slice(0, -1)) >= least && Number(v.slice(0, -1)) <= 100),
      {
        message: `${what} as a percentage is ${least}% to 100%, e.g. ${example}`,
      },
    )
    .transform((v) => v as Limit);
};

/**
 * How many a limit allows out of `targets`, rounded as Systems Manager does: a percentage is rounded
 * down, and a concurrency is at least 1 (so "10%" of 5 still runs one at a time) while an error
 * limit may be 0 (10% of 5: the first error stops new starts).
 */
export function resolveLimit(limit: Limit, targets: number, { atLeastOne }: { atLeastOne: boolean }): number {
  const n = typeof limit === 'number' ? limit : Math.floor((Number(limit.slice(0, -1)) * targets) / 100);
  return atLeastOne ? Math.max(1, n) : n;
}

/** A label of environments in temporal.yaml (`tags: [sandbox]`) that a rollout can name. */
export const tagSchema = z
  .string()
  .refine(matches(/^[a-z0-9][a-z0-9-]{0,62}$/), 'tags are lower-case letters, digits and dashes');

export const rolloutInputSchema = servicingInputSchema
  .omit({ environment: true })
  .extend({
    action: z.enum(ROLLOUT_ACTIONS, {
      errorMap: () => ({ message: 'action is "enable", "disable" or "window"' }),
    }),
    environments: z
      .array(environmentNameSchema)
      .min(1, 'name at least one environment, or give a tag instead')
      .max(MAX_ROLLOUT_TARGETS, `at most ${MAX_ROLLOUT_TARGETS} environments per rollout: split the list`)
      .refine((e) => new Set(e).size === e.length, 'an environment is named twice')
      .optional(),
    tag: tagSchema.optional(),
    maxConcurrency: limitSchema('maxConcurrency', 1, '10 or "25%"').default(1),
    maxErrors: limitSchema('maxErrors', 0, '0 or "10%"').default(0),
    onBusy: servicingInputSchema.shape.onBusy.unwrap().default('skip'),
    /** Only for action window: how long each window stays open, and its key changes. */
    duration: durationSchema.optional(),
    changes: windowInputSchema.shape.changes.optional(),
    /** Only for action window: no member starts in the last `cutoff` of the rollout's window (its start plus duration). */
    cutoff: durationSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!r.environments === !r.tag)
      ctx.addIssue({
        code: 'custom',
        path: ['environments'],
        message: 'give either "environments": ["a", "b"] or "tag": "sandbox", not both and not neither',
      });
    if (r.action === 'window' && r.duration === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['duration'],
        message: 'a window rollout needs "duration", e.g. "PT2H" or a number of minutes',
      });
    if (r.cutoff !== undefined && r.duration !== undefined && r.cutoff >= r.duration)
      ctx.addIssue({
        code: 'custom',
        path: ['cutoff'],
        message: 'the cutoff must be shorter than the duration: no member could start; give a shorter cutoff',
      });
    if (r.action !== 'window' && (r.duration !== undefined || r.changes || r.cutoff !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: '"duration", "changes" and "cutoff" go with action "window" only',
      });
  });
export type RolloutInput = z.input<typeof rolloutInputSchema>;
export type ValidRolloutInput = z.infer<typeof rolloutInputSchema>;

export const EXAMPLE_ROLLOUT_INPUT: RolloutInput = {
  action: 'enable',
  tag: 'sandbox',
  maxConcurrency: '25%',
  maxErrors: 0,
  requestedBy: 'jane.doe',
  reason: 'Enable configuration keys on every sandbox',
};

/** Where an environment's operation stands in the rollout. */
export const ROW_STATES = ['Pending', 'Running', 'AwaitingDecision', 'Done'] as const;
export type RowState = (typeof ROW_STATES)[number];
/** How it ended: an operation's result, Skipped (busy or frozen), or NotStarted (limit reached, aborted). */
export type RowResult = Result | 'Skipped' | 'NotStarted';

export interface RolloutRow {
  environment: string;
  state: RowState;
  result?: RowResult;
  /** The child workflow: `maint watch`, `logs`, `resume` take this ID. */
  workflowId?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  error?: ErrorInfo;
  /** This environment counted as an error (it failed, or waits for a decision). */
  countedAsError?: boolean;
  /** Its operation has changed nothing yet: it waits for the environment's lock or for approval. */
  waiting?: ChildWaiting;
}

export const ROLLOUT_STATES = ['Running', 'Paused', 'Draining', 'Finished'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export interface RolloutCounts {
  targets: number;
  succeeded: number;
  failed: number;
  skipped: number;
  notStarted: number;
  inFlight: number;
  errors: number;
}

export interface RolloutStatus {
  operationId: string;
  action: RolloutAction;
  requestedBy: string;
  reason: string;
  state: RolloutState;
  /** The tag or the list the targets came from. */
  selection: string;
  maxConcurrency: number;
  maxErrors: number;
  onBusy: BusyPolicy;
  startedAt: string;
  finishedAt?: string;
  result?: Result;
  /** Why no new operation starts any more: the error limit, or an abort. */
  stopped?: string;
  counts: RolloutCounts;
  environments: RolloutRow[];
  decisions: Decision[];
  /** When a target is protected: who asked for the rollout, as proved (a signed start or its schedule). */
  requester?: RequesterProof;
}

export type RolloutResult = Pick<
  RolloutStatus,
  'operationId' | 'action' | 'startedAt' | 'finishedAt' | 'stopped' | 'counts' | 'environments'
> & { result: Result };

/** The rollout's status query, under the wire name every workflow of the product answers. */
export const rolloutStatusQuery = defineQuery<RolloutStatus>('status');

/** pause, resume and abort of a rollout: updates (answer or refusal) and signals (Web UI) of the same names. */
export const ROLLOUT_COMMANDS = ['pause', 'resume', 'abort'] as const;
export type RolloutCommand = (typeof ROLLOUT_COMMANDS)[number];
export const ROLLOUT_COMMAND_HELP: Record<RolloutCommand, string> = {
  pause: 'start no new environment until resumed; running ones go on',
  resume: 'start new environments again',
  abort:
    'start no new environment; running ones finish (each can be decided on by itself), those still waiting for the lock or approval are cancelled',
};
export const { updates: rolloutUpdates, signals: rolloutSignals } = answerDefinitions(ROLLOUT_COMMANDS);

/** The memo key a rollout sets on its children (a window passes it to its own): the rollout's workflow ID. */
export const ROLLOUT_MEMO = 'maintenanceRollout';

/** What a member waits for before it changes anything: a stop of the rollout cancels it then. */
export type ChildWaiting = 'lock' | 'approval';

/**
 * From a child operation (or a window's child) to its rollout: it waits for a decision now, or not any
 * more; or (with `waiting`) it waits for the lock or approval, or not any more (false).
 */
export interface ChildReport {
  environment: string;
  workflowId: string;
  awaitingDecision: boolean;
  error?: ErrorInfo;
  waiting?: ChildWaiting | false;
}
export const childReportSignal = defineSignal<[ChildReport]>('childOperation');

/**
 * A child's workflow ID derives from its rollout's: `<rollout id>-<environment>.op`. The suffix keeps
 * it apart from a window member's own children (`<member>-enable`): with environments `x` and
 * `x-enable`, the window of `x` starts `a-x.op-enable`, never the member `a-x-enable.op`. Rollouts
 * started before it (`legacy`) keep `<rollout id>-<environment>`.
 */
export function rolloutChildId(rolloutId: string, environment: string, legacy = false): string {
  return legacy ? `${rolloutId}-${environment}` : `${rolloutId}-${environment}.op`;
}
