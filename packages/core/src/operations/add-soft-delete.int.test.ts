import { expect } from '@jest/globals';
import { addSoftDelete } from './add-soft-delete.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('addSoftDelete', [
  {
    name: 'adds deletedAt with its index and turns uniques (index and constraint) into partial ones',
    setup: `create table accounts (id int primary key, email text not null, slug text not null, tenant text not null);
            create unique index "accounts_email_key" on accounts (email);
            alter table accounts add constraint "accounts_tenant_slug_key" unique (tenant, slug);
            insert into accounts select g, 'a' || g || '@x.io', 's' || g, 't' from generate_series(1, 1000) g`,
    step: step(addSoftDelete, {
      table: 'accounts',
      partialUniques: [
        { name: 'accounts_email_key', columns: ['email'] },
        { name: 'accounts_tenant_slug_key', columns: ['tenant', 'slug'] },
      ],
    }),
    afterUp: async (url) => {
      // A soft-deleted account no longer blocks re-registering its email.
      await exec(url, `update accounts set "deletedAt" = now() where id = 1`);
      await exec(url, `insert into accounts (id, email, slug, tenant) values (5001, 'a1@x.io', 's1', 't')`);
      await expect(exec(url, `insert into accounts (id, email, slug, tenant) values (5002, 'a1@x.io', 'other', 't')`)).rejects.toThrow(/accounts_email_key/);
      await exec(url, `delete from accounts where id = 5001; update accounts set "deletedAt" = null where id = 1`);
    },
  },
  {
    name: 'the boolean form: a deleted flag (NOT NULL DEFAULT false, no rewrite) and uniques partial on NOT deleted',
    setup: `create table members (id int primary key, handle text not null);
            create unique index "members_handle_key" on members (handle);
            insert into members select g, 'h' || g from generate_series(1, 500) g`,
    step: step(addSoftDelete, { table: 'members', flag: 'boolean', partialUniques: [{ name: 'members_handle_key', columns: ['handle'] }] }),
    afterUp: async (url) => {
      expect((await exec(url, `select count(*)::int as n from members where deleted = false`)).rows).toEqual([{ n: 500 }]);
      expect((await exec(url, `select indexdef from pg_indexes where indexname = 'members_handle_key'`)).rows[0]?.indexdef).toMatch(/WHERE \(NOT deleted\)/);
      await exec(url, `update members set deleted = true where id = 1`);
      await exec(url, `insert into members values (5001, 'h1', false)`);
      await expect(exec(url, `insert into members values (5002, 'h1', false)`)).rejects.toThrow(/members_handle_key/);
      await exec(url, `delete from members where id = 5001; update members set deleted = false where id = 1`);
    },
  },
]);
