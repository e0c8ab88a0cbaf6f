import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { formatIssues } from '../contract/validation';
import { configSchema, type Config } from './schema';

export const DEFAULT_CONFIG_FILE = 'temporal.yaml';

/** The validated configuration with paths made absolute and environment overrides applied. */
export interface LoadedConfig extends Config {
  /** Absolute path of the file this came from. */
  file: string;
  /** From TEMPORAL_API_KEY only: never from the file, never logged. */
  apiKey?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates the configuration file once. Standard Temporal variables override the file:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY (the API key can only come from there).
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const absolute = path.resolve(file ?? env.MAINTENANCE_CONFIG ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch {
    throw new ConfigError(
      `Cannot read the configuration file ${absolute}. Create it, or pass --config <file>.`,
    );
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${absolute} is not valid YAML:\n  - ${doc.errors[0].message}`);
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new ConfigError(`${absolute} is not a valid configuration:\n${formatIssues(parsed.error)}`);
  }
  const config = parsed.data;
  const dir = path.dirname(absolute);
  const resolve = (p: string) => path.resolve(dir, p);

  for (const e of Object.values(config.environments)) e.database = resolve(e.database);
  config.devServer.database = resolve(config.devServer.database);
  if (config.history.database) config.history.database = resolve(config.history.database);
  for (const sink of config.events.sinks) if (sink.type === 'file') sink.path = resolve(sink.path);
  const tls = config.temporal.tls;
  if (tls) {
    for (const key of ['serverRootCaCert', 'clientCert', 'clientKey'] as const) {
      if (tls[key]) tls[key] = resolve(tls[key]);
    }
  }
  if (env.TEMPORAL_ADDRESS) config.temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) config.temporal.namespace = env.TEMPORAL_NAMESPACE;
  return { ...config, file: absolute, apiKey: env.TEMPORAL_API_KEY || undefined };
}

/** For entry points: the configuration, or a fatal log line naming what is wrong and exit code 2. */
export function loadConfigOrExit(logger: { fatal(message: string): void }, file?: string): LoadedConfig {
  try {
    return loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    logger.fatal(err.message);
    process.exit(2);
  }
}
