'use strict';
/** CONFIGURATIONMODE in SQLSYSTEMVARIABLES, as the article's manual procedure sets it, by SQL. */
const { Failure, required, run, sql } = require('./fleet-api');

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
