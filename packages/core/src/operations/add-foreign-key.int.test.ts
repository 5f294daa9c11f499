import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { definePhase, definePlan, schemaStep } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { addForeignKey } from './add-foreign-key.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

const parents = `create table authors (id text primary key); insert into authors select 'a' || g from generate_series(1, 50) g;`;

describeOperation('addForeignKey', [
  {
    name: 'clean data: index concurrently, NOT VALID, VALIDATE',
    setup: `${parents} create table books (id int primary key, "authorId" text);
            insert into books select g, 'a' || (1 + g % 50) from generate_series(1, 2000) g`,
    step: step(addForeignKey, { table: 'books', columns: ['authorId'], references: { table: 'authors', columns: ['id'] }, onDelete: 'CASCADE' }),
  },
  {
    name: 'orphans deleted into a backup table, restored on down',
    setup: `create table owners (id int primary key); insert into owners select generate_series(1, 10);
            create table pets (id int primary key, "ownerId" int); insert into pets select g, g % 15 from generate_series(1, 300) g`,
    step: step(addForeignKey, { table: 'pets', columns: ['ownerId'], references: { table: 'owners', columns: ['id'] }, orphans: 'delete' }),
    afterUp: async (url) => {
      const { rows } = await exec(url, `select (select count(*)::int from pets) as kept, (select count(*)::int from "_evolve"."_evolve_bak_pets_ownerId_fkey_orphans") as saved`);
      expect(rows[0]).toEqual({ kept: 200, saved: 100 });
    },
    afterDown: async (url) => {
      const { rows } = await exec(url, `select count(*)::int as n from pets`);
      expect(rows[0]?.n).toBe(300);
    },
  },
  {
    name: 'orphans nulled (values backed up), restored on down',
    setup: `create table teams (id int primary key); insert into teams select generate_series(1, 10);
            create table players (id int primary key, "teamId" int); insert into players select g, g % 15 from generate_series(1, 300) g`,
    step: step(addForeignKey, { table: 'players', columns: ['teamId'], references: { table: 'teams', columns: ['id'] }, orphans: 'set-null', index: false }),
    afterUp: async (url) => {
      const { rows } = await exec(url, `select count(*) filter (where "teamId" is null)::int as nulled from players`);
      expect(rows[0]?.nulled).toBe(100);
    },
    afterDown: async (url) => {
      const { rows } = await exec(url, `select count(*) filter (where "teamId" is null)::int as nulled, sum("teamId")::int as total from players`);
      expect(rows[0]).toEqual({ nulled: 0, total: 20 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14) });
    },
  },
  {
    name: 'with up, old code that writes references to missing rows keeps working until contract; existing orphans repaired',
    setup: `create table "Shop" (id int primary key); insert into "Shop" values (0), (1), (2);
            create table "Sale" (id int primary key, "shopId" int); insert into "Sale" select g, g % 5 from generate_series(1, 1000) g`,
    step: step(addForeignKey, { table: 'Sale', columns: ['shopId'], references: { table: 'Shop', columns: ['id'] }, up: '0' }),
    contract: true,
    afterUp: async (url) => {
      await exec(url, `insert into "Sale" values (9001, 42)`);
      await exec(url, `update "Sale" set "shopId" = 77 where id = 1`);
      expect((await exec(url, `select id, "shopId" from "Sale" where id in (1, 3, 9001) order by id`)).rows).toEqual([
        { id: 1, shopId: 0 },
        { id: 3, shopId: 0 },
        { id: 9001, shopId: 0 },
      ]);
    },
    afterContract: async (url) => {
      await expect(exec(url, `insert into "Sale" values (9002, 42)`)).rejects.toThrow(/"Sale_shopId_fkey"/);
    },
  },
]);

const db = useTestDatabase();

describe('addForeignKey with orphans and orphans: fail', () => {
  it('reports the orphans with sample keys before anything runs', async () => {
    await exec(db.url, `create table shops (id int primary key); insert into shops values (1);
                        create table sales (id int primary key, "shopId" int); insert into sales values (1, 1), (2, 7), (3, 8)`);
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-fk-')), 'migrations');
    const plan = definePlan({
      name: 'fk',
      migrationsDir,
      migrationPrefix: '20300101000000',
      phases: [definePhase({ name: 'fk', steps: [schemaStep('fk', step(addForeignKey, { table: 'sales', columns: ['shopId'], references: { table: 'shops', columns: ['id'] } }))] })],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });
    const planned = await runner.planPhase('fk');
    expect(planned[0]?.prechecks[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/2 row\(s\) of "sales" reference a missing "shops", e.g. keys \(2\), \(3\)/) });
    await expect(runner.run('fk')).rejects.toThrow(/orphans.*2 row\(s\)/);
    const { rows } = await exec(db.url, `select count(*)::int as n from pg_constraint where conname = 'sales_shopId_fkey'`);
    expect(rows[0]?.n).toBe(0);
  });
});
