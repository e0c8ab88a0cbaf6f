import type { FleetUser } from '../../fleet/rules';
import {
  decideLicenseEdit,
  decideSignIn,
  MAINTENANCE_MODE_USER,
  SYSTEM_ADMINISTRATOR,
} from '../../fleet/rules';

const user = (roles: string[], enabled = true): FleetUser => ({ id: 'u1', enabled, roles });
const admin = user([SYSTEM_ADMINISTRATOR]);
const maintenanceUser = user([MAINTENANCE_MODE_USER]);
const accountant = user(['Accountant']);

describe('decideSignIn', () => {
  it.each([
    ['a System administrator', admin],
    ['a Maintenance mode user', maintenanceUser],
    ['a regular user', accountant],
  ])('lets %s sign in while maintenance mode is off', (_who, u) => {
    expect(decideSignIn({ maintenanceMode: false, user: u })).toEqual({ allowed: true });
  });

  it.each([
    ['a System administrator', admin],
    ['a Maintenance mode user', maintenanceUser],
    ['a user who also has another role', user(['Accountant', MAINTENANCE_MODE_USER])],
  ])('lets %s sign in while maintenance mode is on', (_who, u) => {
    expect(decideSignIn({ maintenanceMode: true, user: u })).toEqual({ allowed: true });
  });

  it('refuses a regular user with 403 and a message naming both roles while maintenance mode is on', () => {
    expect(decideSignIn({ maintenanceMode: true, user: accountant })).toEqual({
      allowed: false,
      status: 403,
      reason: expect.stringMatching(
        /^Maintenance mode is on: only users with the System administrator or Maintenance mode user role/,
      ),
    });
  });

  it.each([false, true])('refuses an unknown user with 401 (maintenance mode %s)', (maintenanceMode) => {
    expect(decideSignIn({ maintenanceMode, user: undefined })).toMatchObject({ allowed: false, status: 401 });
  });

  it.each([false, true])(
    'refuses a disabled user with 401, even a System administrator (maintenance mode %s)',
    (mode) => {
      const decision = decideSignIn({ maintenanceMode: mode, user: user([SYSTEM_ADMINISTRATOR], false) });
      expect(decision).toEqual({ allowed: false, status: 401, reason: 'User u1 is disabled.' });
    },
  );
});

describe('decideLicenseEdit', () => {
  it('allows editing the License configuration page in maintenance mode', () => {
    expect(decideLicenseEdit(true)).toEqual({ allowed: true });
  });

  it('refuses with 409 outside maintenance mode, saying to turn it on first', () => {
    expect(decideLicenseEdit(false)).toEqual({
      allowed: false,
      status: 409,
      reason: expect.stringContaining('Turn maintenance mode on first'),
    });
  });
});
