import { expect } from '@jest/globals';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';
import { renameTable } from './rename-table.js';

describeOperation('renameTable', [
  {
    name: 'old code keeps writing through a view with the old name; contract gives constraints, indexes and the sequence Prisma names',
    setup: `create table "Client" (id serial primary key, email text not null, "createdAt" timestamptz not null default now());
            create unique index "Client_email_key" on "Client"(email);
            create index "Client_createdAt_idx" on "Client"("createdAt");
            create table "Invoice" (id int primary key, "clientId" int not null references "Client"(id) on delete cascade);
            insert into "Client" (email) select 'c' || g || '@x.io' from generate_series(1, 300) g;
            insert into "Invoice" select g, g from generate_series(1, 300) g`,
    step: step(renameTable, { from: 'Client', to: 'Customer' }),
    contract: true,
    afterUp: async (url) => {
      // Old code (the old name): insert with defaults and the sequence, upsert, update, delete, RETURNING.
      const { rows } = await exec(url, `insert into "Client" (email) values ('old@x.io') returning id, "createdAt" is not null as stamped`);
      expect(rows).toEqual([{ id: 301, stamped: true }]);
      await exec(url, `insert into "Client" (email) values ('old@x.io') on conflict (email) do update set email = excluded.email`);
      await exec(url, `update "Client" set email = 'renamed@x.io' where id = 1`);
      // New code (the new name) sees every write, and uniqueness holds across both names.
      await expect(exec(url, `insert into "Customer" (email) values ('renamed@x.io')`)).rejects.toThrow(/duplicate key/);
      await exec(url, `delete from "Client" where id = 301`);
      expect((await exec(url, `select count(*)::int as n from "Customer"`)).rows).toEqual([{ n: 300 }]);
      // Foreign keys follow the table.
      await expect(exec(url, `insert into "Invoice" values (9001, 9999)`)).rejects.toThrow(/foreign key/);
    },
    afterContract: async (url) => {
      const { rows } = await exec(url, `select relname from pg_class where relname like 'C%' and relkind in ('r', 'i', 'S', 'v') order by 1`);
      expect(rows.map((r) => r.relname)).toEqual(['Customer', 'Customer_createdAt_idx', 'Customer_email_key', 'Customer_id_seq', 'Customer_pkey']);
      // The renamed sequence still feeds the key (values the failed inserts above drew are skipped, as always).
      const { rows: next } = await exec(url, `insert into "Customer" (email) values ('new@x.io') returning id`);
      expect(next[0]?.id).toBeGreaterThan(301);
    },
  },
  {
    name: 'refuses a new name that is taken',
    setup: `create table "Alpha" (id int primary key); create table "Beta" (id int primary key)`,
    step: step(renameTable, { from: 'Alpha', to: 'Beta' }),
    refusal: /table "public"\."Beta" exists already/,
  },
  {
    name: 'quotes hostile identifiers',
    setup: `create table "Old ""T""" (id serial primary key, "v a""l" text); create index "Old ""T""_v a""l_idx" on "Old ""T"""("v a""l")`,
    step: step(renameTable, { from: 'Old "T"', to: 'New "T" x' }),
    contract: true,
  },
]);
