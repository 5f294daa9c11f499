import { describe, expect, it } from '@jest/globals';
import { asRole } from './fixtures/as-role.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { createPolicy } from './create-policy.js';
import { enableRls } from './enable-rls.js';
import { step } from './operation.js';
import { schemaStep } from '../phases/define-plan.js';

const policies = async (url: string, table: string): Promise<number> => Number((await exec(url, `select count(*) as n from pg_policies where tablename = $1`, [table])).rows[0]?.n);
const ALICE = { 'app.user': 'alice' };

describeOperation('createPolicy', [
  {
    name: 'a permissive SELECT policy shows each user their rows; down drops it',
    setup: `create table docs (id int primary key, owner text); insert into docs select g, (array['alice', 'bob', 'carol'])[1 + g % 3] from generate_series(1, 90) g`,
    before: [schemaStep('rls', step(enableRls, { table: 'docs' }))],
    step: step(createPolicy, { table: 'docs', name: 'own docs', command: 'SELECT', using: `owner = current_setting('app.user', true)` }),
    afterUp: async (url) => {
      expect(await asRole(url, 'select count(*)::int as n, count(distinct owner)::int as owners from docs', ALICE)).toEqual([{ n: 30, owners: 1 }]);
      expect(await policies(url, 'docs')).toBe(1);
    },
    afterDown: async (url) => expect(await policies(url, 'docs')).toBe(0),
  },
  {
    name: 'an INSERT policy with a check refuses rows for another user',
    setup: `create table inbox (id int primary key, owner text)`,
    before: [schemaStep('rls', step(enableRls, { table: 'inbox' }))],
    step: step(createPolicy, { table: 'inbox', name: 'write_own', command: 'INSERT', roles: ['PUBLIC'], withCheck: `owner = current_setting('app.user', true)` }),
    afterUp: async (url) => {
      await asRole(url, `insert into inbox values (1, 'alice')`, ALICE);
      await expect(asRole(url, `insert into inbox values (2, 'bob')`, ALICE)).rejects.toThrow(/new row violates row-level security policy/);
    },
  },
  {
    name: 'refuses a policy name the table already has',
    setup: `create table notes (id int primary key); create policy taken on notes using (true)`,
    step: step(createPolicy, { table: 'notes', name: 'taken', using: 'true' }),
    refusal: /"public"."notes" already has a policy named "taken"/,
  },
]);

describe('createPolicy spec', () => {
  it('names what does not fit the command', () => {
    expect(() => step(createPolicy, { table: 't', name: 'p', command: 'INSERT', using: 'true' })).toThrow(/an INSERT policy takes withCheck only/);
    expect(() => step(createPolicy, { table: 't', name: 'p', command: 'SELECT', withCheck: 'true' })).toThrow(/a SELECT or DELETE policy takes using only/);
    expect(() => step(createPolicy, { table: 't', name: 'p' })).toThrow(/give using, withCheck or both/);
  });
});
