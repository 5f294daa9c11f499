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
]);
