import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { z } from 'zod';
import { withClient } from '../db/with-client.js';
import { extractJson, mapColumns, verifyExtraction } from '../index.js';

const db = useTestDatabase();
const sql = (text: string, params: unknown[] = []) => withClient(db.url, async (client) => (await client.query(text, params)).rows);

/** Child values COPY's text format must escape, or could mistake for its own markers. */
const HOSTILE = ['tab\there', 'new\nline', 'carriage\rreturn', 'back\\slash', '\\N', '\\.', 'end\\', '\t\n\\\r', '', ' ', 'zoë 🦘 ש ́', 'NULL', '"quoted"', "it's"];

const element = z.object({ i: z.number().int(), label: z.string().nullable(), meta: z.unknown(), score: z.number().nullable(), flag: z.boolean() });
const shapes = { list: z.array(element) };
const map = mapColumns((e: z.infer<typeof element>) => ({ ord: e.i, label: e.label, meta: e.meta ?? null, score: e.score, flag: e.flag }), ['ord', 'label', 'meta', 'score', 'flag']);

/** Parents (some with hostile keys) whose elements carry every hostile value, NULLs and JSON holding them too. */
async function setup(schema: string): Promise<void> {
  await sql(`create schema ${schema}`);
  await sql(`create table ${schema}.parent (id text primary key, doc jsonb)`);
  const children = (offset: number) =>
    HOSTILE.map((label, i) => ({ i: i + 1, label: (i + offset) % 5 === 4 ? null : label, meta: i % 3 === 0 ? null : { text: label, list: [label, null] }, score: i % 4 === 0 ? null : i + 0.25, flag: i % 2 === 0 }));
  // Keys differ per schema: the ledger knows rows by id alone, and the same id in two tests would look taken.
  const keys = ['p1', 'p\t2', 'p\\3', 'p 🦘 4', 'p\n5', 'p\\N6'].map((key) => `${schema}:${key}`);
  await sql(`insert into ${schema}.parent select * from unnest($1::text[], $2::jsonb[])`, [keys, keys.map((_, k) => JSON.stringify(children(k)))]);
  const columns = `"parentId" text not null, ord int not null, label text, meta jsonb, score double precision, flag boolean not null`;
  await sql(`create table ${schema}.direct (id text primary key, ${columns})`);
  await sql(`create table ${schema}.staged (id text primary key, ${columns}, "updatedAt" timestamptz not null)`);
  await sql(`create table ${schema}.statement (id serial primary key, ${columns})`);
  // Which statements wrote the children: a refused COPY falls back to the INSERT statement and would still write the right rows.
  await sql(`create table ${schema}.writes (tbl text, query text);
    create function ${schema}.log_write() returns trigger language plpgsql as $$ begin insert into ${schema}.writes values (tg_table_name, current_query()); return null; end $$;
    create trigger log_direct after insert on ${schema}.direct for each statement execute function ${schema}.log_write();
    create trigger log_staged after insert on ${schema}.staged for each statement execute function ${schema}.log_write();
    create trigger log_statement after insert on ${schema}.statement for each statement execute function ${schema}.log_write();`);
}

/** How each table's children were written: `copy`, `staged` (INSERT from the staging table) or `statement`. */
const writers = async (schema: string) =>
  (await sql(`select tbl, query from ${schema}.writes`)).map((row) => {
    const query = String(row['query']).trim().toLowerCase();
    return `${String(row['tbl'])}: ${query.startsWith('copy') ? 'copy' : query.includes('_evolve_extract_stage_') ? 'staged' : 'statement'}`;
  });

const rowsOf = (schema: string, table: string) =>
  sql(`select "parentId", ord, label, meta, score, flag from ${schema}.${table} order by "parentId" collate "C", ord`);

describe('extractJson writes children with COPY', () => {
  it('COPY (direct and staged) and the INSERT statement write identical rows from hostile values, with md5 ids as PostgreSQL computes them', async () => {
    await setup('hostile');
    const source = { schema: 'hostile', table: 'parent', column: 'doc' };
    const direct = await extractJson({ database: db.url, name: 'hostile direct', source, target: { table: 'direct', parentKey: 'parentId', idColumn: 'id' }, shapes, map });
    const staged = await extractJson({ database: db.url, name: 'hostile staged', source, target: { table: 'staged', parentKey: 'parentId', idColumn: 'id', fixed: { updatedAt: 'now()' } }, shapes, map });
    const statement = await extractJson({ database: db.url, name: 'hostile statement', source, target: { table: 'statement', parentKey: 'parentId' }, shapes, map });
    expect([direct.children, staged.children, statement.children]).toEqual([6 * HOSTILE.length, 6 * HOSTILE.length, 6 * HOSTILE.length]);
    expect(await writers('hostile')).toEqual(['direct: copy', 'staged: staged', 'statement: statement']);

    const expected = (await sql(`select id as "parentId", doc from hostile.parent order by id`)).flatMap((parent) =>
      (parent['doc'] as z.infer<typeof element>[]).map((e) => ({ parentId: parent['parentId'], ord: e.i, label: e.label, meta: e.meta ?? null, score: e.score, flag: e.flag })),
    );
    const sorted = expected.sort((a, b) => (String(a.parentId) < String(b.parentId) ? -1 : String(a.parentId) > String(b.parentId) ? 1 : a.ord - b.ord));
    expect(await rowsOf('hostile', 'direct')).toEqual(sorted);
    expect(await rowsOf('hostile', 'staged')).toEqual(sorted);
    expect(await rowsOf('hostile', 'statement')).toEqual(sorted);
    for (const table of ['direct', 'staged']) {
      expect(await sql(`select count(*)::int as n from hostile.${table} where id <> md5('parentId:' || "parentId" || ':' || ord)`)).toEqual([{ n: 0 }]);
      const [ledger] = await sql(`select count(*)::int as n from "_evolve".extract_owned_rows o join hostile.${table} c on c.id = o.row_key and c."parentId" = o.parent_key where o.migration = $1`, [`hostile ${table}`]);
      expect(ledger?.['n']).toBe(6 * HOSTILE.length);
    }
    // A restart clears and rewrites through the same path: same rows, same ids.
    const ids = await sql(`select md5(string_agg(id, ',' order by id)) as h from hostile.direct`);
    await extractJson({ database: db.url, name: 'hostile direct', source, target: { table: 'direct', parentKey: 'parentId', idColumn: 'id' }, shapes, map, restart: true });
    expect(await sql(`select md5(string_agg(id, ',' order by id)) as h from hostile.direct`)).toEqual(ids);
    expect((await verifyExtraction({ database: db.url, source, target: { table: 'direct', parentKey: 'parentId', idColumn: 'id' }, shapes, map })).ok).toBe(true);
  });

  it('adopts a row that already has its id and no extraction recorded (the COPY is refused, the statement replaces it)', async () => {
    await setup('adopt');
    await sql(`insert into adopt.direct values (md5('parentId:adopt:p1:3'), 'adopt:p1', 3, 'stale', null, -1, false)`);
    await sql(`delete from adopt.writes`);
    const result = await extractJson({ database: db.url, name: 'adopt', source: { schema: 'adopt', table: 'parent', column: 'doc' }, target: { table: 'direct', parentKey: 'parentId', idColumn: 'id' }, shapes, map });
    expect(result.children).toBe(6 * HOSTILE.length);
    expect(await sql(`select label, score from adopt.direct where id = md5('parentId:adopt:p1:3')`)).toEqual([{ label: HOSTILE[2], score: 2.25 }]);
    expect(await sql(`select count(*)::int as n from "_evolve".extract_owned_rows where migration = 'adopt' and row_key = md5('parentId:adopt:p1:3')`)).toEqual([{ n: 1 }]);
    expect(await writers('adopt')).toEqual(['direct: statement']);
  });

  it('reports a value its column refuses as PostgreSQL words it, and writes nothing of that batch', async () => {
    await setup('refused');
    const bad = mapColumns((e: z.infer<typeof element>) => ({ ord: e.i === 3 ? 'three' : e.i, label: e.label, flag: e.flag }), ['ord', 'label', 'flag']);
    const failure = await extractJson({ database: db.url, name: 'refused', source: { schema: 'refused', table: 'parent', column: 'doc' }, target: { table: 'direct', parentKey: 'parentId', idColumn: 'id' }, shapes, map: bad, maxAttempts: 1 }).catch((error: unknown) => error);
    expect(String(failure)).toMatch(/invalid input syntax for type integer: "three"/);
    expect(await sql(`select count(*)::int as n from refused.direct`)).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from "_evolve".extract_owned_rows where migration = 'refused'`)).toEqual([{ n: 0 }]);
  });

  it('stops mid-stream at an invalid document with onInvalid: fail, keeping only the batches committed before it', async () => {
    await sql(`create schema strict; create table strict.parent (id int primary key, doc jsonb); create table strict.child (id text primary key, "parentId" int not null, ord int not null)`);
    await sql(`insert into strict.parent select g, case when g = 150 then '"oops"' else jsonb_build_array(jsonb_build_object('i', 1), jsonb_build_object('i', 2)) end from generate_series(1, 300) g`);
    const list = { list: z.array(z.object({ i: z.number().int() })) };
    const ordMap = mapColumns((e: { i: number }) => ({ ord: e.i }), ['ord']);
    const failure = await extractJson({ database: db.url, name: 'strict', source: { schema: 'strict', table: 'parent', column: 'doc' }, target: { table: 'child', parentKey: 'parentId', idColumn: 'id' }, shapes: list, map: ordMap, onInvalid: 'fail', batch: { initial: 40, min: 40, max: 40 } }).catch((error: unknown) => error);
    expect(String(failure)).toMatch(/"strict"."parent"."doc" of key 150 matches none of the shapes/);
    // Batches of 40: parents 1-120 committed, the batch holding 150 rolled back whole.
    expect(await sql(`select min("parentId")::int as lo, max("parentId")::int as hi, count(*)::int as n from strict.child`)).toEqual([{ lo: 1, hi: 120, n: 240 }]);
  });

  it('ends with every child once when the batch size keeps changing and two workers read ahead', async () => {
    await sql(`create schema ahead; create table ahead.parent (id int primary key, doc jsonb); create table ahead.child (id text primary key, "parentId" int not null, ord int not null, "updatedAt" timestamptz not null)`);
    await sql(`insert into ahead.parent select g, (select jsonb_agg(jsonb_build_object('i', k)) from generate_series(1, 1 + g % 4) k) from generate_series(1, 2000) g`);
    const list = { list: z.array(z.object({ i: z.number().int() })) };
    const ordMap = mapColumns((e: { i: number }) => ({ ord: e.i }), ['ord']);
    const spec = { database: db.url, name: 'ahead', source: { schema: 'ahead', table: 'parent', column: 'doc' }, target: { table: 'child', parentKey: 'parentId', idColumn: 'id', fixed: { updatedAt: 'now()' } }, shapes: list, map: ordMap };
    const result = await extractJson({ ...spec, workers: 2, rangeRows: 300, batch: { initial: 7, min: 3, max: 90, targetMs: 1 } });
    const expected = Array.from({ length: 2000 }, (_, g) => 1 + ((g + 1) % 4)).reduce((a, b) => a + b, 0);
    expect(result).toMatchObject({ status: 'completed', children: expected });
    expect(await sql(`select count(*)::int as n, count(distinct ("parentId", ord))::int as d from ahead.child`)).toEqual([{ n: expected, d: expected }]);
    expect((await verifyExtraction(spec)).ok).toBe(true);
  });

  it('falls back to the INSERT statement for a role without the TEMPORARY privilege the staging table needs', async () => {
    const role = `evolve_notemp_${process.pid}`;
    const database = new URL(db.url).pathname.slice(1);
    await sql(`create role ${role} login; revoke temporary on database "${database}" from public; grant create on database "${database}" to ${role}`);
    try {
      await sql(`create schema notemp authorization ${role}; create table notemp.parent (id int primary key, doc jsonb);
        create table notemp.child (id text primary key, "parentId" int not null, ord int not null, "updatedAt" timestamptz not null);
        insert into notemp.parent select g, jsonb_build_array(jsonb_build_object('i', 1), jsonb_build_object('i', 2)) from generate_series(1, 50) g;
        alter table notemp.parent owner to ${role}; alter table notemp.child owner to ${role}`);
      const url = new URL(db.url);
      url.username = role;
      url.password = '';
      const list = { list: z.array(z.object({ i: z.number().int() })) };
      const result = await extractJson({
        database: url.toString(),
        name: 'notemp',
        tracking: { schema: 'notemp', stateSchema: 'notemp' },
        source: { schema: 'notemp', table: 'parent', column: 'doc' },
        target: { table: 'child', parentKey: 'parentId', idColumn: 'id', fixed: { updatedAt: 'now()' } },
        shapes: list,
        map: mapColumns((e: { i: number }) => ({ ord: e.i }), ['ord']),
      });
      expect(result).toMatchObject({ status: 'completed', children: 100 });
    } finally {
      await sql(`drop schema if exists notemp cascade; drop owned by ${role}; grant temporary on database "${database}" to public; drop role ${role}`);
    }
  });
});
