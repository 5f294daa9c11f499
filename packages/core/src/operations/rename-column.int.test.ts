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
]);
