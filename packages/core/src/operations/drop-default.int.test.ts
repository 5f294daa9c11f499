import { expect } from '@jest/globals';
import { dropDefault } from './drop-default.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('dropDefault', [
  {
    name: 'drops the default; down sets it back',
    setup: `create table tasks (id int primary key, status text default 'open')`,
    step: step(dropDefault, { table: 'tasks', column: 'status' }),
    afterUp: async (url) => {
      await exec(url, `insert into tasks (id) values (1)`);
      expect((await exec(url, `select status from tasks`)).rows).toEqual([{ status: null }]);
    },
  },
  {
    name: 'refuses a column without a default, naming it',
    setup: `create table plain (id int primary key, note text)`,
    step: step(dropDefault, { table: 'plain', column: 'note' }),
    refusal: /"plain"\."note" has no default/,
  },
  {
    name: 'quotes hostile identifiers',
    setup: `create table "D ""t" (id int primary key, "c ""1" text default 'x')`,
    step: step(dropDefault, { table: 'D "t', column: 'c "1' }),
  },
]);
