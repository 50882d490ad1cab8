/**
 * Jest runs TypeScript through SWC. Unit tests need nothing running; integration and browser suites
 * share one Temporal dev server started by test/harness (a project's globalSetup runs only when one
 * of its tests is selected, so `jest test/unit` starts no server).
 */
const transform = { '^.+\\.ts$': ['@swc/jest'], '^.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }] };
// jose, openid-client, oauth4webapi and cookie ship only ES modules (and @fastify/cookie imports cookie
// dynamically): SWC turns them into CommonJS for Jest
// (Node 20 runs them natively through require(esm); Jest's own module loader does not).
const transformIgnorePatterns = ['/node_modules/(?!(jose|openid-client|oauth4webapi|cookie|@fastify/cookie)/)'];

module.exports = {
  // Two cores: integration suites each run a worker; more parallelism only adds contention.
  maxWorkers: 2,
  // Integration suites wait on real workflows; unit tests finish far below this.
  testTimeout: 300_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/unit'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
