/** The HTTP API of one AOS: health, sign-in and the License configuration page. */
import type { Logger } from 'pino';
import type { FleetDatabase } from './database';
import { findUser, listConfigurationKeys, setConfigurationKey, whenNotBusy } from './database';
import type { Route } from './http';
import { HttpError, readBody } from './http';
import { decideLicenseEdit, decideSignIn } from './rules';
import type { AosHealth, ConfigurationKey, ConfigurationKeyList, SignInResponse } from './schemas';
import { configurationKeyUpdateSchema, signInRequestSchema } from './schemas';

export interface AosContext {
  /** Identity and the maintenance mode read once at start; never re-read while the AOS runs. */
  health: AosHealth;
  /** Without a busy timeout of its own: every query goes through whenNotBusy. */
  db: FleetDatabase;
  logger: Logger;
  /** Consumes an injected sign-in failure, if the fault switches hold one for this instance: its reason. */
  takeSignInFailure(): Promise<string | undefined>;
}

export function aosRoutes({ health, db, logger, takeSignInFailure }: AosContext): Route[] {
  return [
    { method: 'GET', path: /^\/health$/, handle: () => ({ status: 200, body: health }) },
    {
      method: 'POST',
      path: /^\/signin$/,
      handle: async (_params, req) => {
        const { user: userId } = await readBody(req, signInRequestSchema);
        const injected = await takeSignInFailure();
        if (injected) {
          logger.info({ user: userId, reason: injected }, 'sign-in refused: injected fault');
          throw new HttpError(503, `${health.id} is not accepting sign-ins yet (warming up): ${injected}`);
        }
        const user = await whenNotBusy(() => findUser(db, userId));
        const decision = decideSignIn({ maintenanceMode: health.maintenanceMode, user });
        if (!decision.allowed) {
          logger.info({ user: userId, status: decision.status }, 'sign-in refused');
          throw new HttpError(decision.status, decision.reason);
        }
        const body: SignInResponse = { user: userId, roles: user!.roles, aos: health.id };
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      path: /^\/license\/configuration-keys$/,
      handle: async () => {
        const body: ConfigurationKeyList = {
          editable: decideLicenseEdit(health.maintenanceMode).allowed,
          keys: await whenNotBusy(() => listConfigurationKeys(db)),
        };
        return { status: 200, body };
      },
    },
    {
      method: 'PUT',
      path: /^\/license\/configuration-keys\/([^/]+)$/,
      handle: async ([name], req) => {
        const { enabled } = await readBody(req, configurationKeyUpdateSchema);
        const decision = decideLicenseEdit(health.maintenanceMode);
        if (!decision.allowed) throw new HttpError(decision.status, decision.reason);
        const key: ConfigurationKey | undefined = await whenNotBusy(() =>
          setConfigurationKey(db, name, enabled),
        );
        if (!key) throw new HttpError(404, `no configuration key named "${name}"`);
        logger.info({ key: name, enabled }, 'configuration key changed');
        return { status: 200, body: key };
      },
    },
  ];
}
