import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { applyPlannedSql } from './catalog-model.js';
import { readCatalogSnapshot, type CatalogSnapshot } from './catalog-snapshot.js';
import { withClient } from './with-client.js';

const db = useTestDatabase();

/** What planning reads from a catalog: everything but the definition texts PostgreSQL normalises. */
function planningView(catalog: CatalogSnapshot) {
  return {
    tables: catalog.tables.map((t) => ({
      table: `${t.schema}.${t.name}`,
      columns: t.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull, hasDefault: c.default !== null, generated: c.generated })),
      constraints: t.constraints.map((c) => ({ name: c.name, type: c.type, columns: c.columns, validated: c.validated, referencedTable: c.referencedTable, deleteAction: c.deleteAction })),
      indexes: t.indexes.map((i) => ({ name: i.name, unique: i.unique, columns: i.columns, constraint: i.constraint, references: i.references })),
      triggers: t.triggers,
    })),
    functions: catalog.functions,
  };
}

const STEPS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE "Customer" ("id" TEXT NOT NULL, "customer_email" TEXT NOT NULL, "name" VARCHAR(120), "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "score" INTEGER DEFAULT 0, "tags" TEXT[], CONSTRAINT "Customer_pkey" PRIMARY KEY ("id"))`,
    `CREATE UNIQUE INDEX "Customer_customer_email_key" ON "Customer"("customer_email")`,
    `CREATE TABLE "Order" ("id" SERIAL PRIMARY KEY, "customerId" TEXT REFERENCES "Customer"("id") ON DELETE CASCADE, "total" NUMERIC(10,2) NOT NULL CHECK (total >= 0), "shipping" JSONB, UNIQUE ("customerId", "total"))`,
  ],
  [
    `CREATE INDEX CONCURRENTLY IF NOT EXISTS "Order_shipping_city_idx" ON "public"."Order" ((shipping->>'city')) WHERE "total" > 0`,
    `ALTER TABLE "public"."Customer" ADD COLUMN "email" TEXT`,
    `ALTER TABLE "public"."Customer" ADD CONSTRAINT "_evolve_chk_Customer_email_nn" CHECK ("email" IS NOT NULL) NOT VALID`,
    `ALTER TABLE "public"."Customer" VALIDATE CONSTRAINT "_evolve_chk_Customer_email_nn"`,
    `ALTER TABLE "public"."Customer" ALTER COLUMN "email" SET NOT NULL, ALTER COLUMN "score" DROP DEFAULT, ALTER COLUMN "name" SET DEFAULT 'anon'`,
    `ALTER TABLE "public"."Customer" DROP CONSTRAINT "_evolve_chk_Customer_email_nn"`,
    `CREATE OR REPLACE FUNCTION "public"."_evolve_fn_Customer_email"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW."email" := NEW."customer_email"; RETURN NEW; END $$`,
    `CREATE TRIGGER "_evolve_trg_Customer_email" BEFORE INSERT OR UPDATE ON "public"."Customer" FOR EACH ROW EXECUTE FUNCTION "public"."_evolve_fn_Customer_email"()`,
  ],
  [
    `DROP INDEX CONCURRENTLY IF EXISTS "public"."Customer_customer_email_key"`,
    `CREATE UNIQUE INDEX CONCURRENTLY "Customer_email_key" ON "public"."Customer" ("email")`,
    `DROP TRIGGER IF EXISTS "_evolve_trg_Customer_email" ON "public"."Customer"`,
    `DROP FUNCTION IF EXISTS "public"."_evolve_fn_Customer_email"()`,
    `ALTER TABLE "public"."Customer" DROP COLUMN "customer_email"`,
    `ALTER TABLE "public"."Order" RENAME COLUMN "shipping" TO "shippingAddress"`,
    `ALTER TABLE "public"."Order" ALTER COLUMN "total" TYPE NUMERIC(12,2)`,
    `ALTER TABLE "public"."Order" RENAME CONSTRAINT "Order_customerId_fkey" TO "Order_customer_fkey"`,
    `ALTER INDEX "public"."Order_shipping_city_idx" RENAME TO "Order_city_idx"`,
    `ALTER TABLE "public"."Order" RENAME TO "Purchase"`,
    `CREATE SCHEMA IF NOT EXISTS "_evolve"`,
    `ALTER TABLE "public"."Customer" ADD COLUMN "legacy" INT`,
    `CREATE TABLE "public"."Old" (id int)`,
    `ALTER TABLE "public"."Old" RENAME TO "_evolve_bak_Old"`,
    `ALTER TABLE "public"."_evolve_bak_Old" SET SCHEMA "_evolve"`,
    `UPDATE "public"."Customer" SET "legacy" = 1`,
  ],
];

describe('the catalog model: planned SQL applied to a snapshot equals what PostgreSQL does', () => {
  it('agrees with the catalog after every group of statements (tables, columns, constraints, indexes, triggers, functions)', async () => {
    await withClient(db.url, async (client) => {
      let model = await readCatalogSnapshot(client, ['public']);
      for (const group of STEPS) {
        for (const sql of group) await client.query(sql);
        model = await applyPlannedSql(model, group);
        expect(planningView(model)).toEqual(planningView(await readCatalogSnapshot(client, ['public'])));
      }
      // Definitions usable to rebuild what was modelled.
      const customer = model.tables.find((t) => t.name === 'Customer');
      expect(customer?.indexes.find((i) => i.name === 'Customer_email_key')?.definition).toBe('CREATE UNIQUE INDEX "Customer_email_key" ON "public"."Customer" ("email")');
      expect(customer?.columns.find((c) => c.name === 'name')?.default).toBe(`'anon'`);
    });
  });

  it('names the statement it cannot parse', async () => {
    await expect(applyPlannedSql({ tables: [], functions: [] }, ['ALTER TABLE nope ADD'])).rejects.toThrow(/cannot parse "ALTER TABLE nope ADD"/);
  });
});
