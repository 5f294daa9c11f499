import { expect } from '@jest/globals';
import { asRole } from './fixtures/as-role.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { enableRls } from './enable-rls.js';
import { step } from './operation.js';

const rls = async (url: string, table: string): Promise<unknown> => (await exec(url, `select relrowsecurity as on, relforcerowsecurity as forced from pg_class where oid = $1::regclass`, [table])).rows[0];

describeOperation('enableRls', [
  {
    name: 'turns row-level security on: a role that is not the owner sees no row before a policy; down turns it off',
    setup: `create table docs (id int primary key, owner text); insert into docs select g, 'u' || (g % 3) from generate_series(1, 90) g`,
    step: step(enableRls, { table: 'docs' }),
    afterUp: async (url) => {
      expect(await rls(url, 'docs')).toEqual({ on: true, forced: false });
      expect(await asRole(url, 'select count(*)::int as n from docs')).toEqual([{ n: 0 }]);
    },
    afterDown: async (url) => {
      expect(await rls(url, 'docs')).toEqual({ on: false, forced: false });
      expect(await asRole(url, 'select count(*)::int as n from docs')).toEqual([{ n: 90 }]);
    },
  },
  {
    name: 'force applies the policies to the owner too; down lifts both',
    setup: `create table "Secret Notes" (id int primary key)`,
    step: step(enableRls, { table: 'Secret Notes', force: true }),
    afterUp: async (url) => expect(await rls(url, '"Secret Notes"')).toEqual({ on: true, forced: true }),
    afterDown: async (url) => expect(await rls(url, '"Secret Notes"')).toEqual({ on: false, forced: false }),
  },
  {
    name: 'refuses a table whose row-level security is already on (down would weaken it)',
    setup: `create table guarded (id int primary key); alter table guarded enable row level security`,
    step: step(enableRls, { table: 'guarded' }),
    refusal: /row-level security is already on for "public"."guarded"/,
  },
]);
