/** The command driver: each capability is a command run on the worker's host (drivers/command/settings.ts). */
import type { z } from 'zod';
import type { Secrets } from '../../config/secrets';
import type { AosState, DriverErrorKind, EnvironmentDrivers, FlagStore, PlannedCall } from '../capabilities';
import { OUTPUTS, type JsonCommand } from './outputs';
import { CommandError, CommandRunner, commandLine, withVariables, type CommandErrorKind } from './run';
import { commandHelp, type CommandSettings } from './settings';

export { CommandError } from './run';

const KINDS: Record<CommandErrorKind, DriverErrorKind> = {
  retryable: 'unavailable',
  rejected: 'rejected',
  unknownAos: 'unknownAos',
};

/** How much of a command's unusable output an error message quotes. */
const QUOTED_CHARS = 300;

/** The MAINTENANCE_* variables a change's command gets (with MAINTENANCE_ENVIRONMENT, which all get). */
function variablesOf(call: PlannedCall): Record<string, string> {
  switch (call.call) {
    case 'writeFlag':
      return { MAINTENANCE_FLAG: String(call.value) };
    case 'restartAos':
    case 'stopAos':
      return { MAINTENANCE_AOS_ID: call.aosId };
    case 'setKey':
      return { MAINTENANCE_KEY: call.key, MAINTENANCE_KEY_ENABLED: call.enabled ? '1' : '0' };
  }
}

function toState(a: z.infer<typeof OUTPUTS.listAos>[number]): AosState {
  const running = a.status === 'running';
  return { ...a, running, maintenanceMode: running ? a.maintenanceMode : null };
}

export function createCommandDrivers(
  settings: CommandSettings,
  options: {
    environment: string;
    env: NodeJS.ProcessEnv;
    /** Every secret the worker holds (config/secrets.ts): masked in whatever the driver reports. */
    secrets: Secrets;
  },
): EnvironmentDrivers {
  const { secrets } = options;
  const runner = new CommandRunner(settings, options.environment, options.env, secrets);

  /** Runs a command that reports state and reads its JSON; output the driver cannot use is not retried. */
  async function report<C extends JsonCommand>(
    name: C,
    variables: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<z.infer<(typeof OUTPUTS)[C]>> {
    const { output, json } = await runner.read(name, variables, signal);
    const shown = runner.shown(name);
    const stdout = output.stdout.trim();
    const unusable = (what: string) =>
      new CommandError(
        'rejected',
        name,
        `${shown} ${what}; it printed ${JSON.stringify(stdout.slice(0, QUOTED_CHARS))}` +
          `${stdout.length > QUOTED_CHARS ? '…' : ''}, and should print ${commandHelp(name).replace(/^prints /, '')}`,
      );
    if ('problem' in json && json.problem === 'cut')
      throw new CommandError(
        'rejected',
        name,
        `${shown} printed ${output.stdoutMore} bytes more than outputLimitBytes (${settings.outputLimitBytes}), ` +
          `so its JSON cannot be read: raise outputLimitBytes in the environment's command settings`,
      );
    // The parser's own message quotes the text, secrets and all: the masked quote says enough.
    if ('problem' in json) throw unusable('printed output that is not JSON');
    const parsed = OUTPUTS[name].safeParse(json.value);
    if (!parsed.success)
      throw unusable(
        `printed JSON of the wrong shape: ${parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.') || '(the whole)'}: ${i.message}`)
          .join('; ')}`,
      );
    return parsed.data as z.infer<(typeof OUTPUTS)[C]>;
  }

  const list = async (signal?: AbortSignal) => (await report('listAos', {}, signal)).map(toState);

  /**
   * Runs restartAos or stopAos on an AOS that listAos lists (`before`, the caller's listing or one taken
   * here), and returns the AOS as listAos then shows it.
   */
  async function change(
    call: 'restartAos' | 'stopAos',
    aosId: string,
    before: AosState[],
    signal?: AbortSignal,
  ): Promise<AosState> {
    if (!before.some((a) => a.id === aosId))
      throw new CommandError(
        'unknownAos',
        call,
        `${aosId} is not an AOS of environment ${options.environment}: listAos lists ` +
          `${before.map((a) => a.id).join(', ') || 'none'}`,
      );
    await runner.run(call, variablesOf({ capability: 'aosControl', call, aosId }), signal);
    const after = (await list(signal)).find((a) => a.id === aosId);
    if (!after)
      throw new CommandError('retryable', call, `${call} exited 0 but listAos no longer lists ${aosId}`);
    if (call === 'restartAos' && !after.running)
      throw new CommandError('retryable', call, `${call} exited 0 but ${aosId} is ${after.status}`);
    return after;
  }

  const flagStore: FlagStore = {
    readConfigurationMode: async (signal) => (await report('readFlag', {}, signal)).configurationMode,
    async writeConfigurationMode(value, signal) {
      const previous = await flagStore.readConfigurationMode(signal);
      if (previous !== value)
        await runner.run(
          'writeFlag',
          variablesOf({ capability: 'flagStore', call: 'writeFlag', value }),
          signal,
        );
      return { previous };
    },
  };

  return {
    flagStore,
    aosControl: {
      list,
      restart: (id, listed, signal) => change('restartAos', id, listed, signal),
      stop: async (id, signal) => change('stopAos', id, await list(signal), signal),
    },
    probe: {
      // Without probe commands there is nobody to try: verification skips the sign-in checks.
      probeUsers: async (signal) => (settings.commands.probeUsers ? report('probeUsers', {}, signal) : {}),
      async signIn(aosId, user, signal) {
        const { allowed, detail } = await report(
          'signIn',
          { MAINTENANCE_AOS_ID: aosId, MAINTENANCE_USER: user },
          signal,
        );
        return { allowed, detail: detail ?? `${user} ${allowed ? 'signed in' : 'refused'} on ${aosId}` };
      },
    },
    // Without a readImpact command the driver cannot tell who is affected: plans say so.
    ...(settings.commands.readImpact && {
      impact: { read: (until, signal) => report('readImpact', { MAINTENANCE_UNTIL: until }, signal) },
    }),
    license: {
      list: (signal) => report('listKeys', {}, signal),
      async set(key, enabled, signal) {
        await runner.run(
          'setKey',
          variablesOf({ capability: 'license', call: 'setKey', key, enabled }),
          signal,
        );
      },
    },
    describe(call) {
      const spec = settings.commands[call.call];
      if (!spec)
        return `no ${call.call} command: add commands.${call.call} to the environment's command settings`;
      const line = secrets.mask(withVariables(variablesOf(call), commandLine(spec)));
      return call.call === 'writeFlag'
        ? `${line} (skipped when CONFIGURATIONMODE is already ${call.value})`
        : line;
    },
    classify: (err) => (err instanceof CommandError ? KINDS[err.kind] : undefined),
    // Nothing stays open between calls; a command still running belongs to its activity, which awaits it.
    close: () => {},
  };
}
