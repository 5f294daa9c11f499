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
]);
