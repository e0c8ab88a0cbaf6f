'use strict';
/**
 * Who works on the environment now, read by SQL as the d365 profiles read it: active sessions
 * (SYSCLIENTSESSIONS) with their users' names, batch jobs executing or waiting to start by
 * MAINTENANCE_UNTIL (BATCHJOB, BatchStatus 2 and 1). The values go in as parameters.
 */
const { Failure, required, run, sql } = require('./fleet-api');

const EXECUTING = 2;
const WAITING = 1;

run({
  read: () => {
    const until = new Date(required('MAINTENANCE_UNTIL'));
    if (Number.isNaN(until.getTime())) throw new Failure('MAINTENANCE_UNTIL is not a time', 2);
    return sql((db) => {
      const names = db
        .prepare(
          `SELECT COALESCE(u.NAME, s.USERID) AS NAME FROM SYSCLIENTSESSIONS s LEFT JOIN USERINFO u ON u.ID = s.USERID
           WHERE s.STATUS = 1 GROUP BY s.USERID ORDER BY MIN(s.LOGINDATETIME)`,
        )
        .pluck()
        .all();
      const jobs = db
        .prepare(
          `SELECT CAPTION, STATUS, STARTDATETIME FROM BATCHJOB
           WHERE STATUS = ? OR (STATUS = ? AND STARTDATETIME <= ?) ORDER BY STATUS DESC, STARTDATETIME`,
        )
        .all(EXECUTING, WAITING, until.toISOString());
      return {
        users: { count: names.length, names: names.slice(0, 5) },
        batchJobs: jobs.map((j) =>
          j.STATUS === EXECUTING
            ? { name: j.CAPTION, status: 'executing' }
            : { name: j.CAPTION, status: 'waiting', startsAt: j.STARTDATETIME },
        ),
      };
    });
  },
});
