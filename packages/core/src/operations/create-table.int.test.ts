import { createTable } from './create-table.js';
import { describeOperation } from './fixtures/operation-harness.js';
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
]);
