import pg from 'pg';
import { listTables, quoteQualified } from '@prisma-evolve/core';

/**
 * An md5 per table of every row's text form, rows in text order: two databases with equal checksums
 * hold the same data. For determinism and parity tests (same seed, same data; resumed run equals a
 * clean run). Read-only, one repeatable-read snapshot; reads every row, so meant for test-sized data.
 */
export async function tableChecksums(
  databaseUrl: string,
  options: { schema?: string; exclude?: readonly string[] } = {},
): Promise<Record<string, string>> {
  const schema = options.schema ?? 'public';
  const exclude = options.exclude ?? ['_prisma_migrations'];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const sums: Record<string, string> = {};
    for (const table of await listTables(client, schema)) {
      if (exclude.includes(table)) continue;
      const { rows } = await client.query<{ sum: string }>(
        `select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as sum from ${quoteQualified(schema, table)} t`,
      );
      sums[table] = rows[0]!.sum;
    }
    await client.query('commit');
    return sums;
  } finally {
    await client.end();
  }
}
