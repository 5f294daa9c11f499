/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// Sources are ESM TypeScript; swc strips types and keeps ES modules (jest runs with
// --experimental-vm-modules). Relative imports are written with `.js` as NodeNext requires.
const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' }, sourceMaps: 'inline' },
    ],
  },
  testEnvironment: 'node',
  // Sandboxes of an interrupted `pnpm mutate` hold copies of the packages.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  // Our packages resolve to their TypeScript sources inside the repository (see .npmrc).
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', '@prisma-evolve/source'] },
} satisfies Partial<Config>;

const config: Config = {
  // A global option: jest ignores it inside a project entry.
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.mjs'],
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/scripts/**/*.test.ts', '<rootDir>/prisma/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/packages/*/src/**/*.int.test.ts', '<rootDir>/scripts/**/*.int.test.ts', '<rootDir>/prisma/**/*.int.test.ts', '<rootDir>/examples/**/*.int.test.ts'],
      globalSetup: '<rootDir>/packages/testing/jest-global-setup.mjs',
      globalTeardown: '<rootDir>/packages/testing/jest-global-teardown.mjs',
    },
  ],
};

export default config;
