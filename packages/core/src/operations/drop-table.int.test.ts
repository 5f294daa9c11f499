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
      const { rows } = await exec(url, `select count(*)::int as n from "_evolve"."_evolve_bak_legacy_notes"`);
      expect(rows[0]?.n).toBe(100);
    },
  },
]);

describeOperation('dropTable (refusals)', [
  {
    name: 'refuses before anything runs when an older backup of that name exists',
    setup: `create table notes (id int primary key); create schema if not exists _evolve; create table _evolve."_evolve_bak_notes" (id int)`,
    step: step(dropTable, { table: 'notes' }),
    refusal: /backup table "_evolve"."_evolve_bak_notes" exists already/,
  },
]);
