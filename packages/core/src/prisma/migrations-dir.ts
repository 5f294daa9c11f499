import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { MigrationsDirError } from '../errors.js';

/** The file inside each migration folder, as Prisma names it. */
export const MIGRATION_FILE = 'migration.sql';
/** Prisma's lockfile beside the migration folders. */
export const MIGRATION_LOCKFILE = 'migration_lock.toml';

/**
 * Reads a Prisma migrations directory into the engine's `MigrationList`, exactly as Prisma's CLI loads
 * it: folders sorted by name, each with its `migration.sql` (an unreadable file is passed on as an error
 * for the engine to report), plus `migration_lock.toml`. Read-only; throws {@link MigrationsDirError}
 * naming the path when the directory does not exist.
 */
export async function readMigrationsDir(migrationsDir: string): Promise<MigrationList> {
  const baseDir = path.resolve(migrationsDir);
  const info = await stat(baseDir).catch(() => undefined);
  if (!info?.isDirectory()) throw new MigrationsDirError(baseDir, 'does not exist or is not a directory');

  const entries = await readdir(baseDir, { withFileTypes: true });
  const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const migrationDirectories = await Promise.all(
    folders.map(async (folder) => {
      const content = await readFile(path.join(baseDir, folder, MIGRATION_FILE), 'utf8').then(
        (text) => ({ tag: 'ok' as const, value: text }),
        (error: Error) => ({ tag: 'error' as const, value: error.message }),
      );
      return { path: folder, migrationFile: { path: MIGRATION_FILE, content } };
    }),
  );
  const lockfileContent = await readFile(path.join(baseDir, MIGRATION_LOCKFILE), 'utf8').catch(() => null);
  return {
    baseDir,
    lockfile: { path: MIGRATION_LOCKFILE, content: lockfileContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}
