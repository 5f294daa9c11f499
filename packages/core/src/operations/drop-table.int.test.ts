import { expect } from '@jest/globals';
import { dropTable } from './drop-table.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('dropTable', [
  {
    name: 'renames to a backup on expand (data kept), purges on contract',
    setup: `create table legacy_notes (id int primary key, body text); insert into legacy_notes select g, 'n' from generate_series(1, 100) g`,
    step: step(dropTable, { table: 'legacy_notes' }),
    contract: true,
    afterUp: async (url) => {
      const { rows } = await exec(url, `select count(*)::int as n from "_evolve_bak_legacy_notes"`);
      expect(rows[0]?.n).toBe(100);
    },
  },
]);
