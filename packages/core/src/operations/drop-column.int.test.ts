import { dropColumn } from './drop-column.js';
import { describeOperation } from './fixtures/operation-harness.js';
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
]);
