import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { addColumn, createIndex, createTable, definePhase, definePlan, dropColumn, dropIndex, PhaseRunner, rawSql, renameColumn, schemaStep, step } from '../index.js';
import { applySetupMigration } from '../operations/fixtures/operation-harness.js';

const db = useTestDatabase();
const sql = (text: string) => withClient(db.url, async (client) => (await client.query(text)).rows);

describe('steps are planned on the catalog the steps before them leave', () => {
  it('drops an index then renames its column in one phase, drops an index a rawSql step made, and plans later phases on tables earlier ones create', async () => {
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-evolving-')), 'migrations');
    await applySetupMigration(
      db.url,
      migrationsDir,
      '20300301000000_setup',
      `create table "Customer" (id text primary key, customer_email text not null, note text); create unique index "Customer_customer_email_key" on "Customer"(customer_email);`,
    );
    const plan = definePlan({
      name: 'shop',
      migrationsDir,
      migrationPrefix: '20300302000000',
      phases: [
        definePhase({
          name: 'email',
          steps: [
            schemaStep('drop_email_key', step(dropIndex, { name: 'Customer_customer_email_key' })),
            schemaStep('rename_email', step(renameColumn, { table: 'Customer', from: 'customer_email', to: 'email' })),
            schemaStep('note_index', step(rawSql, { name: 'note_index', up: ['CREATE INDEX "Customer_note_idx" ON "Customer" ("note")'], down: ['DROP INDEX IF EXISTS "Customer_note_idx"'] })),
            schemaStep('drop_note_index', step(dropIndex, { name: 'Customer_note_idx' })),
          ],
        }),
        definePhase({
          name: 'orders',
          dependsOn: ['email'],
          steps: [schemaStep('order_table', step(createTable, { table: 'Order', columns: [{ name: 'id', type: 'TEXT', nullable: false }, { name: 'customerId', type: 'TEXT' }], primaryKey: ['id'] }))],
        }),
        definePhase({
          name: 'order_details',
          dependsOn: ['orders'],
          steps: [
            schemaStep('order_total', step(addColumn, { table: 'Order', column: 'total', type: 'NUMERIC(10,2)' })),
            schemaStep('order_customer_index', step(createIndex, { table: 'Order', columns: ['customerId'] })),
          ],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });
    // Nothing has run: every step of every phase is planned, none deferred.
    const plans = await runner.planAll();
    expect(plans.map((p) => [p.phase, p.steps.map((s) => [s.name, s.deferred, s.units.length > 0])])).toEqual([
      ['email', [['drop_email_key', false, true], ['rename_email', false, true], ['note_index', false, true], ['drop_note_index', false, true]]],
      ['orders', [['order_table', false, true]]],
      ['order_details', [['order_total', false, true], ['order_customer_index', false, true]]],
    ]);
    expect((await runner.planPhase('order_details')).map((s) => s.name)).toEqual(['order_total', 'order_customer_index']);
    await runner.runAll();
    expect(await sql(`select column_name from information_schema.columns where table_name = 'Customer' order by 1`)).toEqual([{ column_name: 'customer_email' }, { column_name: 'email' }, { column_name: 'id' }, { column_name: 'note' }]);
    expect(await sql(`select count(*)::int as n from pg_indexes where indexname in ('Customer_note_idx', 'Customer_customer_email_key')`)).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from pg_indexes where indexname = 'Order_customerId_idx'`)).toEqual([{ n: 1 }]);
    expect((await runner.verify()).filter((c) => !c.ok)).toEqual([]);
  });

  it('verify --all excuses a post-condition a later completed step changed on purpose (superseded), and only that', async () => {
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-evolving-')), 'migrations');
    await applySetupMigration(db.url, migrationsDir, '20300303000000_setup', `create table "Member" (id text primary key, email text);`);
    const plan = definePlan({
      name: 'helper',
      migrationsDir,
      migrationPrefix: '20300304000000',
      phases: [
        definePhase({ name: 'add_helper', steps: [schemaStep('email_key_column', step(addColumn, { table: 'Member', column: 'email_key', type: 'TEXT' })), schemaStep('email_index', step(createIndex, { table: 'Member', columns: ['email'] }))] }),
        definePhase({ name: 'drop_helper', kind: 'contract', dependsOn: ['add_helper'], steps: [schemaStep('drop_email_key', step(dropColumn, { table: 'Member', column: 'email_key', backup: false }))] }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });
    await runner.runAll();
    const checks = await runner.verify();
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.name.startsWith('email_key_column'))?.detail).toMatch(/^superseded by drop_helper\/drop_email_key: /);
    // A post-condition broken by hand is still a failure: nothing later touched that index.
    await sql(`drop index "Member_email_idx"`);
    expect((await runner.verify()).filter((c) => !c.ok).map((c) => c.name)).toEqual([expect.stringMatching(/^email_index: /)]);
  });
});
