'use strict';
/** The License configuration page of the running interactive AOS: configuration keys. */
const { EX_TEMPFAIL, Failure, aosUrl, ok, required, run, supervisor } = require('./fleet-api');

async function licensePage(path) {
  const { instances } = await ok(supervisor('/aos'));
  const aos = instances.find((a) => a.role === 'interactive' && a.status === 'running');
  if (!aos?.port)
    throw new Failure('no interactive AOS is running to open the License configuration', EX_TEMPFAIL);
  return aosUrl(aos.port, `/license/configuration-keys${path}`);
}

run({
  list: async () => {
    const { keys } = await ok(await licensePage(''));
    return Object.fromEntries(keys.map((k) => [k.name, k.enabled]));
  },
  set: async () => {
    const key = encodeURIComponent(required('MAINTENANCE_KEY'));
    await ok(await licensePage(`/${key}`), 'PUT', { enabled: required('MAINTENANCE_KEY_ENABLED') === '1' });
  },
});
