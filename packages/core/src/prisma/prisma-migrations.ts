import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DiagnoseMigrationHistoryOutput } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { readMigrationsDir } from './migrations-dir.js';
import { callEngine, withSchemaEngine } from './schema-engine.js';

const NO_FILTER = { externalTables: [], externalEnums: [] };

/** Options shared by the Prisma migration helpers. */
export interface PrismaMigrationsOptions {
  readonly databaseUrl: string;
  /** The app's `prisma/migrations` directory. */
  readonly migrationsDir: string;
  /** Apply only folders whose name sorts at or before this one (e.g. the baseline). */
  readonly upTo?: string;
}

/**
 * Applies every unapplied folder of `migrationsDir` with Prisma's own schema engine (WebAssembly build),
 * the same code path as `prisma migrate deploy`: it creates `_prisma_migrations` if missing, runs each
 * `migration.sql` and records its row (checksum = sha256 of the file) exactly as Prisma does. Folders
 * already applied are skipped, so it is idempotent. Each migration script runs as Prisma runs it (one
 * implicit transaction per script unless the script manages its own); a failure leaves that migration
 * recorded as failed, as `prisma migrate deploy` would, and throws a `SchemaEngineError`.
 * Returns the names of the migrations applied by this call.
 */
export async function applyPrismaMigrations(options: PrismaMigrationsOptions): Promise<readonly string[]> {
  const all = await readMigrationsDir(options.migrationsDir);
  const upTo = options.upTo;
  const migrationsList = upTo === undefined ? all : { ...all, migrationDirectories: all.migrationDirectories.filter((dir) => dir.path <= upTo) };
  return withSchemaEngine({ databaseUrl: options.databaseUrl }, async (engine) => {
    const result = await callEngine('applyMigrations', () => engine.applyMigrations({ migrationsList, filters: NO_FILTER }));
    return result.appliedMigrationNames;
  });
}

/**
 * Asks Prisma's schema engine to compare `_prisma_migrations` with the migrations directory, as
 * `prisma migrate status` does: edited, failed and unapplied migrations. Read-only; takes no locks.
 */
export async function diagnosePrismaMigrations(options: PrismaMigrationsOptions): Promise<DiagnoseMigrationHistoryOutput> {
  const migrationsList = await readMigrationsDir(options.migrationsDir);
  return withSchemaEngine({ databaseUrl: options.databaseUrl }, (engine) =>
    callEngine('diagnoseMigrationHistory', () =>
      engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTER }),
    ),
  );
}

/**
 * Returns the SQL Prisma would write to create `schemaPath`'s models from an empty database (what
 * `prisma migrate diff --from-empty --to-schema` prints). Needs a reachable PostgreSQL only because the
 * engine is constructed with a connection; it reads and changes nothing there.
 */
export async function diffEmptyToSchema(databaseUrl: string, schemaPath: string): Promise<string> {
  const content = await readFile(schemaPath, 'utf8');
  const files = [{ path: path.basename(schemaPath), content }];
  return withSchemaEngine({ databaseUrl }, async (engine) => {
    const result = await callEngine('diff', () =>
      engine.diff({ from: { tag: 'empty' }, to: { tag: 'schemaDatamodel', files }, script: true, exitCode: null, filters: NO_FILTER }),
    );
    return result.stdout ?? '';
  });
}
