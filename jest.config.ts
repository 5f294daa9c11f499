/** @jest-config-loader esbuild-register */
import path from 'node:path';
import type { Config } from 'jest';

// Inside the repository our packages are used from their TypeScript sources, never from dist/: tests map
// them here, and processes the tests start with tsx read the same `paths` of tsconfig.json, whatever their cwd.
process.env['TSX_TSCONFIG_PATH'] ??= path.join(__dirname, 'tsconfig.json');
const sources = {
  '^@prisma-evolve/core$': '<rootDir>/packages/core/src/index.ts',
  '^@prisma-evolve/cli$': '<rootDir>/packages/cli/src/index.ts',
  '^@prisma-evolve/soft-delete$': '<rootDir>/packages/soft-delete/src/index.ts',
  '^@prisma-evolve/testing$': '<rootDir>/packages/testing/src/index.ts',
  '^@prisma-evolve/testing/jest$': '<rootDir>/packages/testing/src/jest.ts',
};

// Sources are ESM TypeScript; swc strips types and keeps ES modules (jest runs with
// --experimental-vm-modules). Relative imports are written with `.js` as NodeNext requires.
const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { ...sources, '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' }, sourceMaps: 'inline' },
    ],
  },
  testEnvironment: 'node',
  // Sandboxes of an interrupted `pnpm mutate` hold copies of the packages; .tmp/ holds the CLI tests' apps.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/', '<rootDir>/.tmp/'],
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
