import os from 'node:os';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../../config/load';
import {
  describeDecision,
  environmentNameSchema,
  type Decision,
  type DecisionKind,
  type OperationKind,
  type OperationStatus,
  type Result,
  type ServicingInput,
  statusQuery,
} from '../../contract/operation';
import { formatPlan, type OperationPlan } from '../../contract/plan';
import type { WindowInput } from '../../contract/window';
import { ErrorType } from '../../contract/errors';
import {
  formatApprovalNeeded,
  formatDecisionNeeded,
  formatProgress,
  formatStep,
  formatWindow,
  progressBar,
  terminalText,
} from '../format';
import {
  ExitCode,
  NO_WORKER_AFTER_MS,
  OperatorError,
  connect,
  decide,
  follow,
  isConnectionLost,
  planOperation,
  requireEnvironment,
  resolveOperation,
  type FollowOutcome,
} from '../operations';
import type { ApprovalKind } from '../../contract/approval';
import { signedAnswer, signedStart, signer, signingKey } from '../signing';

/** What every command shares: output, argument parsers, config, the client, how outcomes end. */

interface GlobalOptions {
  config?: string;
}

/** Everything the CLI prints goes through terminalText: outside text cannot drive the terminal. */
export const out = (text: string): void =>
  void process.stdout.write(`${terminalText(text, { lines: true })}\n`);
export const err = (text: string): void =>
  void process.stderr.write(`${terminalText(text, { lines: true })}\n`);
export const me = () => os.userInfo().username;

export function environmentArg(value: string): string {
  const parsed = environmentNameSchema.safeParse(value);
  if (!parsed.success) {
    throw new OperatorError(
      `Invalid environment "${value}": ${parsed.error.issues[0].message}.`,
      ExitCode.InvalidInput,
    );
  }
  return parsed.data;
}

/** "90" means minutes, as in workflow inputs; anything else goes on as an ISO 8601 duration. */
export function durationArg(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** A comma-separated option that may also be repeated. */
export function listArg(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

export function config(program: Command, environment?: string): LoadedConfig {
  const loaded = loadConfig(program.opts<GlobalOptions>().config);
  if (environment) requireEnvironment(loaded, environment);
  return loaded;
}

export async function withClient<T>(
  program: Command,
  environment: string | undefined,
  run: (ctx: { config: LoadedConfig; client: Client }) => Promise<T>,
): Promise<T> {
  const loaded = config(program, environment);
  const { client, close } = await connect(loaded);
  try {
    return await run({ config: loaded, client });
  } catch (e) {
    if (isConnectionLost(e)) {
      throw new OperatorError(
        `Lost the connection to Temporal at ${loaded.temporal.address} (${lostBecause(e)}). ` +
          'Is the server still running? Once it is back, `maint list` shows where each environment stands.',
        ExitCode.Unreachable,
      );
    }
    throw e;
  } finally {
    await close();
  }
}

/** The reason gRPC gives, without its wrapping ("No connection established. Last error: ..."). */
function lostBecause(e: unknown): string {
  const details = String((e as { cause?: { details?: unknown } }).cause?.details ?? (e as Error).message);
  const reason = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note|$)/m.exec(details)?.[1];
  return (reason ?? details).split('\n')[0];
}

/**
 * Prints how a followed operation ended and turns it into an exit code: 0 when it ended as the
 * command meant (Succeeded for enable/disable/resume, RolledBack for rollback, Aborted for abort).
 */
function report(
  outcome: FollowOutcome,
  json: boolean,
  print: (s: string) => void,
  expected: Result = 'Succeeded',
): number {
  if (outcome.kind === 'needsDecision') {
    if (json) out(JSON.stringify(outcome.status, null, 2));
    else print(formatDecisionNeeded(outcome.status));
    return ExitCode.NeedsDecision;
  }
  if (outcome.kind === 'awaitingApproval') {
    if (json) out(JSON.stringify(outcome.status, null, 2));
    else print(formatApprovalNeeded(outcome.status));
    return ExitCode.AwaitingApproval;
  }
  if (outcome.kind === 'failed') {
    const asMeant = expected === 'Aborted' && outcome.type === ErrorType.OperationAborted;
    if (json) out(JSON.stringify(outcome, null, 2));
    else (asMeant ? print : err)(outcome.message);
    if (asMeant) return ExitCode.Ok;
    // Refused with nothing changed, worth trying again later: busy, frozen, or vetoed by a before hook.
    const refused = (
      [ErrorType.EnvironmentBusy, ErrorType.EnvironmentFrozen, ErrorType.HookRefused] as string[]
    ).includes(outcome.type ?? '');
    return refused ? ExitCode.Conflict : ExitCode.OperationFailed;
  }
  if (outcome.kind === 'reached') {
    if (json) out(JSON.stringify(outcome.status, null, 2));
    else print(formatWindow(outcome.status) ?? formatProgress(outcome.status));
    return ExitCode.Ok;
  }
  const r = outcome.result;
  if (json) out(JSON.stringify(r, null, 2));
  else if ('window' in r) {
    print(r.steps.map(formatStep).join('\n'));
    print(r.summary.map((line) => `  ${line}`).join('\n'));
    print(`Maintenance window on ${r.environment}: ${r.result}.`);
  } else if (r.result === 'Rejected') {
    print(r.steps.map(formatStep).join('\n'));
    print(`${r.environment}: Rejected, nothing was changed (${describeApproval(r.decisions)}).`);
  } else {
    print(`${progressBar(100)}  ${r.state}`);
    print(r.steps.map(formatStep).join('\n'));
    const how = r.alreadyInMode ? 'already in the requested mode, nothing changed' : r.result;
    print(`${r.environment} is ${r.state} (${how}).`);
  }
  return r.result === expected ? ExitCode.Ok : ExitCode.OperationFailed;
}

/**
 * Follows an operation for a command and reports how it ended (see `report`). Says so on stderr
 * when no worker picks the operation up, and on Ctrl-C stops following, leaving it running.
 */
export async function followOperation(
  handle: WorkflowHandle,
  {
    json,
    expected,
    until,
    environment,
  }: { json: boolean; expected?: Result; until?: (s: OperationStatus) => boolean; environment?: string },
): Promise<number> {
  const print = json ? err : out;
  const id = handle.workflowId;
  let stop = (): void => undefined;
  const interrupted = new Promise<never>((_, reject) => {
    stop = () =>
      reject(
        new OperatorError(
          `Stopped following ${id}; the operation keeps running. Follow it again with \`maint watch ${id}\`` +
            `${environment ? ` or see it with \`maint status ${environment}\`` : ''}.`,
          ExitCode.Interrupted,
        ),
      );
  });
  process.once('SIGINT', stop);
  try {
    const outcome = await Promise.race([
      interrupted,
      follow(
        handle,
        (s) => {
          environment ??= s.environment;
          print(formatProgress(s));
        },
        {
          until,
          onNoWorker: (taskQueue) =>
            err(
              `No worker has picked up ${id} after ${NO_WORKER_AFTER_MS / 1000}s. Is a worker running on task queue ` +
                `"${taskQueue}"? Start one with \`npm start\` or \`npm run worker\`. Still waiting (Ctrl-C stops waiting; the operation stays queued).`,
            ),
        },
      ),
    ]);
    return report(outcome, json, print, expected);
  } finally {
    process.off('SIGINT', stop);
  }
}

/** The --no-wait answer of commands that start an operation: its IDs, as JSON with --json. */
export function started(handle: WorkflowHandle & { firstExecutionRunId: string }, json: boolean): number {
  if (json) out(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }));
  return ExitCode.Ok;
}

/** What `startOptions` gives a command's action. */
export interface StartOpts {
  reason: string;
  requestedBy: string;
  wait: boolean;
  json?: boolean;
  dryRun?: boolean;
  key?: string;
  printInput?: boolean;
}

/** What a workflow start names: the form fields of the Web UI's Start Workflow. */
export interface StartTarget {
  workflowId: string;
  workflowType: string;
}

/**
 * A start's input as it is sent: where a target is protected, signed with the requester's SSH key
 * (the requester is the key's owner), else as given.
 */
export function prepareStart<T extends { requestedBy: string }>(
  c: LoadedConfig,
  opts: Pick<StartOpts, 'key'>,
  target: StartTarget,
  input: T,
  targets: string[],
): T {
  if (!targets.some((e) => c.environments[e]?.protected)) return input;
  const key = signingKey(c, opts.key);
  const requestedBy = signer(key, input.requestedBy, {
    typed: input.requestedBy !== me(),
    option: '--requested-by',
  });
  return signedStart(c, key, target, { ...input, requestedBy });
}

/** `--print-input`: the Start Workflow form's fields on stderr, the input to paste on stdout; starts nothing. */
export function printStart(c: LoadedConfig, target: StartTarget, input: object, json: boolean): number {
  const taskQueue = c.temporal.taskQueue;
  if (json) out(JSON.stringify({ ...target, taskQueue, input }, null, 2));
  else {
    const signed = 'signature' in input ? ' (signed: start it within 15 minutes)' : '';
    err(
      `In the Web UI, Start Workflow with Workflow ID ${target.workflowId}, Task Queue ${taskQueue}, ` +
        `Workflow Type ${target.workflowType} and this input${signed}:`,
    );
    out(JSON.stringify(input));
  }
  return ExitCode.Ok;
}

/** The options of every command that answers an operation: the key, and printing instead of sending. */
export function answerOptions(command: Command): Command {
  return command
    .option(
      '--key <file>',
      'SSH key that signs on protected environments (default: MAINTENANCE_SIGNING_KEY, signing.key, ~/.ssh/id_ed25519)',
    )
    .option(
      '--print-signal',
      'print the (signed) input to paste into the Web UI as a signal, and send nothing',
    );
}

/**
 * An answer's input as it is sent: on a protected environment, signed with the sender's SSH key for
 * this run and its next answer number (`by` is the key's owner), else as given.
 */
export async function preparedAnswer<T extends { by: string }>(
  c: LoadedConfig,
  handle: WorkflowHandle,
  answer: string,
  payload: T,
  keyOption?: string,
): Promise<T> {
  const s = (await handle.query(statusQuery)) as Partial<OperationStatus>;
  if (!s.environment || !c.environments[s.environment]?.protected) return payload;
  const key = signingKey(c, keyOption);
  const by = signer(key, payload.by, { typed: payload.by !== me(), option: '--by' });
  return signedAnswer(c, key, handle, answer, { payload: { ...payload, by }, answers: s.answers ?? 0 });
}

/** `--print-signal`: which signal to send to which workflow on stderr, its input on stdout. */
export function printSignal(handle: WorkflowHandle, name: string, payload: object, json: boolean): number {
  if (json) out(JSON.stringify({ workflowId: handle.workflowId, signal: name, input: payload }, null, 2));
  else {
    err(`In the Web UI, open ${handle.workflowId}, Send a Signal named ${name} with this input:`);
    out(JSON.stringify(payload));
  }
  return ExitCode.Ok;
}

/** What a window does to the configuration keys, for commands that open windows. */
export interface KeyChangeOpts {
  enable: string[];
  disable: string[];
}
export function keyChangeOptions(command: Command, forWhat = ''): Command {
  return command
    .option('--enable <keys>', `${forWhat}configuration keys to turn on, comma-separated`, listArg, [])
    .option('--disable <keys>', `${forWhat}configuration keys to turn off, comma-separated`, listArg, []);
}

/** The options of every command that starts an operation. */
export function startOptions(command: Command, noWait: string): Command {
  return command
    .option('-r, --reason <text>', 'why (kept in the environment history)', '')
    .option(
      '-u, --requested-by <name>',
      "who asks (default: your user name; on a protected environment, your signing key's owner)",
      me(),
    )
    .option('--no-wait', noWait)
    .option('--json', 'print JSON instead of text')
    .option(
      '--key <file>',
      'SSH key that signs the request on protected environments (default: MAINTENANCE_SIGNING_KEY, signing.key, ~/.ssh/id_ed25519)',
    )
    .option(
      '--print-input',
      'print the (signed) input to paste into the Web UI Start Workflow form, and start nothing',
    );
}

/** `--dry-run` of the commands that start an operation (`maint plan` runs the same). */
export function dryRunOption(command: Command): Command {
  return command.option(
    '--dry-run',
    'print what it would do, read with read-only calls, and change nothing (as `maint plan`)',
  );
}

/**
 * `maint plan` and `--dry-run`: prints the plan; exit 0, or 4 (conflict) when the operation would be
 * refused now (busy, unknown configuration key).
 */
export async function showPlan(
  client: Client,
  config: LoadedConfig,
  kind: OperationKind,
  input: ServicingInput | WindowInput,
  json: boolean,
): Promise<number> {
  let plan: OperationPlan;
  try {
    plan = await planOperation(client, config, kind, input);
  } catch (e) {
    if (!(e instanceof WorkflowFailedError)) throw e;
    throw new OperatorError(`The dry run failed: ${e.cause?.message ?? e.message}`, ExitCode.OperationFailed);
  }
  out(json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
  return plan.refusal ? ExitCode.Conflict : ExitCode.Ok;
}

/** "reject by bob (client maint-cli bob@host)", or the timeout, from a rejected operation's decisions. */
function describeApproval(decisions: Decision[]): string {
  const last = decisions[decisions.length - 1];
  return last ? `${describeDecision(last)}${last.reason ? `: ${last.reason}` : ''}` : 'no approval';
}

/** What a command that answers an operation says about itself. */
export interface AnswerText {
  description: string;
  target: string;
  by: string;
}

/**
 * `resume`, `approve` and their kin: sends the answer as an update (its acknowledgement, or the
 * refusal, is printed), then follows the operation unless `--no-wait`.
 */
export function answerCommand(
  program: Command,
  kind: DecisionKind | ApprovalKind | 'pause',
  text: AnswerText,
  followAfter: (handle: WorkflowHandle, json: boolean) => Promise<number>,
): void {
  const command = program
    .command(kind)
    .description(text.description)
    .argument('<target>', text.target)
    .option('-r, --reason <text>', 'why (kept in the log and the history)', '')
    .option('-u, --by <name>', text.by, me())
    .option('--no-wait', 'return once the answer is accepted')
    .option('--json', 'print JSON instead of text');
  answerOptions(command).action(
    async (target: string, opts: AnswerOpts & { wait: boolean; json?: boolean }) => {
      process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target);
        const payload = await preparedAnswer(c, handle, kind, { by: opts.by, reason: opts.reason }, opts.key);
        if (opts.printSignal) return printSignal(handle, kind, payload, !!opts.json);
        const ack = await decide(handle, kind, payload);
        (opts.json ? err : out)(`${handle.workflowId}: ${ack.message}.`);
        if (opts.wait) return followAfter(handle, !!opts.json);
        if (opts.json) out(JSON.stringify(ack, null, 2));
        return ExitCode.Ok;
      });
    },
  );
}

/** What `answerOptions` and the `--by`/`--reason` options give a command's action. */
export interface AnswerOpts {
  reason: string;
  by: string;
  key?: string;
  printSignal?: boolean;
}
