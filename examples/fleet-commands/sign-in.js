'use strict';
/** The sign-in probe: who to try (from the environment's users and roles), and a sign-in on one AOS. */
const Database = require('better-sqlite3');
const { EX_TEMPFAIL, Failure, aosUrl, call, ok, required, run, supervisor } = require('./fleet-api');

function firstUser(db, where, ...params) {
  return db
    .prepare(`SELECT u.ID FROM USERINFO u WHERE u.ENABLED = 1 AND ${where} ORDER BY u.ID LIMIT 1`)
    .get(...params)?.ID;
}

run({
  users: () => {
    const db = new Database(required('FLEET_DATABASE'), { readonly: true, timeout: 1000 });
    const withRole = 'EXISTS (SELECT 1 FROM SECURITYUSERROLE r WHERE r.USERID = u.ID AND r.ROLE = ?)';
    const withNeither =
      'NOT EXISTS (SELECT 1 FROM SECURITYUSERROLE r WHERE r.USERID = u.ID AND r.ROLE IN (?, ?))';
    return {
      administrator: firstUser(db, withRole, 'System administrator'),
      maintenanceUser: firstUser(db, withRole, 'Maintenance mode user'),
      regularUser: firstUser(db, withNeither, 'System administrator', 'Maintenance mode user'),
    };
  },
  try: async () => {
    const id = required('MAINTENANCE_AOS_ID');
    const user = required('MAINTENANCE_USER');
    const { instance } = await ok(supervisor(`/aos/${encodeURIComponent(id)}`));
    if (instance.status !== 'running' || !instance.port)
      return { allowed: false, detail: `${id} is not running` };
    const { status, json } = await call(aosUrl(instance.port, '/signin'), 'POST', { user });
    if (status === 200) return { allowed: true, detail: `${user} signed in on ${id}` };
    if (status === 401 || status === 403)
      return { allowed: false, detail: `${user} refused on ${id} (${status}): ${json.error}` };
    throw new Failure(`sign-in on ${id}: ${status} ${json.error ?? ''}`, status >= 500 ? EX_TEMPFAIL : 1);
  },
});
