import { expect } from '@jest/globals';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';
import { renameColumn } from './rename-column.js';

describeOperation('renameColumn', [
  {
    name: 'expand adds the new column synced both ways; contract drops the old one',
    setup: `create table members (id int primary key, "fullname" text not null default '');
            insert into members select g, 'member ' || g from generate_series(1, 3000) g`,
    step: step(renameColumn, { table: 'members', from: 'fullname', to: 'Display Name' }),
    contract: true,
    afterUp: async (url) => {
      // Old code writes the old column, new code the new one: both stay equal.
      await exec(url, `insert into members (id, fullname) values (9001, 'old writer')`);
      await exec(url, `insert into members (id, "Display Name") values (9002, 'new writer')`);
      await exec(url, `update members set fullname = 'renamed by old' where id = 1`);
      await exec(url, `update members set "Display Name" = 'renamed by new' where id = 2`);
      const { rows } = await exec(url, `select id, fullname, "Display Name" as display from members where id in (1, 2, 9001, 9002) order by id`);
      expect(rows).toEqual([
        { id: 1, fullname: 'renamed by old', display: 'renamed by old' },
        { id: 2, fullname: 'renamed by new', display: 'renamed by new' },
        { id: 9001, fullname: 'old writer', display: 'old writer' },
        { id: 9002, fullname: 'new writer', display: 'new writer' },
      ]);
      const { rows: nn } = await exec(url, `select attnotnull from pg_attribute where attrelid = 'members'::regclass and attname = 'Display Name'`);
      expect(nn[0]?.attnotnull).toBe(true);
    },
  },
  {
    name: 'carries the unique, partial, expression and multi-column indexes, the check and the foreign key to the new column; Prisma names at contract',
    setup: `create table tenants (id int primary key);
            create table emails (address text primary key);
            insert into emails select 'c' || g || '@x.io' from generate_series(1, 2000) g;
            create table "Customer" (id int primary key, "customer_email" text not null references emails(address), "tenantId" int not null references tenants(id), deleted boolean not null default false,
              constraint "Customer_customer_email_check" check (customer_email <> ''));
            create unique index "Customer_customer_email_key" on "Customer"(customer_email);
            create index "Customer_tenantId_customer_email_idx" on "Customer"("tenantId", customer_email);
            create index active_email on "Customer"(lower(customer_email)) where not deleted and customer_email is not null;
            insert into tenants values (1), (2);
            insert into "Customer" select g, 'c' || g || '@x.io', 1 + g % 2, false from generate_series(1, 2000) g`,
    step: step(renameColumn, { table: 'Customer', from: 'customer_email', to: 'email' }),
    contract: true,
    afterUp: async (url) => {
      const { rows } = await exec(
        url,
        `select indexname, indexdef from pg_indexes where tablename = 'Customer' and indexdef like '%email%' and indexdef not like '%customer_email%' order by 1`,
      );
      expect(rows.map((r) => r.indexname)).toEqual(['Customer_email_key', 'Customer_tenantId_email_idx', '_evolve_idx_active_email']);
      expect(rows.find((r) => r.indexname === '_evolve_idx_active_email')?.indexdef).toMatch(/lower\(email\).*WHERE \(\(NOT deleted\) AND \(email IS NOT NULL\)\)/);
      // A duplicate is refused whether old code (old column) or new code (new column) writes it.
      await expect(exec(url, `insert into "Customer" (id, customer_email, "tenantId") values (9001, 'c1@x.io', 1)`)).rejects.toThrow(/duplicate key/);
      await expect(exec(url, `insert into "Customer" (id, email, "tenantId") values (9002, 'c2@x.io', 1)`)).rejects.toThrow(/"Customer_email_key"|"Customer_customer_email_key"/);
      await expect(exec(url, `insert into "Customer" (id, email, "tenantId") values (9003, '', 1)`)).rejects.toThrow(/check constraint/);
      await expect(exec(url, `update "Customer" set email = 'moved@x.io' where id = 5`)).rejects.toThrow(/"Customer_email_fkey"|"Customer_customer_email_fkey"/);
      const { rows: constraints } = await exec(url, `select conname, convalidated from pg_constraint where conrelid = '"Customer"'::regclass and conname like '_evolve_idx_%' order by 1`);
      expect(constraints).toEqual([]);
      const { rows: carried } = await exec(url, `select conname, convalidated from pg_constraint where conname in ('Customer_email_check', 'Customer_email_fkey') order by 1`);
      expect(carried).toEqual([
        { conname: 'Customer_email_check', convalidated: true },
        { conname: 'Customer_email_fkey', convalidated: true },
      ]);
    },
    afterContract: async (url) => {
      // What applying the new schema.prisma directly would give: Prisma's names for the new column.
      const { rows } = await exec(url, `select indexname from pg_indexes where tablename = 'Customer' order by 1`);
      expect(rows.map((r) => r.indexname)).toEqual(['Customer_email_key', 'Customer_pkey', 'Customer_tenantId_email_idx', 'active_email']);
      const { rows: constraints } = await exec(url, `select conname from pg_constraint where conrelid = '"Customer"'::regclass order by 1`);
      expect(constraints.map((r) => r.conname)).toEqual(['Customer_email_check', 'Customer_email_fkey', 'Customer_pkey', 'Customer_tenantId_fkey']);
      await expect(exec(url, `insert into "Customer" (id, email, "tenantId") values (9004, 'c3@x.io', 1)`)).rejects.toThrow(/"Customer_email_key"/);
    },
  },
  {
    name: 'refuses a primary key column and a column other tables reference, naming them, before anything runs',
    setup: `create table "Account" (code text primary key, label text); create table "Ref" (id int primary key, "label" text);
            create unique index "Account_label_key" on "Account"(label);
            alter table "Ref" add constraint "Ref_label_fkey" foreign key (label) references "Account"(label)`,
    step: step(renameColumn, { table: 'Account', from: 'label', to: 'title' }),
    refusal: /dependents that cannot be carried to "title": foreign key "Ref_label_fkey" of "public"."Ref" that references it/,
  },
  {
    name: 'refuses a column a view reads, naming the view, before anything runs',
    setup: `create table "Person" (id int primary key, nick text); create view "Nicknames" as select nick from "Person"`,
    step: step(renameColumn, { table: 'Person', from: 'nick', to: 'handle' }),
    refusal: /no view reads "Person"\."nick": "public"\."Nicknames" reads it/,
  },
  {
    name: 'carries a hostile-named unique index and check of a hostile column',
    setup: `create table "W ""t" (id int primary key, "e ""m" text not null, constraint "W ""t_e ""m_check" check ("e ""m" <> ''));
            create unique index "W ""t_e ""m_key" on "W ""t"("e ""m"); insert into "W ""t" select g, 'v' || g from generate_series(1, 50) g`,
    step: step(renameColumn, { table: 'W "t', from: 'e "m', to: 'n "w' }),
    contract: true,
    afterContract: async (url) => {
      expect((await exec(url, `select indexname from pg_indexes where tablename = 'W "t' order by 1`)).rows.map((r) => r.indexname)).toEqual(['W "t_n "w_key', 'W "t_pkey']);
    },
  },
]);
