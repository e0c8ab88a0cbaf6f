import path from 'node:path';

/** The fake environment runs from built code, like the other processes tests start (`npm run build`). */
export const FAKE_ENVIRONMENT = path.resolve(
  __dirname,
  '../../dist/test/fixtures/commands/fake-environment.js',
);

const fake = (action: string) => ({ argv: [process.execPath, FAKE_ENVIRONMENT, action] });

/** Every command of the command driver as an action of the fake environment (its state: FAKE_ENVIRONMENT_STATE). */
export const FAKE_COMMANDS = {
  readFlag: fake('read-flag'),
  writeFlag: fake('write-flag'),
  listAos: fake('list-aos'),
  restartAos: fake('restart-aos'),
  stopAos: fake('stop-aos'),
  probeUsers: fake('probe-users'),
  signIn: fake('sign-in'),
  listKeys: fake('list-keys'),
  setKey: fake('set-key'),
  readImpact: fake('read-impact'),
};
