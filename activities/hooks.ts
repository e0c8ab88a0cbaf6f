import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { Config } from '../config/schema';
import { hookRunnerSettings } from '../config/hooks';
import { Secrets } from '../config/secrets';
import { ErrorType } from '../contract/errors';
import type { HookName } from '../contract/hooks';
import type { Action } from '../contract/operation';
import { CommandError, CommandRunner } from '../drivers/command/run';
import { heartbeating, requireEnvironment, transcribed } from './guards';

export interface HookDeps {
  environments: Config['environments'];
  /** The worker's environment variables, for the `${env:NAME}` secrets of the hooks' variables. */
  env?: NodeJS.ProcessEnv;
  /** Every secret the worker holds: masked in what the hooks print, in the log and in errors. */
  secrets?: Secrets;
}

export interface HookRequest {
  environment: string;
  hook: HookName;
  action: Action;
  operationId: string;
  requestedBy: string;
  reason: string;
}

/** The hooks of temporal.yaml (`hooks:` of an environment), run through the command driver's runner. */
export function createHookActivities(deps: HookDeps) {
  const runners = new Map<string, CommandRunner>();
  const runnerOf = (environment: string): CommandRunner => {
    let runner = runners.get(environment);
    const hooks = deps.environments[environment].hooks;
    if (!hooks) throw ApplicationFailure.nonRetryable(`${environment} has no hooks`, ErrorType.InvalidInput);
    runner ??= new CommandRunner(
      hookRunnerSettings(hooks),
      environment,
      deps.env ?? {},
      deps.secrets ?? new Secrets([]),
    );
    runners.set(environment, runner);
    return runner;
  };

  return {
    /**
     * Runs one hook; what it ran and printed (masked) goes to the operation log. Its failure says
     * whether retrying can help: a retryable exit code or a timeout may, any other exit will not.
     */
    async runHook(request: HookRequest): Promise<{ hook: HookName; transcript?: string[] }> {
      const { environment, hook } = request;
      requireEnvironment(deps.environments, environment);
      const runner = runnerOf(environment);
      return transcribed(async () => {
        try {
          await heartbeating((signal) =>
            runner.run(
              hook,
              {
                MAINTENANCE_HOOK: hook,
                MAINTENANCE_ACTION: request.action,
                MAINTENANCE_OPERATION: request.operationId,
                MAINTENANCE_REQUESTED_BY: request.requestedBy,
                MAINTENANCE_REASON: request.reason,
              },
              signal,
            ),
          );
        } catch (err) {
          if (err instanceof CancelledFailure || !(err instanceof CommandError)) throw err;
          throw ApplicationFailure.create({
            message: `hook ${err.message}`,
            type: ErrorType.HookFailed,
            nonRetryable: err.kind !== 'retryable',
          });
        }
        return { hook };
      });
    },
  };
}
