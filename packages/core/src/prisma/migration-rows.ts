import { createHash } from 'node:crypto';
import type pg from 'pg';
import { relationExists } from '../db/table-catalog.js';
import { quoteQualified } from '../sql.js';

/** `_prisma_migrations.checksum` of a migration script: the hex sha256 of its text, as Prisma computes it. Pure. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script).digest('hex');
}

/** Whether `_prisma_migrations` exists (on the search path, where Prisma creates it). Read-only. */
export async function prismaMigrationsTableExists(client: pg.ClientBase): Promise<boolean> {
  return relationExists(client, '_prisma_migrations');
}

/**
 * Records migration `name` as applied with exactly the row `prisma migrate deploy` writes after a success
 * (new uuid, checksum of `script`, started and finished now, one applied step). Runs on `client` as it is:
 * inside the caller's transaction, it commits with the migration's own statements, so a crash can never
 * leave one without the other. Not idempotent by itself: callers check the state first, under the runner lease.
 */
export async function recordMigrationApplied(client: pg.ClientBase, name: string, script: string): Promise<void> {
  await client.query(
    `insert into _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     values (gen_random_uuid()::text, $1, now(), $2, null, null, now(), 1)`,
    [migrationChecksum(script), name],
  );
}

/**
 * Records a failed attempt of `name` the way Prisma does (unfinished row with the error in `logs`), so
 * `prisma migrate status` and `deploy` see the failure. Written only after the attempt's own changes were
 * rolled back (or never happened), so a failed row always means "nothing of it stayed".
 */
export async function recordMigrationFailed(client: pg.ClientBase, name: string, script: string, logs: string): Promise<void> {
  await client.query(
    `insert into _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     values (gen_random_uuid()::text, $1, null, $2, $3, null, now(), 0)`,
    [migrationChecksum(script), name, logs],
  );
}

/**
 * Marks the unfinished attempts of `name` rolled back, as `prisma migrate resolve --rolled-back` does, so it
 * can be applied again. Finished rows are never touched. Idempotent.
 */
export async function markMigrationRolledBack(client: pg.ClientBase, name: string): Promise<void> {
  await client.query(`update _prisma_migrations set rolled_back_at = now() where migration_name = $1 and finished_at is null and rolled_back_at is null`, [name]);
}

/**
 * Takes every `_prisma_migrations` row of the migrations `names` out of Prisma's history after a rollback
 * undid them: the rows are copied to `<archiveSchema>.rolled_back_migrations` (with the time) and deleted,
 * in the caller's transaction. Prisma then sees those migrations as never applied, which is the truth; with
 * their folders removed from the migrations directory, no `prisma migrate deploy` recreates them (once that
 * removal is committed wherever the directory is deployed from). Idempotent. Returns the names taken out.
 */
export async function archiveMigrationRows(client: pg.ClientBase, names: readonly string[], archiveSchema: string): Promise<string[]> {
  if (names.length === 0 || !(await prismaMigrationsTableExists(client))) return [];
  const archive = quoteQualified(archiveSchema, 'rolled_back_migrations');
  const columns = 'id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count';
  await client.query(`create table if not exists ${archive} (${ARCHIVE_COLUMNS}, archived_at timestamptz not null default now())`);
  const { rows } = await client.query<{ name: string }>(
    `with gone as (delete from _prisma_migrations where migration_name = any($1) returning ${columns}),
          kept as (insert into ${archive} (${columns}) select ${columns} from gone returning migration_name)
     select distinct migration_name as name from kept order by 1`,
    [names],
  );
  return rows.map((row) => row.name);
}

/** The archive's copy of `_prisma_migrations` columns (by name, so a column Prisma adds later does not shift them). */
const ARCHIVE_COLUMNS = `id varchar(36) not null, checksum varchar(64) not null, finished_at timestamptz, migration_name varchar(255) not null,
  logs text, rolled_back_at timestamptz, started_at timestamptz not null, applied_steps_count integer not null`;
