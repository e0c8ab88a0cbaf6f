import { missingNames, substitute } from '../../config/env-reference';
import type { CommandSpec, RunnerSettings } from './settings';

/**
 * What a command gets of the worker's environment: only what programs, shells and PowerShell need to
 * run, never the rest of it (TEMPORAL_API_KEY, a sink's token, another environment's secrets). Names
 * match in any case, as Windows has them. Locale variables (LC_*) pass too.
 */
export const INHERITED_VARIABLES = [
  // POSIX
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  // Windows
  'SystemRoot',
  'SystemDrive',
  'windir',
  'ComSpec',
  'PATHEXT',
  'OS',
  'PROCESSOR_ARCHITECTURE',
  'NUMBER_OF_PROCESSORS',
  'COMPUTERNAME',
  'USERNAME',
  'USERDOMAIN',
  'USERPROFILE',
  'HOMEDRIVE',
  'HOMEPATH',
  'APPDATA',
  'LOCALAPPDATA',
  'ProgramData',
  'ProgramFiles',
  'ProgramFiles(x86)',
  'ProgramW6432',
  'CommonProgramFiles',
  'CommonProgramFiles(x86)',
  'CommonProgramW6432',
  'ALLUSERSPROFILE',
  'PUBLIC',
  'PSModulePath',
] as const;

const INHERITED = new Set(INHERITED_VARIABLES.map((n) => n.toUpperCase()));
const inherited = (name: string) => INHERITED.has(name.toUpperCase()) || /^LC_/i.test(name);

/** The variables of the driver's settings and of the command: where its secrets are. */
const declared = (settings: Pick<RunnerSettings, 'env'>, spec: CommandSpec) => ({
  ...settings.env,
  ...spec.env,
});

/** The variables a command's settings reference (`${env:NAME}`) that the worker's environment lacks. */
export function missingSecrets(
  settings: Pick<RunnerSettings, 'env'>,
  spec: CommandSpec,
  env: NodeJS.ProcessEnv,
): string[] {
  return missingNames(Object.values(declared(settings, spec)), env);
}

/**
 * A command's whole environment: the inherited variables of the worker's, the variables its settings
 * declare (secrets substituted), then what it acts on (MAINTENANCE_*). Call `missingSecrets` first.
 */
export function commandEnvironment(
  settings: Pick<RunnerSettings, 'env'>,
  spec: CommandSpec,
  env: NodeJS.ProcessEnv,
  maintenance: Record<string, string>,
): Record<string, string> {
  const base = Object.entries(env).filter(
    (e): e is [string, string] => e[1] !== undefined && inherited(e[0]),
  );
  const own = Object.entries(declared(settings, spec)).map(([k, v]) => [k, substitute(v, env)]);
  return { ...Object.fromEntries([...base, ...own]), ...maintenance };
}
