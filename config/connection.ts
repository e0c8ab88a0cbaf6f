import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { toClientOptions } from '@temporalio/envconfig';
import type { LoadedConfig } from './load';

/**
 * Connection options shared by the worker and the CLI, so both reach Temporal the same way. TLS:
 * the Temporal profile's (config file or TEMPORAL_TLS_* variables) if it has any, else
 * `temporal.tls` of temporal.yaml, else on when there is an API key.
 */
export function connectionOptions(config: LoadedConfig): {
  address: string;
  apiKey?: string;
  tls?: TLSConfig | boolean;
  metadata?: Record<string, string>;
} {
  const { address, tls } = config.temporal;
  const read = (file?: string) => (file ? fs.readFileSync(file) : undefined);
  const fromProfile = toClientOptions({ ...config.profile, apiKey: config.apiKey }).connectionOptions;
  const fromFile: TLSConfig | undefined = tls && {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: read(tls.serverRootCaCert),
    clientCertPair:
      tls.clientCert && tls.clientKey ? { crt: read(tls.clientCert)!, key: read(tls.clientKey)! } : undefined,
  };
  return {
    address,
    apiKey: config.apiKey,
    tls: (config.profile.tls ? fromProfile.tls : undefined) ?? fromFile ?? (config.apiKey ? true : undefined),
    metadata: config.profile.grpcMeta,
  };
}
