/**
 * `pnpm mutate [files…]`: mutation testing with StrykerJS (stryker.config.mjs). Without files it mutates
 * the safety-critical modules the unit project covers; with files, those. EVOLVE_MUTATE_PROJECT=integration
 * judges mutants by the integration tests instead (a real PostgreSQL; slow). The report is printed and
 * written to reports/mutation/mutation.json. Not part of `pnpm test`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const result = await execa(path.join(root, 'node_modules', '.bin', 'stryker'), ['run', 'stryker.config.mjs', ...(files.length > 0 ? ['--mutate', files.join(',')] : [])], {
  cwd: root,
  stdio: 'inherit',
  reject: false,
});
process.exitCode = result.exitCode ?? 1;
