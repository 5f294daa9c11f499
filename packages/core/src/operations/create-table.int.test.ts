import { createTable } from './create-table.js';
import { expect } from '@jest/globals';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('createTable', [
  {
    name: 'creates a table with defaults and a composite primary key',
    setup: `select 1`,
    step: step(createTable, {
      table: 'AuditTrail',
      columns: [
        { name: 'tenantId', type: 'TEXT' },
        { name: 'seq', type: 'INTEGER' },
        { name: 'payload', type: 'JSONB' },
        { name: 'createdAt', type: 'TIMESTAMP(3)', nullable: false, default: 'CURRENT_TIMESTAMP' },
      ],
      primaryKey: ['tenantId', 'seq'],
    }),
  },
  {
    name: 'quotes hostile names in a hostile schema',
    setup: `create schema "Odd ""Schema"""`,
    schemas: ['Odd "Schema"'],
    step: step(createTable, { schema: 'Odd "Schema"', table: 'Ta"ble With Space', columns: [{ name: 'I d', type: 'BIGINT' }], primaryKey: ['I d'] }),
  },
  {
    name: 'creates a table with its unique and plain indexes, foreign keys and checks, named as Prisma names them',
    setup: `create table "Customer" (id text primary key); insert into "Customer" values ('c1')`,
    step: step(createTable, {
      table: 'Order',
      columns: [
        { name: 'id', type: 'TEXT' },
        { name: 'customerId', type: 'TEXT', nullable: false },
        { name: 'number', type: 'INTEGER', nullable: false },
        { name: 'total', type: 'NUMERIC(10,2)', nullable: false },
      ],
      primaryKey: ['id'],
      uniques: [{ columns: ['customerId', 'number'] }],
      indexes: [{ columns: ['total'] }],
      foreignKeys: [{ columns: ['customerId'], references: { table: 'Customer', columns: ['id'] }, onDelete: 'CASCADE', onUpdate: 'CASCADE' }],
      checks: [{ name: 'Order_total_positive', expression: '"total" >= 0' }],
    }),
    afterUp: async (url) => {
      const { rows } = await exec(url, `select indexname from pg_indexes where tablename = 'Order' order by 1`);
      expect(rows.map((r) => r.indexname)).toEqual(['Order_customerId_number_key', 'Order_pkey', 'Order_total_idx']);
      await exec(url, `insert into "Order" values ('o1', 'c1', 1, 10)`);
      await expect(exec(url, `insert into "Order" values ('o2', 'c1', 1, 10)`)).rejects.toThrow(/"Order_customerId_number_key"/);
      await expect(exec(url, `insert into "Order" values ('o3', 'nobody', 2, 10)`)).rejects.toThrow(/"Order_customerId_fkey"/);
      await expect(exec(url, `insert into "Order" values ('o4', 'c1', 3, -1)`)).rejects.toThrow(/"Order_total_positive"/);
    },
  },
]);
