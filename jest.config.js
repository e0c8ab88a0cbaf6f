/** Tests run from TypeScript; child processes (fleet, worker) run from dist/, which `npm test` builds first. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 120000,
  maxWorkers: 2,
};
