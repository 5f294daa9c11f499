import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { definePhase, definePlan, schemaStep } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { addColumn } from './add-column.js';
import { applySetupMigration, describeOperation, exec } from './fixtures/operation-harness.js';
import { parseSpec, step } from './operation.js';

describeOperation('addColumn', [
  {
    name: 'adds a nullable column',
    setup: `create table accounts (id int primary key); insert into accounts select generate_series(1, 500)`,
    step: step(addColumn, { table: 'accounts', column: 'nickname', type: 'TEXT' }),
  },
  {
    name: 'adds a NOT NULL column with a constant (and a stable) default without a rewrite',
    setup: `create table wallets (id int primary key); insert into wallets select generate_series(1, 500)`,
    step: step(addColumn, { table: 'wallets', column: 'Balance Cents', type: 'INTEGER', nullable: false, default: '0' }),
  },
  {
    name: 'accepts now() (stable: evaluated once)',
    setup: `create table stamps (id int primary key); insert into stamps select generate_series(1, 50)`,
    step: step(addColumn, { table: 'stamps', column: 'createdAt', type: 'TIMESTAMP(3)', nullable: false, default: 'now()' }),
  },
  {
    name: 'computes a NOT NULL column with `up` for existing rows and for old code\'s writes until contract',
    setup: `create table "Customer" (id int primary key, email text not null); insert into "Customer" select g, 'C' || g || '@X.io' from generate_series(1, 1500) g`,
    step: step(addColumn, { table: 'Customer', column: 'email_key', type: 'TEXT', nullable: false, up: 'lower(email)' }),
    contract: true,
    afterUp: async (url) => {
      // Old code knows nothing of the column: its inserts and updates get it computed.
      await exec(url, `insert into "Customer" (id, email) values (9001, 'Old@Writer.io')`);
      await exec(url, `update "Customer" set email = 'Changed@X.io' where id = 1`);
      // New code writes it itself and is left alone.
      await exec(url, `insert into "Customer" (id, email, email_key) values (9002, 'New@Writer.io', 'chosen')`);
      const { rows } = await exec(url, `select id, email_key from "Customer" where id in (1, 2, 9001, 9002) order by id`);
      expect(rows).toEqual([
        { id: 1, email_key: 'changed@x.io' },
        { id: 2, email_key: 'c2@x.io' },
        { id: 9001, email_key: 'old@writer.io' },
        { id: 9002, email_key: 'chosen' },
      ]);
    },
    afterContract: async (url) => {
      // The rule now holds for every writer: the trigger is gone and the column is NOT NULL.
      await expect(exec(url, `insert into "Customer" (id, email) values (9003, 'late@x.io')`)).rejects.toThrow(/null value in column "email_key"/);
    },
  },
]);

describe('addColumn with up under an old-code writer', () => {
  const db = useTestDatabase();
  it('leaves no row without the column although old code inserts and updates throughout the expand phase', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-up-')), 'migrations');
    await applySetupMigration(db.url, dir, '20300401000000_setup', `create table orders (id serial primary key, total_cents int not null); insert into orders (total_cents) select g from generate_series(1, 20000) g;`);
    const plan = definePlan({
      name: 'up',
      migrationsDir: dir,
      migrationPrefix: '20300402000000',
      phases: [definePhase({ name: 'amount', steps: [schemaStep('amount', step(addColumn, { table: 'orders', column: 'amount', type: 'NUMERIC(12,2)', nullable: false, up: 'total_cents / 100.0' }))] })],
    });
    let writing = true;
    let writes = 0;
    const writer = withClient(db.url, async (client) => {
      while (writing) {
        // Old code: it never names "amount".
        await client.query(`insert into orders (total_cents) values (7)`);
        await client.query(`update orders set total_cents = total_cents + 1 where id = (select max(id) from orders)`);
        writes += 2;
      }
    });
    try {
      await new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir }).run('amount');
    } finally {
      writing = false;
      await writer;
    }
    expect(writes).toBeGreaterThan(0);
    const { rows } = await exec(db.url, `select count(*)::int as wrong from orders where amount is distinct from total_cents / 100.0`);
    expect(rows).toEqual([{ wrong: 0 }]);
  });
});

describe('addColumn spec', () => {
  it('refuses NOT NULL without a default, naming the field', () => {
    expect(() => parseSpec(addColumn, { table: 't', column: 'c', type: 'INT', nullable: false })).toThrow('"addColumn.nullable"');
  });
});
