/** Small helpers the examples' tests share: one query on a fresh connection, and the public schema's catalog. */
import { readCatalogSnapshot, type CatalogSnapshot } from '@prisma-evolve/core';
import pg from 'pg';

/** Runs one statement on its own connection and returns its rows. */
export async function queryOn<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The catalog of schema `public` without `_prisma_migrations` (which a rollback keeps, as Prisma does). */
export async function publicSchema(url: string): Promise<CatalogSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const full = await readCatalogSnapshot(client, ['public']);
    return { ...full, tables: full.tables.filter((t) => t.name !== '_prisma_migrations') };
  } finally {
    await client.end();
  }
}
