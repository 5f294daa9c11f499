import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { sqlExpression } from '../extract/dedupe.js';
import { setSequencesPastMaxima, setSourceReadOnly } from './copy-cutover.js';
import { runCopy } from './copy-runner.js';
import { defineCopy, multilingual, ref } from './copy-spec.js';
import { readCopyStatus } from './copy-status.js';
import { validateCopy } from './copy-validate.js';

const db = useTestDatabase();

/** A legacy database without foreign keys, dirty as seed 004 describes. */
const LEGACY = `
create table users (id int primary key, username text, name_az text, name_ru text, name_en text);
insert into users select g, 'user' || (g % 180), 'ad ' || g, case when g % 2 = 0 then 'имя ' || g end, 'name ' || g from generate_series(1, 200) g;
create table persons (id int primary key, user_id int, pincode text, firstname text);
insert into persons select g, case when g % 50 = 0 then 9999 else 1 + g % 200 end, case when g % 3 = 0 then null else 'P' || (g % 140) end, 'f' || g from generate_series(1, 300) g;
create table grades (id bigint primary key, person_id int, value text, note text);
create table orgs (id int primary key, parent_id int, name text, code text);
insert into orgs values (1, null, 'root', 'R'), (2, 1, 'bad', 'B'), (3, 2, 'child of bad', 'C'), (4, 3, 'grandchild', 'G'), (5, 1, 'fine', 'F'), (6, 5, 'too long a code', 'TOOLONG'), (7, 5, 'ok', 'K');
create table notes (id int primary key, person_id int, body text, written date);
insert into notes select g, 1 + g % 300, case when g % 41 = 0 then null else 'note number ' || g || ' about things' end, date '2020-02-29' + g from generate_series(1, 400) g;
insert into grades select g, 1 + g % 300, case when g % 97 = 0 then 'A+' else (g % 100)::text end, case when g % 10 = 0 then 'A+' end from generate_series(1, 2500) g;`;

/** The new schema (as Prisma would create it): UUID keys, names as JSON, enforced foreign keys. */
const TARGET = `
create table "User" (id uuid primary key, username text not null unique, name jsonb);
create table "Person" (id uuid primary key, "userId" uuid not null references "User"(id), pincode text, "firstName" text not null);
create table "Grade" (id serial primary key, "legacyId" bigint not null unique, "personId" uuid not null references "Person"(id), value int not null, note text);
create table "Org" (id int primary key, "parentId" int references "Org"(id), name text not null check (name <> 'bad'), code varchar(4) not null);
create table "Note" (id uuid primary key, "personId" uuid not null references "Person"(id), summary text not null, words int not null, written date not null);
create table "GradeTag" ("gradeId" bigint not null references "Grade"("legacyId"), tag int not null);`;

const plan = defineCopy({
  name: 'lms',
  batchSize: 64,
  tables: {
    users: { table: 'User', from: 'users', key: 'id', id: { column: 'id', generate: 'uuid' }, dedupe: { by: [sqlExpression('lower(s.username)')] }, columns: { username: 'username', name: multilingual({ az: 'name_az', ru: 'name_ru', en: 'name_en' }) } },
    persons: { table: 'Person', from: 'persons', key: 'id', id: { column: 'id', generate: 'uuid' }, dedupe: { by: [sqlExpression('s.pincode')] }, columns: { userId: ref('users', 'user_id'), pincode: 'pincode', firstName: 'firstname' } },
    grades: { table: 'Grade', from: 'grades', key: 'id', id: { column: 'legacyId', generate: 'keep' }, columns: { personId: ref('persons', 'person_id'), value: 'value', note: 'note' } },
    // A tree with kept ids: a parent the table rejects takes its descendants in the same range with it; a code too
    // long for varchar(4) is rejected, not cut.
    orgs: { table: 'Org', from: 'orgs', key: 'id', columns: { parentId: ref('orgs', 'parent_id'), name: 'name', code: 'code' } },
    // A TypeScript transform: the summary and word count computed in this process, the person through the id map.
    notes: {
      table: 'Note',
      from: 'notes',
      key: 'id',
      id: { column: 'id', generate: 'uuid' },
      produces: ['summary', 'words', 'written'],
      refs: { personId: 'persons' },
      map: (row) => {
        const body = row['body'] as string | null;
        if (body === null) throw new Error('a note without a body');
        return { summary: body.slice(0, 11).toUpperCase(), words: body.split(' ').length, written: row['written'], personId: row['person_id'] };
      },
    },
    // A link table without an id of its own: counted, not compared row by row.
    tags: { table: 'GradeTag', from: sqlExpression('select id, id % 5 as tag from grades where id <= 100'), key: 'id', id: false, columns: { gradeId: 'id', tag: 'tag' } },
  },
});

let source: TestDatabase;
let target: TestDatabase;
const q = async <T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> => withClient(url, async (c) => (await c.query<T>(sql)).rows);

beforeAll(async () => {
  source = await createTestDatabase(db.serverUrl, { prefix: 'evolve_copy_src' });
  target = await createTestDatabase(db.serverUrl, { prefix: 'evolve_copy_tgt' });
  await q(source.url, LEGACY);
  await q(target.url, TARGET);
});

afterAll(async () => {
  await source?.drop();
  await target?.drop();
});

describe('runCopy → validateCopy on a dirty legacy database', () => {
  it('copies in reference order with new ids, collapses duplicates onto survivors, dead-letters orphans and bad values, and validates equal', async () => {
    const progress: string[] = [];
    const result = await runCopy(plan, { sourceUrl: source.url, targetUrl: target.url, workers: 2, onProgress: (p) => progress.push(p.entry) });
    expect(result.tables.map((t) => [t.name, t.status])).toEqual([
      ['users', 'done'],
      ['persons', 'done'],
      ['grades', 'done'],
      ['orgs', 'done'],
      ['notes', 'done'],
      ['tags', 'done'],
    ]);
    const notes = result.tables.find((t) => t.name === 'notes');
    const notesLost = await q<{ n: string }>(source.url, `select count(*) as n from notes where body is null or person_id % 50 = 0`);
    expect(notes?.deadLetters).toBe(Number(notesLost[0]?.n));
    const mapped = await q<{ summary: string; words: number; written: string }>(target.url, `select summary, words, written::text from "Note" n join _evolve.id_map m on m.entry = 'notes' and m.new_id = n.id::text and m.old_key = '7'`);
    expect(mapped).toEqual([{ summary: 'NOTE NUMBER', words: 5, written: '2020-03-07' }]);
    const orgDead = await q<{ source_key: string; reason: string }>(target.url, `select source_key, reason from _evolve.copy_dead_letter where entry = 'orgs' order by source_key`);
    expect(orgDead.map((d) => d.source_key)).toEqual(['2', '3', '4', '6']);
    expect(orgDead[0]?.reason).toMatch(/violates check constraint/);
    expect(orgDead[1]?.reason).toBe('parentId = 2: no "orgs" row with that key was copied');
    expect(orgDead[3]?.reason).toMatch(/value too long for type character varying\(4\)/);
    expect(await q(target.url, `select id, "parentId", code from "Org" order by id`)).toEqual([
      { id: 1, parentId: null, code: 'R' },
      { id: 5, parentId: 1, code: 'F' },
      { id: 7, parentId: 5, code: 'K' },
    ]);
    // Every id the id map hands out is a row of the target (two workers claiming the same dedupe key agree).
    for (const [entry, table] of [['users', 'User'], ['persons', 'Person']]) {
      const dangling = await q<{ n: string }>(target.url, `select count(*) as n from _evolve.id_map m where m.entry = '${entry}' and not exists (select 1 from "${table}" t where t.id::text = m.new_id)`);
      expect(Number(dangling[0]?.n)).toBe(0);
    }
    const thrown = await q<{ reason: string }>(target.url, `select reason from _evolve.copy_dead_letter where entry = 'notes' and source_key = '41'`);
    expect(thrown).toEqual([{ reason: 'map threw: a note without a body' }]);
    // Every committed range is in the batch history, after its transaction: one row per range, its rows adding up.
    const history = await q<{ batches: number; rows: number; ranges: number }>(
      target.url,
      `select (select count(*)::int from _evolve.batch_history where step = 'copy:lms/grades' and kind = 'batch') as batches,
              (select sum(rows)::int from _evolve.batch_history where step = 'copy:lms/grades') as rows,
              (select count(*)::int from _evolve.copy_range where copy = 'lms' and entry = 'grades') as ranges`,
    );
    expect(history).toEqual([{ batches: history[0]?.ranges, rows: 2500, ranges: expect.any(Number) }]);
    const [users, persons, grades] = result.tables;
    // 200 users, usernames repeat every 180: 20 collapse onto their survivor.
    expect(users).toMatchObject({ sourceRows: 200, copiedRows: 180, collapsed: 20, deadLetters: 0 });
    // Persons: every 50th refers to user 9999 (6 dead letters); pincodes repeat (NULL pincodes never collapse).
    expect(persons?.deadLetters).toBe(6);
    expect((persons?.copiedRows ?? 0) + (persons?.collapsed ?? 0) + (persons?.deadLetters ?? 0)).toBe(300);
    // Grades: 'A+' is rejected by the int column; grades of dead persons are dead letters too.
    const gradeDead = await q<{ reason: string }>(target.url, `select reason from _evolve.copy_dead_letter where entry = 'grades'`);
    expect(gradeDead.some((d) => /rejected by "public"."Grade": invalid input syntax for type integer: "A\+"/.test(d.reason))).toBe(true);
    expect(gradeDead.some((d) => /personId = \d+: no "persons" row with that key was copied/.test(d.reason))).toBe(true);
    expect((grades?.copiedRows ?? 0) + (grades?.deadLetters ?? 0)).toBe(2500);
    // Exactly the grades that are not numbers or whose person refers to no user: a good row holding the bad
    // value "A+" in its text column (note) is copied, not rejected with the bad ones.
    const expectedDead = await q<{ n: string }>(source.url, `select count(*) as n from grades where value !~ '^[0-9]+$' or person_id % 50 = 0`);
    expect(grades?.deadLetters).toBe(Number(expectedDead[0]?.n));
    expect(progress).toContain('grades');
    // Every grade refers to its legacy person's new id: a collapsed person's grades follow the survivor.
    const personOf = new Map((await q<{ id: string; person_id: number }>(source.url, 'select id::text, person_id from grades')).map((r) => [r.id, String(r.person_id)]));
    const idMap = new Map((await q<{ old_key: string; new_id: string }>(target.url, `select old_key, new_id from _evolve.id_map where entry = 'persons'`)).map((r) => [r.old_key, r.new_id]));
    const survivors = new Set((await q<{ old_key: string }>(target.url, `select old_key from _evolve.copy_survivor where entry = 'persons'`)).map((r) => r.old_key));
    const copied = await q<{ legacy: string; person: string }>(target.url, 'select "legacyId"::text as legacy, "personId"::text as person from "Grade"');
    expect(copied.filter((g) => idMap.get(personOf.get(g.legacy) ?? '') !== g.person)).toEqual([]);
    const viaCollapsed = copied.filter((g) => {
      const old = personOf.get(g.legacy) ?? '';
      return !survivors.has(old) && [...idMap.entries()].some(([k, v]) => k !== old && v === idMap.get(old));
    });
    expect(viaCollapsed.length).toBeGreaterThan(0);
    const names = await q<{ name: unknown }>(target.url, `select name from "User" u join _evolve.id_map m on m.entry = 'users' and m.new_id = u.id::text and m.old_key = '2'`);
    expect(names[0]?.name).toEqual({ az: 'ad 2', ru: 'имя 2', en: 'name 2' });
    const validation = await validateCopy(plan, { sourceUrl: source.url, targetUrl: target.url });
    expect(validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(validation.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['count users', 'rows "public"."User"', 'content grades']));
    expect(validation.checks.filter((c) => c.name.startsWith('orphans')).length).toBe(5);
    expect(validation.checks.find((c) => c.name === 'content tags')?.detail).toMatch(/rows are counted, not compared/);
  });

  it('is a no-op when run again, and status shows the figures and the dead-letter reasons', async () => {
    const again = await runCopy(plan, { sourceUrl: source.url, targetUrl: target.url });
    expect(again.tables.every((t) => t.status === 'already-complete')).toBe(true);
    expect(again.tables).toHaveLength(6);
    const status = await readCopyStatus(plan, target.url);
    expect(status.tables.every((t) => t.rangesDone === t.ranges && t.status === 'done')).toBe(true);
    expect(status.deadLetterReasons.find((r) => r.entry === 'persons')).toMatchObject({ reason: 'userId = …: no "users" row with that key was copied', rows: 6 });
  });

  it('validation fails loudly, naming the range and key, when the target differs or the source gained rows', async () => {
    await q(target.url, `update "Grade" set value = value + 1 where "legacyId" = 10`);
    await q(source.url, `insert into users values (1000, 'late', 'gec', null, null)`);
    const validation = await validateCopy(plan, { sourceUrl: source.url, targetUrl: target.url });
    expect(validation.ok).toBe(false);
    const failed = Object.fromEntries(validation.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
    expect(failed['content grades']).toMatch(/range 1 \(−∞, \d+\]: keys 10/);
    expect(failed['count users']).toMatch(/source 201 ≠ copied 180 \+ dead letters 0 \+ collapsed 20/);
    expect(failed['content users']).toMatch(/keys 1000/);
    await q(target.url, `update "Grade" set value = value - 1 where "legacyId" = 10`);
    await q(source.url, `delete from users where id = 1000`);
  });

  it('cutover sets sequences past the copied maxima and opens and closes the source read-only window exactly', async () => {
    await q(target.url, `select setval('"Grade_id_seq"', 1, false)`);
    const set = await withClient(target.url, (c) => setSequencesPastMaxima(c, plan));
    const max = Number((await q<{ m: string }>(target.url, `select max(id) as m from "Grade"`))[0]?.m);
    expect(set).toEqual([{ table: '"Grade"', column: 'id', sequence: '"Grade_id_seq"', next: max + 1 }]);
    await q(target.url, `insert into "Grade" ("legacyId", "personId", value) select 999999, "personId", 1 from "Grade" limit 1`);
    const opened = await setSourceReadOnly(plan, { sourceUrl: source.url, targetUrl: target.url, readOnly: true });
    expect(opened).toMatchObject({ readOnly: true, previous: undefined });
    await expect(q(source.url, `insert into users values (2000, 'x', null, null, null)`)).rejects.toThrow(/read-only transaction/);
    const closed = await setSourceReadOnly(plan, { sourceUrl: source.url, targetUrl: target.url, readOnly: false });
    expect(closed.readOnly).toBe(false);
    await q(source.url, `insert into users values (2000, 'x', null, null, null); delete from users where id = 2000`);
    const settings = await q<{ n: string }>(source.url, `select count(*) as n from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = current_database())`);
    expect(Number(settings[0]?.n)).toBe(0);
  });
});
