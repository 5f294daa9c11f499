import type pg from 'pg';
import type { BatchTimeouts } from '../backfill/batch-transaction.js';
import { isRetryable, retryDelayMs, sleep, type RetryPolicy } from '../db/retry-policy.js';
import { DatabaseError, SchemaEngineError } from '../errors.js';
import { readMigrationsDir } from '../prisma/migrations-dir.js';
import { callEngine, withSchemaEngine } from '../prisma/schema-engine.js';
import { dropInvalidIndex, unitStatementTimeout } from './unit-executor.js';
import type { PlannedFolder } from './migration-folders.js';

const NO_FILTER = { externalTables: [], externalEnums: [] };

/** Where a migration folder stands in `_prisma_migrations` (its newest row). */
export type FolderState = 'applied' | 'failed' | 'absent';

/** Reads the state of every migration recorded in `_prisma_migrations` (empty when the table is missing). */
export async function readPrismaMigrationStates(client: pg.ClientBase): Promise<Map<string, FolderState>> {
  const { rows: exists } = await client.query<{ found: boolean }>(`select to_regclass('_prisma_migrations') is not null as found`);
  if (!exists[0]?.found) return new Map();
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
 * Applies one migration folder with Prisma's own schema engine (the code path of `prisma migrate
 * deploy`), so `_prisma_migrations` gets exactly Prisma's row. The engine is handed the folders already
 * applied plus this one, so nothing else pending is applied by accident. Its connections carry
 * `lock_timeout` and `statement_timeout`.
 *
 * A failed earlier try of the same folder is marked rolled back first (what `prisma migrate resolve
 * --rolled-back` does). The folder's script ran in one transaction, so nothing of it stayed; an INVALID
 * index left by a failed concurrent build is dropped. Lock timeouts, deadlocks and serialization failures
 * are retried that way with jittered backoff. Any other failure stays recorded as failed, as Prisma
 * records it, and throws with the SQLSTATE. Returns false when the folder was applied already.
 */
export async function applyPrismaFolder(
  client: pg.ClientBase,
  options: { databaseUrl: string; migrationsDir: string; folder: PlannedFolder; timeouts: BatchTimeouts; retry: RetryPolicy },
): Promise<boolean> {
  const { folder } = options;
  for (let attempt = 1; ; attempt += 1) {
    const states = await readPrismaMigrationStates(client);
    if (states.get(folder.name) === 'applied') return false;
    const list = await readMigrationsDir(options.migrationsDir);
    const migrationsList = {
      ...list,
      migrationDirectories: list.migrationDirectories.filter((dir) => dir.path === folder.name || states.get(dir.path) === 'applied'),
    };
    if (!migrationsList.migrationDirectories.some((dir) => dir.path === folder.name)) {
      throw new SchemaEngineError('applyMigrations', new Error(`folder "${folder.name}" is missing from ${options.migrationsDir}`));
    }
    let scriptError: pg.DatabaseError | undefined;
    try {
      await withSchemaEngine(
        {
          databaseUrl: options.databaseUrl,
          sessionSettings: { lock_timeout: String(Math.round(options.timeouts.lockMs)), statement_timeout: String(unitStatementTimeout(folder.unit, options.timeouts)) },
        },
        async (engine, session) => {
          if (states.get(folder.name) === 'failed') {
            await callEngine('markMigrationRolledBack', () => engine.markMigrationRolledBack({ migrationName: folder.name }));
          }
          if (folder.unit.buildsIndex) await dropInvalidIndex(client, folder.unit.buildsIndex, options.timeouts);
          try {
            await callEngine('applyMigrations', () => engine.applyMigrations({ migrationsList, filters: NO_FILTER }));
          } catch (error) {
            scriptError = session.lastScriptError();
            throw error;
          }
        },
      );
      return true;
    } catch (error) {
      if (scriptError && isRetryable(scriptError) && attempt < options.retry.maxAttempts) {
        await sleep(retryDelayMs(attempt, options.retry));
        continue;
      }
      if (scriptError) throw new DatabaseError(folder.sql, [], Object.assign(scriptError, { migration: folder.name }));
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
}
