/**
 * `${env:NAME}` in temporal.yaml (event sinks, command settings): a secret read from the worker's
 * environment when it is used, so that its value is never in the file, a history or a log.
 */
export const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The variables `text` references. */
export const referencedNames = (text: string): string[] => [...text.matchAll(ENV_REFERENCE)].map((m) => m[1]);

/** How a secret is shown in place of its value. */
export const envReference = (name: string): string => `\${env:${name}}`;
