// Mutation testing with StrykerJS and its jest runner, run by `pnpm mutate [files…]` (scripts/mutate.ts;
// docs/testing.md#mutation-testing). `mutate` below is the default set: the safety-critical modules the unit
// project covers. StrykerJS 9 (10 needs Node 22).

export default {
  $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  packageManager: 'pnpm',
  testRunner: 'jest',
  // pnpm does not hoist plugins next to Stryker's core: name it.
  plugins: ['@stryker-mutator/jest-runner'],
  // Our jest runs ES modules (jest.config.ts maps the workspace packages to their sources).
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'],
  jest: { projectType: 'custom', configFile: 'jest.mutate.config.ts', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // jest's ES module registry grows with every run in one process: start a fresh runner every 20 mutants.
  maxTestRunnerReuse: 20,
  timeoutMS: 60_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Where a module is mostly proven by integration tests, its unit score understates it: see docs/testing.md.
  tempDirName: '.stryker-tmp',
  // The sandbox leaves out what git ignores; the generated Prisma clients the tests import are put back.
  ignorePatterns: ['reports', 'docs', '**/dist/**', '!prisma/generated/**', '!packages/soft-delete/test-schema/generated/**', '!examples/*/generated/**', '!scripts/bench/generated/**'],
  mutate: [
    'packages/core/src/sql.ts',
    'packages/core/src/backfill/batch-sizer.ts',
    'packages/core/src/backfill/keyset-sql.ts',
    'packages/core/src/db/retry-policy.ts',
    'packages/core/src/phases/define-plan.ts',
    'packages/core/src/phases/migration-folders.ts',
    'packages/core/src/lint/lint-rules.ts',
    'packages/soft-delete/src/soft-delete-rewriter.ts',
  ],
};
