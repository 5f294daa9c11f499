import { describe, expect, it } from '@jest/globals';
import { addColumn } from './add-column.js';
import { describeOperation } from './fixtures/operation-harness.js';
import { parseSpec, step } from './operation.js';

describeOperation('addColumn', [
  {
    name: 'adds a nullable column',
    setup: `create table accounts (id int primary key); insert into accounts select generate_series(1, 500)`,
    step: step(addColumn, { table: 'accounts', column: 'nickname', type: 'TEXT' }),
  },
  {
    name: 'adds a NOT NULL column with a constant (and a stable) default without a rewrite',
    setup: `create table wallets (id int primary key); insert into wallets select generate_series(1, 500)`,
    step: step(addColumn, { table: 'wallets', column: 'Balance Cents', type: 'INTEGER', nullable: false, default: '0' }),
  },
  {
    name: 'accepts now() (stable: evaluated once)',
    setup: `create table stamps (id int primary key); insert into stamps select generate_series(1, 50)`,
    step: step(addColumn, { table: 'stamps', column: 'createdAt', type: 'TIMESTAMP(3)', nullable: false, default: 'now()' }),
  },
]);

describe('addColumn spec', () => {
  it('refuses NOT NULL without a default, naming the field', () => {
    expect(() => parseSpec(addColumn, { table: 't', column: 'c', type: 'INT', nullable: false })).toThrow('"addColumn.nullable"');
  });
});
