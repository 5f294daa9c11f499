import { expect } from '@jest/globals';
import { backfillStep } from '../phases/define-plan.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';
import { setNotNull } from './set-not-null.js';

describeOperation('setNotNull', [
  {
    name: 'backfills the NULLs, then CHECK NOT VALID, VALIDATE, SET NOT NULL, drop CHECK',
    setup: `create table orders (id int primary key, "Status" text);
            insert into orders select g, case when g % 3 = 0 then null else 'paid' end from generate_series(1, 3000) g`,
    before: [backfillStep('fill_status', { table: 'orders', set: { Status: `'unknown'` }, where: `t."Status" IS NULL` })],
    step: step(setNotNull, { table: 'orders', column: 'Status' }),
    afterUp: async (url) => {
      await expect(exec(url, `insert into orders (id) values (99999)`)).rejects.toThrow(/null value in column "Status"/);
    },
  },
  {
    name: 'a VALIDATE that fails part-way rolls back to the same catalog: no NOT VALID check is left to reject old code\'s NULLs',
    setup: `create table invoices (id int primary key, "paidAt" timestamptz);
            insert into invoices select g, case when g % 2 = 0 then null else now() end from generate_series(1, 500) g`,
    before: [backfillStep('fill_paid_at', { table: 'invoices', set: { paidAt: `'epoch'` }, where: `t."paidAt" IS NULL` })],
    step: step(setNotNull, { table: 'invoices', column: 'paidAt' }),
    // After the backfill and the precheck, before the NOT VALID check: old code writes a NULL, so VALIDATE fails.
    interruptUp: {
      run: async (url) => void (await exec(url, `insert into invoices (id) values (100000)`)),
      afterFailedDown: async (url) => {
        await exec(url, `insert into invoices (id) values (100001)`);
        await exec(url, `delete from invoices where id >= 100000`);
      },
    },
  },
  {
    name: 'with up, old code that still writes NULLs keeps working until contract; then a NULL is refused',
    setup: `create table "Shipment" (id int primary key, carrier text, weight int); insert into "Shipment" select g, case when g % 4 = 0 then null else 'ups' end, g from generate_series(1, 2000) g`,
    step: step(setNotNull, { table: 'Shipment', column: 'carrier', up: `'unknown'` }),
    contract: true,
    afterUp: async (url) => {
      await exec(url, `insert into "Shipment" (id, weight) values (9001, 1)`);
      await exec(url, `update "Shipment" set carrier = null where id = 1`);
      const { rows } = await exec(url, `select id, carrier from "Shipment" where id in (1, 4, 9001) order by id`);
      expect(rows).toEqual([
        { id: 1, carrier: 'unknown' },
        { id: 4, carrier: 'unknown' },
        { id: 9001, carrier: 'unknown' },
      ]);
    },
    afterContract: async (url) => {
      await expect(exec(url, `insert into "Shipment" (id, weight) values (9002, 1)`)).rejects.toThrow(/null value in column "carrier"/);
    },
  },
]);
