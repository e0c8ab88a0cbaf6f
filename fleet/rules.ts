/**
 * The rules of maintenance mode that an AOS enforces, as the vendor's article states them.
 * Pure: the AOS feeds in what it read from the database and turns the decision into HTTP.
 */

export const SYSTEM_ADMINISTRATOR = 'System administrator';
export const MAINTENANCE_MODE_USER = 'Maintenance mode user';

/** The only roles that may sign in while maintenance mode is on. */
const MAINTENANCE_ROLES: readonly string[] = [SYSTEM_ADMINISTRATOR, MAINTENANCE_MODE_USER];

export interface FleetUser {
  id: string;
  enabled: boolean;
  roles: string[];
}

export type SignInDecision = { allowed: true } | { allowed: false; status: 401 | 403; reason: string };
export type LicenseEditDecision = { allowed: true } | { allowed: false; status: 409; reason: string };

export function decideSignIn({
  maintenanceMode,
  user,
}: {
  maintenanceMode: boolean;
  user: FleetUser | undefined;
}): SignInDecision {
  if (!user) {
    return {
      allowed: false,
      status: 401,
      reason: 'Unknown user: there is no such user in this environment.',
    };
  }
  if (!user.enabled) {
    return { allowed: false, status: 401, reason: `User ${user.id} is disabled.` };
  }
  if (maintenanceMode && !user.roles.some((role) => MAINTENANCE_ROLES.includes(role))) {
    return {
      allowed: false,
      status: 403,
      reason:
        `Maintenance mode is on: only users with the ${SYSTEM_ADMINISTRATOR} or ${MAINTENANCE_MODE_USER} ` +
        'role can sign in. Try again when maintenance is over.',
    };
  }
  return { allowed: true };
}

export function decideLicenseEdit(maintenanceMode: boolean): LicenseEditDecision {
  if (!maintenanceMode) {
    return {
      allowed: false,
      status: 409,
      reason:
        "The License configuration page can't be edited while maintenance mode is off. " +
        'Turn maintenance mode on first.',
    };
  }
  return { allowed: true };
}
