import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { LoadedConfig } from './load';

/** Connection options shared by the worker and the CLI, so both reach Temporal the same way. */
export function connectionOptions(config: LoadedConfig): {
  address: string;
  apiKey?: string;
  tls?: TLSConfig;
} {
  const { address, tls } = config.temporal;
  const read = (file?: string) => (file ? fs.readFileSync(file) : undefined);
  return {
    address,
    apiKey: config.apiKey,
    tls:
      tls || config.apiKey
        ? {
            serverNameOverride: tls?.serverName,
            serverRootCACertificate: read(tls?.serverRootCaCert),
            clientCertPair:
              tls?.clientCert && tls.clientKey
                ? { crt: read(tls.clientCert)!, key: read(tls.clientKey)! }
                : undefined,
          }
        : undefined,
  };
}
