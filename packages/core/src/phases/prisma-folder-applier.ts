import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { inBatchTransaction, type BatchTimeouts } from '../backfill/batch-transaction.js';
import { isRetryable, retryDelayMs, sleep, type RetryPolicy } from '../db/retry-policy.js';
import { DatabaseError, SchemaEngineError } from '../errors.js';
import { markMigrationRolledBack, prismaMigrationsTableExists, recordMigrationApplied, recordMigrationFailed } from '../prisma/migration-rows.js';
import { MIGRATION_FILE, readMigrationsDir } from '../prisma/migrations-dir.js';
import { callEngine, withSchemaEngine } from '../prisma/schema-engine.js';
import { isPlanFolder, type PlanDefinition } from './define-plan.js';
import { dropInvalidIndex, indexState, runOutsideTransaction, unitStatementTimeout } from './unit-executor.js';
import type { PlannedFolder } from './migration-folders.js';

const NO_FILTER = { externalTables: [], externalEnums: [] };

/** Where a migration folder stands in `_prisma_migrations` (its newest row). */
export type FolderState = 'applied' | 'failed' | 'absent';

/** Reads the state of every migration recorded in `_prisma_migrations` (empty when the table is missing). */
export async function readPrismaMigrationStates(client: pg.ClientBase): Promise<Map<string, FolderState>> {
  if (!(await prismaMigrationsTableExists(client))) return new Map();
  const { rows } = await client.query<{ name: string; finished: boolean; rolled_back: boolean }>(
    `select migration_name as name, finished_at is not null as finished, rolled_back_at is not null as rolled_back
     from _prisma_migrations order by started_at`,
  );
  const states = new Map<string, FolderState>();
  for (const row of rows) {
    if (row.rolled_back) {
      if (!states.has(row.name)) states.set(row.name, 'absent');
      continue;
    }
    states.set(row.name, row.finished ? 'applied' : 'failed');
  }
  return states;
}

/**
 * Creates `_prisma_migrations` through Prisma's own engine when it is missing, exactly as `prisma migrate
 * deploy` would (which also refuses a database that has tables but no history: it must be baselined).
 */
async function ensurePrismaMigrationsTable(client: pg.ClientBase, databaseUrl: string, migrationsDir: string): Promise<void> {
  if (await prismaMigrationsTableExists(client)) return;
  const list = await readMigrationsDir(migrationsDir);
  try {
    await withSchemaEngine({ databaseUrl }, (engine) => callEngine('applyMigrations', () => engine.applyMigrations({ migrationsList: { ...list, migrationDirectories: [] }, filters: NO_FILTER })));
  } catch (error) {
    if (error instanceof Error && /database schema is not empty/i.test(error.message)) {
      throw new SchemaEngineError(
        'applyMigrations',
        new Error(
          `the database has tables but no Prisma migration history (_prisma_migrations); baseline it first ` +
            `(prisma migrate resolve --applied <your initial migration>), as prisma migrate deploy would also require`,
        ),
      );
    }
    throw error;
  }
}

/**
 * Whether a non-transactional folder's effect is already there although it was never recorded: the process
 * died after its statement finished and before the row was written. Only an index build can tell (a valid
 * index of that name); other non-transactional statements are written to be idempotent (`IF EXISTS`).
 */
async function effectPresent(client: pg.ClientBase, folder: PlannedFolder): Promise<boolean> {
  const index = folder.unit.buildsIndex;
  return index !== undefined && (await indexState(client, index)) === 'valid';
}

/**
 * Applies one migration folder so that a crash at any point leaves something the next call converges from,
 * with `_prisma_migrations` holding exactly the rows `prisma migrate deploy` writes (Prisma's diagnosis
 * stays clean):
 * - a transactional folder runs whole in ONE transaction together with its finished `_prisma_migrations`
 *   row (`SET LOCAL lock_timeout` and `statement_timeout`): both commit, or neither;
 * - a non-transactional folder (one `CONCURRENTLY` statement) first drops an INVALID index an interrupted
 *   build left; when the index is already there and valid (the process died before recording it), the
 *   folder is only recorded, as `prisma migrate resolve --applied` would; otherwise the statement runs with
 *   session-level timeouts and the row is written after it.
 *
 * An unfinished row of an earlier attempt (which this function writes only after that attempt's changes
 * were rolled back) is marked rolled back first, as `prisma migrate resolve --rolled-back` does. Lock
 * timeouts, deadlocks and serialization failures are retried with jittered backoff; any other failure is
 * recorded as failed, as Prisma records it, and throws a `DatabaseError` with the SQLSTATE. Returns false
 * when the folder was applied already. Callers hold the runner lease (one runner per database).
 */
export async function applyPrismaFolder(
  client: pg.ClientBase,
  options: { databaseUrl: string; migrationsDir: string; folder: PlannedFolder; timeouts: BatchTimeouts; retry: RetryPolicy },
): Promise<boolean> {
  const { folder } = options;
  const script = await readFile(path.join(options.migrationsDir, folder.name, MIGRATION_FILE), 'utf8').catch(() => undefined);
  if (script === undefined) throw new SchemaEngineError('applyMigrations', new Error(`folder "${folder.name}" is missing from ${options.migrationsDir}`));
  await ensurePrismaMigrationsTable(client, options.databaseUrl, options.migrationsDir);
  const timeouts = { lockMs: options.timeouts.lockMs, statementMs: unitStatementTimeout(folder.unit, options.timeouts) };
  for (let attempt = 1; ; attempt += 1) {
    const state = (await readPrismaMigrationStates(client)).get(folder.name);
    if (state === 'applied') return false;
    if (state === 'failed') await markMigrationRolledBack(client, folder.name);
    try {
      if (folder.unit.transactional) {
        await inBatchTransaction(client, timeouts, async () => {
          await client.query(script);
          await recordMigrationApplied(client, folder.name, script);
        });
      } else {
        if (folder.unit.buildsIndex) await dropInvalidIndex(client, folder.unit.buildsIndex, options.timeouts);
        if (!(await effectPresent(client, folder))) await runOutsideTransaction(client, script, timeouts);
        await recordMigrationApplied(client, folder.name, script);
      }
      return true;
    } catch (error) {
      if (isRetryable(error) && attempt < options.retry.maxAttempts) {
        await sleep(retryDelayMs(attempt, options.retry));
        continue;
      }
      const message = error instanceof Error ? error.message : String(error);
      await recordMigrationFailed(client, folder.name, script, message).catch(() => undefined);
      if (typeof (error as { code?: unknown }).code === 'string') throw new DatabaseError(folder.sql, [], Object.assign(error as Error, { migration: folder.name }));
      throw error;
    }
  }
}

/**
 * Marks the failed attempts of `plan`'s own folders rolled back, as `prisma migrate resolve --rolled-back`
 * does, so that Prisma's engine will apply the app's plain folders again (it refuses while any failed row
 * exists). Safe because {@link applyPrismaFolder} records a failure only after the attempt's changes were
 * rolled back; the runner applies those folders again with their steps. Returns the names released.
 */
export async function releaseFailedPlanFolders(client: pg.ClientBase, plan: PlanDefinition): Promise<string[]> {
  const released: string[] = [];
  for (const [name, state] of await readPrismaMigrationStates(client)) {
    if (state !== 'failed' || !isPlanFolder(plan, name)) continue;
    await markMigrationRolledBack(client, name);
    released.push(name);
  }
  return released;
}
