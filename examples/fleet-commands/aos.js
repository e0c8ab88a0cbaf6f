'use strict';
/** The AOS instances, through the fleet supervisor's control plane (as an admin would use the cluster's). */
const { ok, required, run, supervisor } = require('./fleet-api');

/** A stopped instance that should run, stopped by a crash: down although nobody asked. */
const state = (i) => ({
  id: i.id,
  role: i.role,
  status:
    i.status === 'stopped' && i.desired === 'running' && (i.lastError ?? '').startsWith('crashed')
      ? 'crashed'
      : i.status,
  maintenanceMode: i.status === 'running' ? i.maintenanceMode : null,
});

const act = (verb) => () =>
  ok(supervisor(`/aos/${encodeURIComponent(required('MAINTENANCE_AOS_ID'))}/${verb}`), 'POST');

run({
  list: async () => (await ok(supervisor('/aos'))).instances.map(state),
  // The supervisor answers once the instance is healthy (restart) or down (stop); a failed start is a 503.
  restart: async () => void (await act('restart')()),
  stop: async () => void (await act('stop')()),
});
