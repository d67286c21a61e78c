/** Unit tests (pure domain, adapters with mocked clients, CDK assertions) and local-cloud tests
 * (real handlers against moto_server and the state machine runner) are separate projects. */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] };
module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/cdk/**/*.test.ts'], transform, testEnvironment: 'node' },
    { displayName: 'localcloud', testMatch: ['<rootDir>/test/localcloud/**/*.test.ts'], transform, testEnvironment: 'node' },
  ],
};
