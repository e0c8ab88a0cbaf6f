import { DefaultLogger, Runtime, type LogLevel, type MetricsExporterConfig } from '@temporalio/worker';
import pino from 'pino';
import pretty from 'pino-pretty';
import { loadConfigOrExit, type LoadedConfig } from '../config/load';
import { workerSecrets, type Secrets } from '../config/secrets';

/** Paths pino blanks out wherever they appear: secrets never reach the logs. */
const REDACT = [
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
];

/**
 * One pino root: readable on a terminal in development, JSON otherwise. Level from LOG_LEVEL.
 * `destination` is where JSON lines go (stdout unless given). With `secrets`, every secret the worker
 * holds is masked in each message and its fields (the SDK's and the activities' logs come here too).
 */
export function createLogger(
  options: { level?: string; pretty?: boolean; destination?: pino.DestinationStream; secrets?: Secrets } = {},
): pino.Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const usePretty = options.pretty ?? (process.stdout.isTTY && process.env.NODE_ENV !== 'production');
  const { secrets } = options;
  const base: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(secrets && {
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a: unknown) => secrets.maskValue(a)) as typeof args);
        },
      },
    }),
  };
  if (usePretty)
    return pino(base, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  return options.destination ? pino(base, options.destination) : pino(base);
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the SDK's logs (workflow `log`, activity `log`, the worker itself) into the pino root, and
 * turns on the metrics exporter when there is one (the runtime is installed once per process).
 */
export function installRuntimeLogger(logger: pino.Logger, metrics?: MetricsExporterConfig): void {
  Runtime.install({
    telemetryOptions: metrics ? { metrics } : undefined,
    logger: new DefaultLogger('INFO', ({ level, message, meta }) =>
      logger[LEVELS[level]](meta ?? {}, message),
    ),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
}

/**
 * For the worker's entry points: the configuration (or a fatal line and exit code 2), every secret
 * the worker holds, and the logger that masks them, which warns at once of secrets too short to mask
 * cleanly.
 */
export function loadWorkerConfig(file?: string): {
  config: LoadedConfig;
  secrets: Secrets;
  logger: pino.Logger;
} {
  const config = loadConfigOrExit(createLogger(), file);
  const secrets = workerSecrets(config, process.env);
  const logger = createLogger({ secrets });
  for (const warning of secrets.warnings()) logger.warn(warning);
  return { config, secrets, logger };
}
