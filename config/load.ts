import fs from 'node:fs';
import path from 'node:path';
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import YAML from 'yaml';
import { formatIssues } from '../contract/validation';
import { configSchema, type Config } from './schema';

export const DEFAULT_CONFIG_FILE = 'temporal.yaml';

/** The validated configuration with paths made absolute and the Temporal profile applied. */
export interface LoadedConfig extends Config {
  /** Absolute path of the file this came from. */
  file: string;
  /** From the Temporal profile or TEMPORAL_API_KEY only: never from temporal.yaml, never logged. */
  apiKey?: string;
  /** TLS and gRPC headers of the Temporal profile, when it has any (they win over `temporal.tls`). */
  profile: Pick<ClientConfigProfile, 'tls' | 'grpcMeta'>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The connection settings as the `temporal` CLI reads them (`@temporalio/envconfig`): the profile
 * named by TEMPORAL_PROFILE (else `default`) of the Temporal config file (TEMPORAL_CONFIG_FILE, else
 * ~/.config/temporalio/temporal.toml; none is fine), then the TEMPORAL_* variables over it.
 */
function temporalProfile(env: NodeJS.ProcessEnv): ClientConfigProfile {
  try {
    return loadClientConfigProfile({ overrideEnvVars: env as Record<string, string> });
  } catch (err) {
    const where = env.TEMPORAL_CONFIG_FILE ? ` (TEMPORAL_CONFIG_FILE=${env.TEMPORAL_CONFIG_FILE})` : '';
    throw new ConfigError(`Cannot read the Temporal connection profile${where}: ${(err as Error).message}`);
  }
}

/**
 * Reads and validates the configuration file once. temporal.yaml gives the connection defaults; the
 * Temporal profile and the TEMPORAL_* variables (see `temporalProfile`) override them, setting by
 * setting. The API key can only come from the profile or TEMPORAL_API_KEY.
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
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // The yaml library refuses aliases that expand past its limit (a "billion laughs" bomb) here.
    const { message } = err as Error;
    const hint = /alias/i.test(message)
      ? ': its aliases (*name) expand too much. Refer to each anchor (&name) only a few times, or write the values out'
      : '';
    throw new ConfigError(`${absolute} is not valid YAML:\n  - ${message}${hint}`);
  }
  const parsed = configSchema.safeParse(data ?? {});
  if (!parsed.success) {
    throw new ConfigError(`${absolute} is not a valid configuration:\n${formatIssues(parsed.error)}`);
  }
  const config = parsed.data;
  const dir = path.dirname(absolute);
  const resolve = (p: string) => path.resolve(dir, p);

  // Each driver's own paths: the fleet's database, the folder commands run in.
  for (const e of Object.values(config.environments)) {
    for (const d of [e, ...Object.values(e.capabilities)]) {
      if (d?.driver === 'fleet') d.database = resolve(d.database);
      if (d?.driver === 'command') d.workingDirectory = resolve(d.workingDirectory);
    }
    if (e.hooks) e.hooks.workingDirectory = resolve(e.hooks.workingDirectory);
  }
  config.devServer.database = resolve(config.devServer.database);
  if (config.history.database) config.history.database = resolve(config.history.database);
  for (const sink of config.events.sinks) if (sink.type === 'file') sink.path = resolve(sink.path);
  const tls = config.temporal.tls;
  if (tls) {
    for (const key of ['serverRootCaCert', 'clientCert', 'clientKey'] as const) {
      if (tls[key]) tls[key] = resolve(tls[key]);
    }
  }
  const profile = temporalProfile(env);
  if (profile.address) config.temporal.address = profile.address;
  if (profile.namespace) config.temporal.namespace = profile.namespace;
  return {
    ...config,
    file: absolute,
    apiKey: profile.apiKey || undefined,
    profile: { tls: profile.tls, grpcMeta: profile.grpcMeta },
  };
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
