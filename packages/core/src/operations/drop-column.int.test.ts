import { dropColumn } from './drop-column.js';
import { expect } from '@jest/globals';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('dropColumn', [
  {
    name: 'backs the values up, drops, and restores values, NOT NULL, default and indexes on down',
    setup: `create table profiles (id int primary key, "Legacy Code" text not null default 'x', other int);
            create index profiles_legacy_idx on profiles ("Legacy Code");
            insert into profiles select g, 'code ' || g, g from generate_series(1, 1500) g`,
    step: step(dropColumn, { table: 'profiles', column: 'Legacy Code' }),
  },
  {
    name: 'drops without a backup when asked',
    setup: `create table scratchpad (id int primary key, junk text); insert into scratchpad select g, 'j' from generate_series(1, 10) g`,
    step: step(dropColumn, { table: 'scratchpad', column: 'junk', backup: false }),
  },
  {
    name: 'with down, old code keeps reading the column while new code writes rows without it; the drop waits for contract',
    setup: `create table "Member" (id int primary key, "legacyCode" text not null, name text); insert into "Member" select g, 'L' || g, 'm' || g from generate_series(1, 800) g`,
    step: step(dropColumn, { table: 'Member', column: 'legacyCode', down: `'L' || id` }),
    contract: true,
    afterUp: async (url) => {
      // New code no longer knows the column: its insert would break NOT NULL without the fill-in.
      await exec(url, `insert into "Member" (id, name) values (9001, 'new')`);
      expect((await exec(url, `select "legacyCode" from "Member" where id = 9001`)).rows).toEqual([{ legacyCode: 'L9001' }]);
    },
    afterContract: async (url) => {
      expect((await exec(url, `select count(*)::int as n from information_schema.columns where table_name = 'Member' and column_name = 'legacyCode'`)).rows).toEqual([{ n: 0 }]);
      expect((await exec(url, `select count(*)::int as n from _evolve."_evolve_bak_Member_legacyCode"`)).rows).toEqual([{ n: 801 }]);
      await exec(url, `insert into "Member" (id, name) values (9002, 'after')`);
    },
  },
]);
