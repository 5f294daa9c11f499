import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { applyPrismaMigrations, assertReachable, listTables, parseConnectionTarget, quoteIdent } from '@prisma-evolve/core';
import { generateLegacyData, ROWS_PER_SCALE, type LegacySummary, type LegacyTable } from './legacy-generator.js';

/** The example app's "before" schema: the seed applies this migration only, never the plan's phase folders. */
export const BASELINE_MIGRATION = '20260101000000_init';

/** The example app's Prisma migrations (the "before" schema of seed 003). */
export const EXAMPLE_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'prisma', 'migrations');

/** Options of {@link seedLegacyDatabase}. */
export interface SeedLegacyOptions {
  readonly databaseUrl: string;
  readonly scale: number;
  readonly seed: number;
  /** Drop and recreate the `public` schema first. Without it, a database holding data is refused. */
  readonly reset?: boolean;
  readonly migrationsDir?: string;
  readonly onTable?: (table: LegacyTable, rows: number) => void;
}

/** The database already holds data (or unrelated tables) and `reset` was not asked for. */
export class DatabaseNotEmptyError extends Error {
  constructor(
    readonly database: string,
    readonly tables: readonly string[],
    reason: string,
  ) {
    super(`database "${database}" ${reason}: ${tables.map((table) => `"${table}"`).join(', ')}; pass --reset to drop and recreate its "public" schema`);
    this.name = 'DatabaseNotEmptyError';
  }
}

/**
 * Migrates `databaseUrl` to the example's "before" schema (Prisma's engine, `_prisma_migrations`
 * recorded) and fills it with deterministic legacy data. Fails fast, naming host and port, when the
 * server is unreachable. Never destroys data unless `reset` is set: a database with rows in the
 * example's tables, or with tables of its own and no Prisma history, is refused. The data is written in
 * one transaction (all or nothing), then ANALYZEd so planner statistics and `reltuples` are realistic.
 */
export async function seedLegacyDatabase(options: SeedLegacyOptions): Promise<LegacySummary> {
  if (!Number.isFinite(options.scale) || options.scale <= 0) throw new RangeError(`--scale must be a positive number, got ${options.scale}`);
  if (!Number.isInteger(options.seed)) throw new RangeError(`--seed must be an integer, got ${options.seed}`);
  await assertReachable(options.databaseUrl);
  const { database } = parseConnectionTarget(options.databaseUrl);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    if (options.reset) {
      await client.query('drop schema if exists public cascade');
      await client.query('create schema public');
    } else {
      const existing = await listTables(client, 'public');
      if (existing.length > 0 && !existing.includes('_prisma_migrations')) {
        throw new DatabaseNotEmptyError(database, existing, 'has tables that prisma migrations did not create');
      }
    }
    await applyPrismaMigrations({ databaseUrl: options.databaseUrl, migrationsDir: options.migrationsDir ?? EXAMPLE_MIGRATIONS_DIR, upTo: BASELINE_MIGRATION });

    const legacyTables = Object.keys(ROWS_PER_SCALE) as LegacyTable[];
    const filled: string[] = [];
    for (const table of legacyTables) {
      const { rows } = await client.query(`select 1 from ${quoteIdent(table)} limit 1`);
      if (rows.length > 0) filled.push(table);
    }
    if (filled.length > 0) throw new DatabaseNotEmptyError(database, filled, 'already has data in');

    await client.query('begin');
    try {
      const summary = await generateLegacyData(client, options);
      await client.query('commit');
      await client.query('analyze');
      return summary;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  } finally {
    await client.end();
  }
}
