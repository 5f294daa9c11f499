/** What the examples' seeds share: the "before" migration through Prisma's engine, one data script, a census. */
import { applyPrismaMigrations, withClient } from '@prisma-evolve/core';

/**
 * Applies `migrationsDir`'s initial migration (`20260101000000_init`, recorded in `_prisma_migrations` as Prisma
 * does) to an empty database, runs `sql` in one transaction, then answers each of `counts` (a query returning
 * one row `{ n }`). Not idempotent: refuses a database where `emptyTable` has rows.
 */
export async function seedExample<K extends string>(options: {
  readonly databaseUrl: string;
  readonly migrationsDir: string;
  readonly emptyTable: string;
  readonly sql: string;
  readonly counts: Readonly<Record<K, string>>;
}): Promise<Record<K, number>> {
  await applyPrismaMigrations({ databaseUrl: options.databaseUrl, migrationsDir: options.migrationsDir, upTo: '20260101000000_init' });
  return withClient(options.databaseUrl, async (client) => {
    const existing = await client.query<{ n: string }>(`select count(*) as n from ${options.emptyTable}`);
    if (Number(existing.rows[0]?.n) > 0) throw new Error(`database already holds ${existing.rows[0]?.n} ${options.emptyTable}: seed an empty database`);
    await client.query(`begin; ${options.sql}; commit;`);
    const census = {} as Record<K, number>;
    for (const [name, sql] of Object.entries(options.counts) as [K, string][]) census[name] = Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
    return census;
  });
}
