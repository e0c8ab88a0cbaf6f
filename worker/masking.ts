import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Secrets } from '../config/secrets';

/**
 * Every activity's result and thrown error (message, stack, details, cause) leave the worker with the
 * secrets it holds masked, whatever driver or code produced them: both go to histories, and from there
 * to events, plans, the CLI and the Web UI.
 */
export function maskingInterceptor(secrets: Secrets): ActivityInterceptorsFactory {
  return () => ({
    inbound: {
      async execute(input, next) {
        try {
          return secrets.maskValue(await next(input));
        } catch (err) {
          throw secrets.maskValue(err);
        }
      },
    },
  });
}
