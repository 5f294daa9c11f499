import { expect } from '@jest/globals';
import { createIndex } from './create-index.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('createIndex', [
  {
    name: 'builds an index concurrently, with a partial predicate',
    setup: `create table items (id int primary key, tenant text not null, status text); insert into items select g, 't' || (g % 5), 'open' from generate_series(1, 2000) g`,
    step: step(createIndex, { table: 'items', columns: ['tenant', 'status'], where: `"status" IS NOT NULL` }),
  },
  {
    name: 'quotes hostile identifiers and 63-byte names',
    setup: `create table "Mixed ""Quoted"" Table" ("Col Umn" int primary key, "${'y'.repeat(63)}" int)`,
    step: step(createIndex, { table: 'Mixed "Quoted" Table', columns: ['y'.repeat(63)], name: `i${'z'.repeat(62)}` }),
  },
  {
    name: 'rebuilds an INVALID index left by a failed concurrent build',
    setup: `create table dup (id int primary key, v int); insert into dup values (1, 1), (2, 1)`,
    // A unique build over duplicates fails and leaves "dup_v_idx" INVALID, as an interrupted deploy would.
    prepare: async (url) => {
      await expect(exec(url, 'create unique index concurrently "dup_v_idx" on dup (v)')).rejects.toThrow(/could not create unique index/);
      const { rows } = await exec(url, `select indisvalid from pg_index where indexrelid = 'dup_v_idx'::regclass`);
      expect(rows[0]?.indisvalid).toBe(false);
    },
    step: step(createIndex, { table: 'dup', columns: ['v'], unique: false, name: 'dup_v_idx' }),
    afterUp: async (url) => {
      const { rows } = await exec(url, `select indisvalid from pg_index where indexrelid = 'dup_v_idx'::regclass`);
      expect(rows[0]?.indisvalid).toBe(true);
    },
  },
]);
