import { expect } from '@jest/globals';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';
import { setDefault } from './set-default.js';

describeOperation('setDefault', [
  {
    name: 'sets a volatile default without a rewrite; down puts the old one back',
    setup: `create table events (id int primary key, "kind" text default 'misc', at timestamptz); insert into events select g, 'x', null from generate_series(1, 500) g`,
    step: step(setDefault, { table: 'events', column: 'at', default: 'now()' }),
    afterUp: async (url) => {
      // Old code that omits the column gets it; existing rows are untouched (no rewrite).
      await exec(url, `insert into events (id) values (9001)`);
      const { rows } = await exec(url, `select count(*) filter (where at is not null)::int as stamped from events`);
      expect(rows).toEqual([{ stamped: 1 }]);
    },
  },
  {
    name: 'replaces an existing default; down restores it',
    setup: `create table "Prefs" (id int primary key, "Theme" text not null default 'light')`,
    step: step(setDefault, { table: 'Prefs', column: 'Theme', default: `'dark'` }),
    afterDown: async (url) => {
      await exec(url, `insert into "Prefs" (id) values (1)`);
      expect((await exec(url, `select "Theme" from "Prefs"`)).rows).toEqual([{ Theme: 'light' }]);
    },
  },
  {
    name: 'quotes hostile identifiers',
    setup: `create table "we""ird tab" (id int primary key, "col ""umn" text)`,
    step: step(setDefault, { table: 'we"ird tab', column: 'col "umn', default: `'x'` }),
  },
]);
