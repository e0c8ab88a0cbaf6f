/**
 * `${env:NAME}` in temporal.yaml (event sinks, command settings): a secret read from the worker's
 * environment when it is used, so that its value is never in the file, a history or a log.
 */
export const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The variables `text` references. */
export const referencedNames = (text: string): string[] => [...text.matchAll(ENV_REFERENCE)].map((m) => m[1]);

export const hasReference = (text: string): boolean => referencedNames(text).length > 0;

/** How a secret is shown in place of its value. */
export const envReference = (name: string): string => `\${env:${name}}`;

/** The variables `texts` reference that `env` lacks, each once. */
export const missingNames = (texts: string[], env: NodeJS.ProcessEnv): string[] => [
  ...new Set(texts.flatMap(referencedNames).filter((n) => env[n] === undefined)),
];

/** `text` with its references replaced by their values from `env` (`missing` for one that is not set). */
export const substitute = (text: string, env: NodeJS.ProcessEnv, missing = (_name: string) => ''): string =>
  text.replace(ENV_REFERENCE, (_, name: string) => env[name] ?? missing(name));
