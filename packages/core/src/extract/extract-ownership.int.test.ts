import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { z } from 'zod';
import { withClient } from '../db/with-client.js';
import { extractJson, mapColumns, undoExtraction } from '../index.js';

const db = useTestDatabase();
const sql = (text: string) => withClient(db.url, async (client) => (await client.query(text)).rows);

const shapes = { list: z.array(z.object({ score: z.number().int() }).transform((e) => e)) };
const map = mapColumns((element: { score: number }) => ({ score: element.score }), ['score']);

/** Parents with a JSON list each; children of the extraction beside children the application wrote itself. */
async function setup(schema: string, childKey: 'text' | 'serial'): Promise<void> {
  await sql(`create schema ${schema}`);
  await sql(`create table ${schema}.parent (id int primary key, scores jsonb)`);
  await sql(
    childKey === 'text'
      ? `create table ${schema}."Child row" (id text primary key, "parentId" int not null, score int not null)`
      : `create table ${schema}."Child row" (id serial primary key, "parentId" int not null, score int not null)`,
  );
  await sql(`insert into ${schema}.parent select g, jsonb_build_array(jsonb_build_object('score', g), jsonb_build_object('score', g * 10)) from generate_series(1, 300) g`);
}

const appRows = (schema: string, key: 'text' | 'serial') =>
  sql(
    key === 'text'
      ? `insert into ${schema}."Child row" select 'app-' || g, g, -g from generate_series(1, 300, 7) g`
      : `insert into ${schema}."Child row" ("parentId", score) select g, -g from generate_series(1, 300, 7) g`,
  );

describe('an extraction owns only the rows it wrote', () => {
  it.each([
    { path: 'deterministic text ids (COPY)', key: 'text' as const, schema: 'shaped' },
    { path: 'children keyed by a serial (INSERT … RETURNING)', key: 'serial' as const, schema: 'serialkey' },
  ])('$path: a restart and undoExtraction leave the application\'s children of the same parents alone', async ({ key, schema }) => {
    await setup(schema, key);
    const spec = {
      database: db.url,
      name: `scores ${schema}`,
      source: { schema, table: 'parent', column: 'scores' },
      target: { schema, table: 'Child row', parentKey: 'parentId', ...(key === 'text' ? { idColumn: 'id' } : {}) },
    };
    const run = (restart: boolean) => extractJson({ ...spec, shapes, map, restart });
    expect(await run(false)).toMatchObject({ status: 'completed', children: 600 });
    await appRows(schema, key); // 43 rows the application wrote after the phase started
    const count = async () => (await sql(`select count(*) filter (where score < 0)::int as app, count(*) filter (where score > 0)::int as extracted from ${schema}."Child row"`))[0];
    expect(await count()).toEqual({ app: 43, extracted: 600 });

    expect(await run(true)).toMatchObject({ status: 'completed', children: 600 });
    expect(await count()).toEqual({ app: 43, extracted: 600 });

    expect(await undoExtraction({ database: db.url, name: spec.name, spec })).toBe(600);
    expect(await count()).toEqual({ app: 43, extracted: 0 });
  });
});
