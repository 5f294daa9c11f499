import { expect } from '@jest/globals';
import { changeColumnType } from './change-column-type.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('changeColumnType', [
  {
    name: 'integer cents to numeric amount: converted by trigger and backfill, swapped on contract',
    setup: `create table prices (id int primary key, amount int not null);
            insert into prices select g, g * 100 from generate_series(1, 2500) g`,
    step: step(changeColumnType, {
      table: 'prices',
      column: 'amount',
      type: 'NUMERIC(12,2)',
      using: (v) => `(${v})::numeric(12,2) / 100`,
      reverse: (v) => `((${v}) * 100)::int`,
    }),
    contract: true,
    afterUp: async (url) => {
      await exec(url, `insert into prices (id, amount) values (9001, 12345)`);
      await exec(url, `update prices set "_evolve_tmp_amount" = 7.5 where id = 1`);
      const { rows } = await exec(url, `select id, amount, "_evolve_tmp_amount"::text as converted from prices where id in (1, 2, 9001) order by id`);
      expect(rows).toEqual([
        { id: 1, amount: 750, converted: '7.50' },
        { id: 2, amount: 200, converted: '2.00' },
        { id: 9001, amount: 12345, converted: '123.45' },
      ]);
    },
  },
  {
    name: 'text codes to integers: the backfill never rewrites the values old code still reads',
    setup: `create table codes (id int primary key, code text);
            insert into codes values (1, '007'), (2, ' 42'), (3, '5'), (4, null)`,
    step: step(changeColumnType, { table: 'codes', column: 'code', type: 'INTEGER', using: (v) => `trim(${v})::int`, reverse: (v) => `(${v})::text` }),
    afterUp: async (url) => {
      const { rows } = await exec(url, `select id, code, "_evolve_tmp_code" as converted from codes order by id`);
      expect(rows).toEqual([
        { id: 1, code: '007', converted: 7 },
        { id: 2, code: ' 42', converted: 42 },
        { id: 3, code: '5', converted: 5 },
        { id: 4, code: null, converted: null },
      ]);
      await exec(url, `update codes set "_evolve_tmp_code" = 8 where id = 1`);
      const { rows: written } = await exec(url, `select code from codes where id = 1`);
      expect(written[0]?.code).toBe('8');
    },
  },
]);
