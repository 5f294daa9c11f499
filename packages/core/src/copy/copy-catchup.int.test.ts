import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { sqlExpression } from '../extract/dedupe.js';
import { catchUpCopy } from './copy-catchup.js';
import { runCopy } from './copy-runner.js';
import { defineCopy, ref } from './copy-spec.js';
import { readCopyStatus } from './copy-status.js';
import { validateCopy } from './copy-validate.js';

const db = useTestDatabase();

const LEGACY = `
create table users (id int primary key, username text not null, city text, updated_at timestamptz not null default now());
insert into users (id, username, city, updated_at) select g, 'user' || (g % 45), 'city ' || g, now() - interval '1 day' from generate_series(1, 50) g;
create table persons (id int primary key, user_id int, name text, updated_at timestamptz not null default now());
insert into persons (id, user_id, name, updated_at) select g, 1 + g % 50, 'p' || g, now() - interval '1 day' from generate_series(1, 80) g;
update persons set user_id = 777 where id = 10;
create table grades (id bigint primary key, person_id int, value text);
insert into grades select g, 1 + g % 80, case when g % 37 = 0 then 'A+' else (g % 100)::text end from generate_series(1, 300) g;
create table notes (id int primary key, body text, updated_at timestamptz not null default now());
insert into notes (id, body, updated_at) select g, case when g = 3 then null else 'note ' || g end, now() - interval '1 day' from generate_series(1, 20) g;`;

const TARGET = `
create table "User" (id uuid primary key, username text not null unique, city text);
create table "Person" (id uuid primary key, "userId" uuid not null references "User"(id), name text not null);
create table "Grade" (id bigint primary key, "personId" uuid not null references "Person"(id), value int not null);
create table "Note" (id int primary key, words int not null);`;

const plan = defineCopy({
  name: 'catchup',
  batchSize: 16,
  tables: {
    users: { table: 'User', from: 'users', key: 'id', id: { column: 'id', generate: 'uuid' }, dedupe: { by: [sqlExpression('s.username')] }, catchUp: { changedSince: 'updated_at' }, columns: { username: 'username', city: 'city' } },
    persons: { table: 'Person', from: 'persons', key: 'id', id: { column: 'id', generate: 'uuid' }, catchUp: { changedSince: 'updated_at' }, columns: { userId: ref('users', 'user_id'), name: 'name' } },
    // No change column: every row compared by key.
    grades: { table: 'Grade', from: 'grades', key: 'id', columns: { personId: ref('persons', 'person_id'), value: 'value' } },
    notes: {
      table: 'Note',
      from: 'notes',
      key: 'id',
      catchUp: { changedSince: 'updated_at' },
      produces: ['words'],
      map: (row) => {
        if (row['body'] === null) throw new Error('no body');
        return { words: String(row['body']).split(' ').length };
      },
    },
  },
});

let source: TestDatabase;
let target: TestDatabase;
const q = async <T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> => withClient(url, async (c) => (await c.query<T>(sql)).rows);
const options = (): { sourceUrl: string; targetUrl: string } => ({ sourceUrl: source.url, targetUrl: target.url });

beforeAll(async () => {
  source = await createTestDatabase(db.serverUrl, { prefix: 'evolve_catchup_src' });
  target = await createTestDatabase(db.serverUrl, { prefix: 'evolve_catchup_tgt' });
  await q(source.url, LEGACY);
  await q(target.url, TARGET);
  await runCopy(plan, { ...options(), workers: 2 });
});

afterAll(async () => {
  await source?.drop();
  await target?.drop();
});

describe('catchUpCopy', () => {
  it('brings over rows written since the copy: new rows with new ids, changed rows, dead letters fixed, duplicates collapsed; a second run changes nothing', async () => {
    expect((await validateCopy(plan, options())).ok).toBe(true);
    await q(
      source.url,
      `insert into users (id, username, city) values (51, 'fresh', 'Baku'), (52, 'user1', 'dup of user 1'), (0, 'below the first range', null);
       update users set city = 'Ganja', updated_at = now() where id = 7;
       update users set city = 'a collapsed duplicate changed', updated_at = now() where id = 46;
       update users set city = 'not picked: old stamp', updated_at = now() - interval '2 days' where id = 8;
       insert into persons (id, user_id, name) values (81, 51, 'new person of a new user'), (82, 52, 'person of a duplicate');
       update persons set user_id = 51, name = 'moved', updated_at = now() where id = 5;
       update persons set user_id = 3, updated_at = now() where id = 10;
       insert into grades values (1000, 81, '90'), (150000, 82, '70');
       update grades set value = '55' where id = 37;
       update grades set value = '12' where id = 40;
       delete from grades where id = 41;
       update notes set body = 'now it has words', updated_at = now() where id = 3;
       update notes set body = 'changed body of note four', updated_at = now() where id = 4;`,
    );
    const first = await catchUpCopy(plan, options());
    const by = Object.fromEntries(first.tables.map((t) => [t.name, t]));
    for (const table of first.tables) expect(table).toMatchObject({ status: 'done', conflicts: 0 });
    expect(by['users']).toMatchObject({ mode: 'changed-since', inserted: 2, updated: 1, collapsed: 1 });
    // Person 10's user 777 was a dead letter; it now refers to user 3 and is copied.
    expect(by['persons']).toMatchObject({ mode: 'changed-since', inserted: 3, updated: 1, deadLetters: -1 });
    // Grade 37 ('A+') was a dead letter and now converts; the four grades of person 10 (9, 89, 169, 249) were dead
    // letters while their person was one, and now copy; 41 is gone from the source and kept in the target.
    expect(by['grades']).toMatchObject({ mode: 'keys', inserted: 2 + 1 + 4, updated: 1, deadLetters: -5, deletedInSource: 1 });
    expect(by['notes']).toMatchObject({ inserted: 1, updated: 1, deadLetters: -1 });
    const moved = await q<{ name: string; city: string }>(target.url, `select p.name, u.city from "Person" p join "User" u on u.id = p."userId" join _evolve.id_map m on m.entry = 'persons' and m.old_key = '5' and m.new_id = p.id::text`);
    expect(moved).toEqual([{ name: 'moved', city: 'Baku' }]);
    // The duplicate's person follows the survivor (user 1).
    const follows = await q<{ username: string }>(target.url, `select u.username from "Person" p join "User" u on u.id = p."userId" join _evolve.id_map m on m.entry = 'persons' and m.old_key = '82' and m.new_id = p.id::text`);
    expect(follows).toEqual([{ username: 'user1' }]);
    expect(await q(target.url, `select city from "User" where username = 'user8'`)).toEqual([{ city: 'city 8' }]);
    // User 46 collapsed onto user 1 in the copy: its change leaves the survivor's row alone.
    expect(await q(target.url, `select city from "User" where username = 'user1'`)).toEqual([{ city: 'city 1' }]);
    expect(await q(target.url, `select id::int, value from "Grade" where id in (37, 40, 41, 1000, 150000) order by id`)).toEqual([
      { id: 37, value: 55 },
      { id: 40, value: 12 },
      { id: 41, value: 41 },
      { id: 1000, value: 90 },
      { id: 150000, value: 70 },
    ]);
    const validation = await validateCopy(plan, options());
    // User 8's change was stamped before the snapshot (beyond the margin): it is not seen, and validation says so.
    expect(validation.checks.filter((c) => !c.ok).map((c) => c.name).sort()).toEqual(['content users', 'count grades']);
    const second = await catchUpCopy(plan, options());
    for (const table of second.tables) expect(table).toMatchObject({ inserted: 0, updated: 0, deadLetters: 0, collapsed: 0 });
    expect(second.tables.find((t) => t.name === 'grades')?.deletedInSource).toBe(1);
  });

  it('records a changed reference nobody has as a conflict (the row kept, validation failing, naming it) and clears it once the source is fixed; skips an entry not copied yet', async () => {
    await q(source.url, `update persons set user_id = 4242, name = 'changed too', updated_at = now() where id = 11`);
    const blocked = await catchUpCopy(plan, { ...options(), entries: ['persons'] });
    expect(blocked.tables[0]).toMatchObject({ name: 'persons', conflicts: 1, updated: 0 });
    expect(await q(target.url, `select name from "Person" p join _evolve.id_map m on m.entry = 'persons' and m.old_key = '11' and m.new_id = p.id::text`)).toEqual([{ name: 'p11' }]);
    expect((await readCopyStatus(plan, target.url)).conflicts).toEqual([{ entry: 'persons', sourceKey: '11', reason: 'userId = 4242: no "users" row with that key was copied' }]);
    const failing = (await validateCopy(plan, options())).checks.find((c) => c.name === 'conflicts persons');
    expect(failing).toMatchObject({ ok: false, detail: expect.stringContaining('11: userId = 4242: no "users" row with that key was copied') });
    await q(source.url, `update persons set user_id = 4, updated_at = now() where id = 11`);
    const fixed = await catchUpCopy(plan, { ...options(), entries: ['persons'] });
    expect(fixed.tables[0]).toMatchObject({ conflicts: 0, updated: 1 });
    const other = defineCopy({ name: 'never-run', tables: { users: { table: 'User', from: 'users', key: 'id', id: { column: 'id', generate: 'uuid' }, columns: { username: 'username' } } } });
    expect((await catchUpCopy(other, options())).tables).toEqual([expect.objectContaining({ name: 'users', status: 'skipped', detail: expect.stringMatching(/not copied yet/) })]);
  });
});
