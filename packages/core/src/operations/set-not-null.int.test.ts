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
]);
