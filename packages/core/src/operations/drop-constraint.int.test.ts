import { expect } from '@jest/globals';
import { dropConstraint } from './drop-constraint.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('dropConstraint', [
  {
    name: 'drops a check; down adds it NOT VALID and validates it',
    setup: `create table stock (id int primary key, qty int, constraint stock_qty_positive check (qty >= 0)); insert into stock select g, g from generate_series(1, 500) g`,
    step: step(dropConstraint, { table: 'stock', name: 'stock_qty_positive' }),
    afterUp: async (url) => {
      await exec(url, `insert into stock values (9001, -1)`);
      await exec(url, `delete from stock where id = 9001`);
    },
  },
  {
    name: 'drops a foreign key; down restores it',
    setup: `create table owners (id int primary key); create table pets (id int primary key, "ownerId" int references owners(id) on delete cascade);
            insert into owners values (1); insert into pets values (1, 1)`,
    step: step(dropConstraint, { table: 'pets', name: 'pets_ownerId_fkey' }),
  },
  {
    name: 'drops a unique constraint; down rebuilds its index concurrently and attaches it',
    setup: `create table handles (id int primary key, handle text, constraint handles_handle_key unique (handle)); insert into handles select g, 'h' || g from generate_series(1, 500) g`,
    step: step(dropConstraint, { table: 'handles', name: 'handles_handle_key' }),
    afterDown: async (url) => {
      await expect(exec(url, `insert into handles values (9001, 'h1')`)).rejects.toThrow(/"handles_handle_key"/);
    },
  },
  {
    name: 'refuses the primary key',
    setup: `create table pk_only (id int primary key)`,
    step: step(dropConstraint, { table: 'pk_only', name: 'pk_only_pkey' }),
    refusal: /"pk_only_pkey" is the primary key/,
  },
  {
    name: 'quotes hostile identifiers',
    setup: `create table "Q ""t" (id int primary key, "a b" int, constraint "ch""k x" check ("a b" > 0))`,
    step: step(dropConstraint, { table: 'Q "t', name: 'ch"k x' }),
  },
]);
