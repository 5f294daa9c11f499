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
  {
    name: 'carries the unique index and the check to the new type, keeps the default, and gives every name back at contract',
    setup: `create table skus (id int primary key, code varchar(20) not null default 'none', constraint skus_code_check check (length(code) > 0));
            create unique index "skus_code_key" on skus(code);
            insert into skus select g, 'sku-' || g from generate_series(1, 1500) g`,
    step: step(changeColumnType, { table: 'skus', column: 'code', type: 'TEXT' }),
    contract: true,
    afterUp: async (url) => {
      // Uniqueness holds on the new column while old code writes the old one.
      await expect(exec(url, `insert into skus (id, code) values (9001, 'sku-1')`)).rejects.toThrow(/duplicate key/);
      const { rows } = await exec(url, `select indexname from pg_indexes where tablename = 'skus' and indexname like '_evolve_idx_%'`);
      expect(rows).toEqual([{ indexname: '_evolve_idx_skus_code_key' }]);
    },
    afterContract: async (url) => {
      const { rows } = await exec(url, `select format_type(atttypid, atttypmod) as type, pg_get_expr(d.adbin, d.adrelid) as "default"
        from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum where a.attrelid = 'skus'::regclass and a.attname = 'code'`);
      expect(rows).toEqual([{ type: 'text', default: `'none'::character varying` }]);
      const { rows: names } = await exec(url, `select indexname from pg_indexes where tablename = 'skus' order by 1`);
      expect(names).toEqual([{ indexname: 'skus_code_key' }, { indexname: 'skus_pkey' }]);
      const { rows: checks } = await exec(url, `select conname from pg_constraint where conrelid = 'skus'::regclass and contype = 'c'`);
      expect(checks).toEqual([{ conname: 'skus_code_check' }]);
      await expect(exec(url, `insert into skus (id, code) values (9002, 'sku-2')`)).rejects.toThrow(/"skus_code_key"/);
      await expect(exec(url, `insert into skus (id, code) values (9003, '')`)).rejects.toThrow(/"skus_code_check"/);
    },
  },
  {
    name: 'refuses before anything runs when the old default does not convert to the new type',
    setup: `create table flags (id int primary key, level text default 'high')`,
    step: step(changeColumnType, { table: 'flags', column: 'level', type: 'INTEGER', using: (v) => `length(${v})` }),
    refusal: /default of "level" converts to INTEGER: 'high'::text cannot become INTEGER; give `default` for the new type/,
  },
]);
