import { addUnique } from './add-unique.js';
import { expect } from '@jest/globals';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('addUnique', [
  {
    name: 'builds the unique index concurrently and attaches it as a constraint',
    setup: `create table users (id int primary key, email text); insert into users select g, 'u' || g || '@x.io' from generate_series(1, 2000) g`,
    step: step(addUnique, { table: 'users', columns: ['email'] }),
  },
  {
    name: 'keeps a unique index only (Prisma @@unique) over two columns',
    setup: `create table seats (id int primary key, room text, "No" int); insert into seats select g, 'r' || (g % 10), g from generate_series(1, 500) g`,
    step: step(addUnique, { table: 'seats', columns: ['room', 'No'], constraint: false }),
  },
  {
    name: 'with up, duplicates already there (all but the first of each group) and old code\'s duplicate writes are repaired until contract',
    setup: `create table "Account" (id int primary key, handle text, bio text);
            insert into "Account" select g, 'h' || (g % 300), null from generate_series(1, 1200) g`,
    step: step(addUnique, { table: 'Account', columns: ['handle'], constraint: false, column: 'handle', up: `handle || '-' || id` }),
    contract: true,
    afterUp: async (url) => {
      // The first row of each group keeps its handle; old code's update of it (not of the key) leaves it alone.
      await exec(url, `update "Account" set bio = 'x' where id = 300`);
      await exec(url, `insert into "Account" (id, handle) values (9001, 'h1')`);
      expect((await exec(url, `select id, handle from "Account" where id in (1, 300, 301, 9001) order by id`)).rows).toEqual([
        { id: 1, handle: 'h1' },
        { id: 300, handle: 'h0' },
        { id: 301, handle: 'h1-301' },
        { id: 9001, handle: 'h1-9001' },
      ]);
    },
    afterContract: async (url) => {
      await expect(exec(url, `insert into "Account" (id, handle) values (9002, 'h2')`)).rejects.toThrow(/"Account_handle_key"/);
      expect((await exec(url, `select count(*)::int as n from pg_indexes where indexname like '_evolve_idx_%'`)).rows).toEqual([{ n: 0 }]);
    },
  },
]);
