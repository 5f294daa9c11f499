import { expect } from '@jest/globals';
import { dropNotNull } from './drop-not-null.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('dropNotNull', [
  {
    name: 'drops NOT NULL without a scan; down restores it through the check path',
    setup: `create table people (id int primary key, "Nick" text not null); insert into people select g, 'n' || g from generate_series(1, 800) g`,
    step: step(dropNotNull, { table: 'people', column: 'Nick' }),
    afterUp: async (url) => {
      await exec(url, `insert into people (id, "Nick") values (9001, null)`);
      await exec(url, `delete from people where id = 9001`);
    },
  },
  {
    name: 'refuses a primary key column',
    setup: `create table keyed (id int primary key)`,
    step: step(dropNotNull, { table: 'keyed', column: 'id' }),
    refusal: /belongs to primary key "keyed_pkey"/,
  },
  {
    name: 'quotes hostile identifiers',
    setup: `create table "N ""t" (id int primary key, "c ""1" text not null default 'x')`,
    step: step(dropNotNull, { table: 'N "t', column: 'c "1' }),
  },
]);
