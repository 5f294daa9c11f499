/**
 * `pnpm generate` (also run after `pnpm install`): generates the example app's Prisma 7 client (and the
 * benchmark's and the soft-delete tests' clients) without network access. Prisma's CLI insists on a native schema engine before any command, even `generate`,
 * which never uses it; pointing PRISMA_SCHEMA_ENGINE_BINARY at a stand-in skips the download. A user
 * behind a firewall can do the same. If the variable is already set (a real engine), it is respected.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const standIn = path.join(root, 'scripts', 'bin', 'no-schema-engine');
const prismaBin = path.join(root, 'node_modules', '.bin', 'prisma');

if (!existsSync(prismaBin)) {
  console.error(`prisma cli not found at "${prismaBin}": run pnpm install first`);
  process.exit(1);
}

const env = {
  PRISMA_SCHEMA_ENGINE_BINARY: process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ?? standIn,
  // No update checks or telemetry: they would only time out here.
  CHECKPOINT_DISABLE: '1',
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const extra = process.argv.slice(2);
// With explicit arguments (e.g. --schema) generate exactly what was asked; otherwise every client of the repo.
const runs =
  extra.length > 0
    ? [extra]
    : [[], ['--schema', path.join('scripts', 'bench', 'bench.prisma')], ['--schema', path.join('packages', 'soft-delete', 'test-schema', 'schema.prisma')], ['--schema', path.join('examples', 'timetable', 'schema.prisma')], ['--schema', path.join('examples', 'constraints', 'schema.prisma')]];
for (const args of runs) {
  const result = await execa(prismaBin, ['generate', ...args], { cwd: root, stdio: 'inherit', reject: false, env });
  if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
}
