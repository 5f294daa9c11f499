/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';
import base from './jest.config';

// `pnpm mutate` judges mutants with one jest project only: `unit` (default) or `integration`
// (EVOLVE_MUTATE_PROJECT=integration, a real PostgreSQL, much slower).
const project = process.env['EVOLVE_MUTATE_PROJECT'] ?? 'unit';
const projects = (base.projects ?? [])
  .filter((p) => typeof p === 'object' && 'displayName' in p && p.displayName === project)
  // Stryker's environment records which tests cover each mutant, so a mutant reruns only those.
  .map((p) => ({ ...(p as object), testEnvironment: '@stryker-mutator/jest-runner/jest-env/node' }));

const config: Config = { ...base, reporters: ['default'], projects };
export default config;
