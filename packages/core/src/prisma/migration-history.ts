import pg from 'pg';
import { readMigrationsDir } from './migrations-dir.js';
import { migrationChecksum, prismaMigrationsTableExists } from './migration-rows.js';

/** Where one migration stands, comparing the migrations directory with `_prisma_migrations`. */
export type MigrationState =
  | 'applied' // finished, checksum matches the folder
  | 'pending' // in the folder, never applied
  | 'failed' // started and not finished (Prisma leaves the row with finished_at null)
  | 'rolled_back' // marked rolled back (`prisma migrate resolve --rolled-back`)
  | 'edited' // applied, but migration.sql changed since
  | 'missing_folder'; // applied, but its folder is gone

/** One row of {@link readMigrationHistory}. */
export interface MigrationHistoryEntry {
  readonly name: string;
  readonly state: MigrationState;
  readonly finishedAt: Date | null;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Compares the migration folders with `_prisma_migrations` the way `prisma migrate status` does, in
 * folder order, then rows without a folder. The last attempt of a migration decides its state. Read-only
 * (one SELECT; a database without the table has every folder pending).
 */
export async function readMigrationHistory(databaseUrl: string, migrationsDir: string): Promise<MigrationHistoryEntry[]> {
  const list = await readMigrationsDir(migrationsDir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let rows: MigrationRow[] = [];
  try {
    if (await prismaMigrationsTableExists(client)) {
      rows = (await client.query<MigrationRow>('select migration_name, checksum, finished_at, rolled_back_at from _prisma_migrations order by started_at')).rows;
    }
  } finally {
    await client.end();
  }
  const lastAttempt = new Map(rows.map((row) => [row.migration_name, row]));
  const entries: MigrationHistoryEntry[] = list.migrationDirectories.map((folder) => {
    const row = lastAttempt.get(folder.path);
    lastAttempt.delete(folder.path);
    if (!row) return { name: folder.path, state: 'pending', finishedAt: null };
    if (row.rolled_back_at) return { name: folder.path, state: 'rolled_back', finishedAt: row.finished_at };
    if (!row.finished_at) return { name: folder.path, state: 'failed', finishedAt: null };
    const content = folder.migrationFile.content;
    const checksum = content.tag === 'ok' ? migrationChecksum(content.value) : '';
    return { name: folder.path, state: checksum === row.checksum ? 'applied' : 'edited', finishedAt: row.finished_at };
  });
  for (const row of lastAttempt.values()) entries.push({ name: row.migration_name, state: 'missing_folder', finishedAt: row.finished_at });
  return entries;
}
