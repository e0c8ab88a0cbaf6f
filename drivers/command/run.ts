import fs from 'node:fs';
import { asyncLocalStorage } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time';
import type { PlannedCall } from '../capabilities';
import { noteRun } from '../transcript';
import { envReference } from '../../config/env-reference';
import type { Secrets } from '../../config/secrets';
import { commandEnvironment, missingSecrets } from './environment';
import { BoundedOutput, execute, type Outcome } from './process';
import { isHook, type HookName } from '../../contract/hooks';
import { COMMANDS, capabilityOf, type CommandName, type CommandSpec, type RunnerSettings } from './settings';

/** A command of a capability, or one of an environment's hooks (config/hooks.ts). */
export type RunName = CommandName | HookName;

/** `retryable`: may work later; `rejected`: will fail the same way again; `unknownAos`: no such instance. */
export type CommandErrorKind = 'retryable' | 'rejected' | 'unknownAos';

/** A command that failed, or whose answer the driver cannot use; its message has secrets masked. */
export class CommandError extends Error {
  constructor(
    readonly kind: CommandErrorKind,
    readonly command: RunName,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** What a command printed, secrets masked; `…More` counts the bytes past `outputLimitBytes`, not kept. */
export interface CommandOutput {
  stdout: string;
  stdoutMore: number;
  stderr: string;
  stderrMore: number;
}

/** A command's stdout read as JSON: the parsed value with secrets masked, or why there is none. */
export type JsonRead = { value: unknown } | { problem: 'cut' | 'notJson' };

/** How much of the output an error message quotes, and a line of the operation log. */
const ERROR_TAIL_CHARS = 1000;
const NOTE_TAIL_CHARS = 500;

/** The commands that change the environment: what they ran goes to the operation log (hooks too). */
const CHANGES: ReadonlySet<RunName> = new Set<PlannedCall['call']>([
  'writeFlag',
  'restartAos',
  'stopAos',
  'setKey',
]);

/** An argument as one would type it: quoted when it is empty or holds spaces or quotes. */
function quote(arg: string): string {
  return arg !== '' && !/[\s'"]/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command as configured (secrets are in its variables, never in its line). */
export function commandLine(spec: CommandSpec): string {
  return 'argv' in spec ? spec.argv.map(quote).join(' ') : spec.shell;
}

/** `NAME=value ... command`, the way a shell would show a command run with those variables. */
export function withVariables(variables: Record<string, string>, line: string): string {
  return [...Object.entries(variables).map(([k, v]) => `${k}=${quote(v)}`), line].join(' ');
}

/** The end of what a command printed, on one line, and how much of it was not kept. */
function excerpt(text: string, more: number, chars: number): string {
  const t = text.trim().replace(/\s*\n\s*/g, ' | ');
  return `${t.length > chars ? `…${t.slice(-chars)}` : t}${more > 0 ? ` … ${more} more bytes` : ''}`;
}

/** The end of what a failed command said: stderr, or stdout when stderr is empty. */
function lastWords(o: CommandOutput): string {
  if (o.stderr.trim()) return `; stderr: ${excerpt(o.stderr, o.stderrMore, ERROR_TAIL_CHARS)}`;
  if (o.stdout.trim()) return `; stdout: ${excerpt(o.stdout, o.stdoutMore, ERROR_TAIL_CHARS)}`;
  return ', printing nothing';
}

/** How a command ended, as the operation log says it. */
function endedAs(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'exited':
      return outcome.code === null ? `killed by ${outcome.signal}` : `exit ${outcome.code}`;
    case 'timedOut':
      return 'killed after its timeout';
    case 'aborted':
      return 'cancelled';
    case 'notStarted':
      return `not started (${outcome.error.code ?? outcome.error.name})`;
  }
}

function abortError(signal: AbortSignal, shown: string): Error {
  if (signal.reason instanceof Error) return signal.reason;
  return Object.assign(new Error(`${shown} was cancelled`), { name: 'AbortError' });
}

/**
 * Runs the commands of one environment (drivers/command/settings.ts): in an environment of their own
 * (drivers/command/environment.ts) with `${env:NAME}` secrets substituted into their variables, every
 * secret the worker holds masked in all it reports, the outcome in the orchestrator's terms, the
 * commands that change things noted in the operation log, every command logged when it runs inside an
 * activity.
 */
export class CommandRunner {
  constructor(
    private readonly settings: RunnerSettings,
    private readonly environment: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly secrets: Secrets,
  ) {}

  /** The command configured for `name`; an environment without it gets an error saying what to add. */
  spec(name: RunName): CommandSpec {
    const spec = this.settings.commands[name];
    if (spec) return spec;
    if (isHook(name))
      throw new CommandError('rejected', name, `environment ${this.environment} has no hooks.${name}`);
    const capability = capabilityOf(name);
    const needed = Object.keys(COMMANDS[capability]).map((n) => `commands.${n}`);
    throw new CommandError(
      'rejected',
      name,
      `environment ${this.environment} has no ${name} command: add ${needed.join(', ')} (${capability}) ` +
        `to its command settings`,
    );
  }

  /** `name (its command line)`, as messages name a command. */
  shown(name: RunName): string {
    return `${name} (${commandLine(this.spec(name))})`;
  }

  /**
   * Runs `name` with the MAINTENANCE_* `variables`. Resolves with its output when it exits 0; throws a
   * CommandError otherwise, or the signal's reason when cancelled (after its process group has ended).
   */
  async run(name: RunName, variables: Record<string, string>, signal?: AbortSignal): Promise<CommandOutput> {
    return (await this.launch(name, variables, signal)).output;
  }

  /**
   * As `run`, for a command that reports state: its stdout is parsed as JSON first, then secrets are
   * masked in the parsed value (masking the text first could break the JSON, or show what was masked).
   */
  async read(
    name: RunName,
    variables: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ output: CommandOutput; json: JsonRead }> {
    const { output, stdout } = await this.launch(name, variables, signal);
    if (output.stdoutMore > 0) return { output, json: { problem: 'cut' } };
    try {
      return { output, json: { value: this.secrets.maskValue(JSON.parse(stdout) as unknown) } };
    } catch {
      return { output, json: { problem: 'notJson' } };
    }
  }

  /** Runs a command; its output masked, and its stdout as it was (kept here, for `read` to parse). */
  private async launch(
    name: RunName,
    variables: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ output: CommandOutput; stdout: string }> {
    const spec = this.spec(name);
    const shown = this.shown(name);
    const missing = missingSecrets(this.settings, spec, this.env);
    if (missing.length > 0)
      throw new CommandError(
        'rejected',
        name,
        `${shown} was not run: it uses ${missing.map(envReference).join(', ')}, but the worker's ` +
          `environment has no variable ${missing.join(', ')}: set ${missing.length > 1 ? 'them' : 'it'} in the worker's environment`,
      );
    if (signal?.aborted) throw abortError(signal, shown);

    const stdout = new BoundedOutput(this.settings.outputLimitBytes);
    const stderr = new BoundedOutput(this.settings.outputLimitBytes);
    const [file, ...args] = 'argv' in spec ? spec.argv : [spec.shell];
    const started = Date.now();
    const outcome = await execute({
      file,
      args,
      shell: !('argv' in spec),
      cwd: this.settings.workingDirectory,
      env: commandEnvironment(this.settings, spec, this.env, {
        MAINTENANCE_ENVIRONMENT: this.environment,
        ...variables,
      }),
      timeoutMs: msToNumber(spec.timeout ?? this.settings.timeout),
      signal,
      stdout,
      stderr,
    });
    const durationMs = Date.now() - started;
    const out = stdout.read(this.secrets);
    const err = stderr.read(this.secrets);
    const output = { stdout: out.text, stdoutMore: out.more, stderr: err.text, stderrMore: err.more };
    this.report(name, withVariables(variables, commandLine(spec)), outcome, output, durationMs);

    if (outcome.kind === 'aborted') throw abortError(signal!, shown);
    const failure = this.failure(name, spec, shown, outcome, output);
    if (failure) throw failure;
    return { output, stdout: stdout.text() };
  }

  /** Exit 0 is success; a retryable exit code or a timeout may work later; anything else will not. */
  private failure(
    name: RunName,
    spec: CommandSpec,
    shown: string,
    outcome: Exclude<Outcome, { kind: 'aborted' }>,
    output: CommandOutput,
  ): CommandError | undefined {
    switch (outcome.kind) {
      case 'exited': {
        if (outcome.code === 0) return undefined;
        if (outcome.code === null)
          return new CommandError(
            'rejected',
            name,
            `${shown} was killed by ${outcome.signal}${lastWords(output)}`,
          );
        const retryable = (spec.retryableExitCodes ?? this.settings.retryableExitCodes).includes(
          outcome.code,
        );
        return new CommandError(
          retryable ? 'retryable' : 'rejected',
          name,
          `${shown} exited ${outcome.code}${retryable ? ' (retryable)' : ''}${lastWords(output)}`,
        );
      }
      case 'timedOut': {
        const timeout = spec.timeout ?? this.settings.timeout;
        return new CommandError(
          'retryable',
          name,
          `${shown} ran longer than its timeout of ${typeof timeout === 'number' ? `${timeout} ms` : timeout} ` +
            `and was killed with its process group${lastWords(output)}`,
        );
      }
      case 'notStarted':
        return new CommandError(
          'rejected',
          name,
          `${shown} could not start: ${this.whyNotStarted(spec, outcome.error)}`,
        );
    }
  }

  private whyNotStarted(spec: CommandSpec, error: NodeJS.ErrnoException): string {
    const cwd = this.settings.workingDirectory;
    const program = 'argv' in spec ? spec.argv[0] : 'the shell';
    if (!fs.existsSync(cwd)) return `its working directory ${cwd} does not exist`;
    if (error.code === 'ENOENT') return `${program} was not found (ENOENT), on PATH or from ${cwd}`;
    if (error.code === 'EACCES') return `${program} is not executable (EACCES), from ${cwd}`;
    return this.secrets.mask(`${error.code ?? error.name}: ${error.message}`);
  }

  /** One line of the operation log for a command that changes things; a log line for every command. */
  private report(
    name: RunName,
    line: string,
    outcome: Outcome,
    output: CommandOutput,
    durationMs: number,
  ): void {
    const said = [
      output.stdout.trim() ? `stdout: ${excerpt(output.stdout, output.stdoutMore, NOTE_TAIL_CHARS)}` : '',
      output.stderr.trim() ? `stderr: ${excerpt(output.stderr, output.stderrMore, NOTE_TAIL_CHARS)}` : '',
    ].filter(Boolean);
    const summary = this.secrets.mask(
      `${name}: ${line.replace(/\s*\n\s*/g, ' ')} → ${endedAs(outcome)} in ${(durationMs / 1000).toFixed(1)} s${said.length ? `; ${said.join('; ')}` : ''}`,
    );
    const changes = CHANGES.has(name) || isHook(name);
    if (changes) noteRun(summary);
    const failed = !(outcome.kind === 'exited' && outcome.code === 0);
    // `log` of @temporalio/activity exists only inside an activity; elsewhere (tools, tests) nothing is logged.
    asyncLocalStorage.getStore()?.log[changes || failed ? 'info' : 'debug']('Command ran', {
      environment: this.environment,
      command: name,
      summary,
    });
  }
}
