/**
 * Issue 14's e-commerce evolution end to end, through the public API: an index dropped and its column
 * renamed in one phase; `customer_email` renamed with its unique index carried while a concurrent writer,
 * old code and new code, keeps trying duplicates; a table renamed (`@@map`) while both write; an enum value
 * removed with a mapping; `verify --all` clean; and Prisma's engine finds no drift between the database and
 * the target schema.prisma.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { applyPrismaMigrations, diffDatabaseToSchema, isEmptyDiff, PhaseRunner, withClient } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { ecommercePlan } from './plan.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const db = useTestDatabase();
const sql = (text: string, params: unknown[] = []) => withClient(db.url, async (client) => (await client.query(text, params)).rows);

/** Keeps inserting as old code (old column) and new code (new column): fresh emails must succeed, duplicates must be refused. */
function duplicateHunter(): { stop: () => Promise<{ fresh: number; refused: number; accepted: number }> } {
  let running = true;
  const tally = { fresh: 0, refused: 0, accepted: 0 };
  const loop = withClient(db.url, async (client) => {
    for (let i = 0; running; i += 1) {
      const hasNew = (await client.query(`select 1 from information_schema.columns where table_name = 'Customer' and column_name = 'email'`)).rowCount === 1;
      const hasOld = (await client.query(`select 1 from information_schema.columns where table_name = 'Customer' and column_name = 'customer_email'`)).rowCount === 1;
      const column = hasOld && (!hasNew || i % 2 === 0) ? 'customer_email' : 'email';
      await client.query(`insert into "Customer" (id, ${column}) values ($1, $2)`, [`w${i}`, `w${i}@shop.io`]);
      tally.fresh += 1;
      try {
        await client.query(`insert into "Customer" (id, ${column}) values ($1, $2)`, [`d${i}`, 'c1@shop.io']);
        tally.accepted += 1;
      } catch (error) {
        if ((error as { code?: string }).code !== '23505') throw error;
        tally.refused += 1;
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await loop;
      return tally;
    },
  };
}

describe('the e-commerce evolution of issue 14', () => {
  it('runs every change while old and new code write, verifies clean, and leaves no drift against the target schema.prisma', async () => {
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-shop-')), 'migrations');
    // The app's own migration history: one folder Prisma wrote for the "before" schema.
    mkdirSync(path.join(migrationsDir, '20300600000000_init'), { recursive: true });
    writeFileSync(path.join(migrationsDir, '20300600000000_init', 'migration.sql'), readFileSync(path.join(here, 'before.sql'), 'utf8'));
    writeFileSync(path.join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir });
    await sql(`insert into "Customer" select 'c' || g, 'c' || g || '@shop.io', 'Customer ' || g from generate_series(1, 2000) g`);
    await sql(`insert into "Product" select 'p' || g, 'SKU-' || g, 'Product ' || g from generate_series(1, 200) g`);
    await sql(`insert into "Order" select 'o' || g, 'c' || (1 + g % 2000), (array['PENDING', 'PAID', 'LEGACY_SHIPPED', 'SHIPPED'])[1 + g % 4]::"OrderStatus", null from generate_series(1, 4000) g`);
    await sql(`insert into "OrderItem" select 'i' || g, 'o' || (1 + g % 4000), 'p' || (1 + g % 200), 1 from generate_series(1, 8000) g`);

    const runner = new PhaseRunner(ecommercePlan(migrationsDir), { databaseUrl: db.url, migrationsDir });
    // Every phase plans on a database where nothing has run yet.
    expect((await runner.planAll()).flatMap((p) => p.steps.filter((s) => s.deferred))).toEqual([]);

    const hunter = duplicateHunter();
    await runner.run('customer_email');
    await runner.run('product_code');
    const tally = await hunter.stop();
    expect(tally.fresh).toBeGreaterThan(0);
    expect(tally.refused).toBe(tally.fresh);
    expect(tally.accepted).toBe(0);

    await runner.run('purchases');
    // Old code writes "Order", new code "Purchase": one table, one set of rules.
    await sql(`insert into "Order" (id, "customerId") values ('old-1', 'c1')`);
    await sql(`insert into "Purchase" (id, "customerId", status) values ('new-1', 'c2', 'PAID')`);
    await expect(sql(`insert into "Order" (id, "customerId") values ('new-1', 'c3')`)).rejects.toThrow(/duplicate key/);

    await runner.run('order_status');
    // Old code still writes the value that goes; it is mapped as it is written.
    await sql(`insert into "Purchase" (id, "customerId", status) values ('old-2', 'c4', 'LEGACY_SHIPPED')`);
    await runner.run('contract');

    expect((await runner.verify()).filter((check) => !check.ok)).toEqual([]);
    expect(await sql(`select status::text, count(*)::int as n from "Purchase" where id in ('old-1', 'new-1', 'old-2') group by 1 order by 1`)).toEqual([
      { status: 'PAID', n: 1 },
      { status: 'PENDING', n: 1 },
      { status: 'SHIPPED', n: 1 },
    ]);
    expect(await sql(`select count(*)::int as n, count(distinct email)::int as emails from "Customer"`)).toEqual([{ n: 2000 + tally.fresh, emails: 2000 + tally.fresh }]);
    const drift = await diffDatabaseToSchema(db.url, path.join(here, 'schema.prisma'));
    expect({ drift, empty: isEmptyDiff(drift) }).toEqual({ drift, empty: true });
  });
});
