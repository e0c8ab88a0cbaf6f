'use strict';
/** CONFIGURATIONMODE in SQLSYSTEMVARIABLES, as the article's manual procedure sets it, by SQL. */
const Database = require('better-sqlite3');
const { EX_TEMPFAIL, Failure, required, run } = require('./fleet-api');

function database() {
  // A short busy timeout: a locked database is "try again later" (exit 75), retried by policy.
  return new Database(required('FLEET_DATABASE'), { fileMustExist: true, timeout: 1000 });
}

function sql(work) {
  try {
    return work(database());
  } catch (err) {
    if (/^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR)/.test(err.code ?? ''))
      throw new Failure(`database unreachable (${err.code}): ${err.message}`, EX_TEMPFAIL);
    throw err;
  }
}

run({
  read: () =>
    sql((db) => {
      const row = db.prepare("SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = 'CONFIGURATIONMODE'").get();
      return { configurationMode: row?.VALUE === 1 ? 1 : 0 };
    }),
  write: () => {
    const value = required('MAINTENANCE_FLAG');
    if (value !== '0' && value !== '1') throw new Failure(`MAINTENANCE_FLAG must be 0 or 1, not ${value}`, 2);
    sql((db) =>
      db
        .prepare("UPDATE SQLSYSTEMVARIABLES SET VALUE = ? WHERE PARM = 'CONFIGURATIONMODE'")
        .run(Number(value)),
    );
  },
});
