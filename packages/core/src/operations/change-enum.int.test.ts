import { describe, expect, it } from '@jest/globals';
import { changeEnum } from './change-enum.js';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { parseSpec, step } from './operation.js';

describeOperation('changeEnum', [
  {
    name: 'removes a value with a mapping and renames another while old and new code write; contract leaves exactly the new values',
    setup: `create type "Status" as enum ('DRAFT', 'ACTV', 'LEGACY');
            create table "Post" (id int primary key, status "Status" not null default 'DRAFT');
            create index "Post_status_idx" on "Post"(status);
            insert into "Post" select g, (array['DRAFT', 'ACTV', 'LEGACY'])[1 + g % 3]::"Status" from generate_series(1, 3000) g`,
    step: step(changeEnum, { enum: 'Status', values: ['DRAFT', 'ACTIVE', 'ARCHIVED'], map: { ACTV: 'ACTIVE', LEGACY: 'ARCHIVED' } }),
    contract: true,
    afterUp: async (url) => {
      // Old code writes the values it knows (one that goes is mapped); new code writes the new names.
      await exec(url, `insert into "Post" (id, status) values (9001, 'LEGACY'), (9002, 'ACTV')`);
      await exec(url, `insert into "Post" (id, status) values (9003, 'ARCHIVED')`);
      await exec(url, `insert into "Post" (id) values (9004)`);
      const { rows } = await exec(url, `select id, "_evolve_tmp_status"::text as next from "Post" where id in (1, 2, 3, 9001, 9002, 9003, 9004) order by id`);
      expect(rows).toEqual([
        { id: 1, next: 'ACTIVE' },
        { id: 2, next: 'ARCHIVED' },
        { id: 3, next: 'DRAFT' },
        { id: 9001, next: 'ARCHIVED' },
        { id: 9002, next: 'ACTIVE' },
        { id: 9003, next: 'ARCHIVED' },
        { id: 9004, next: 'DRAFT' },
      ]);
    },
    afterContract: async (url) => {
      const { rows } = await exec(url, `select array_agg(enumlabel::text order by enumsortorder) as labels from pg_enum where enumtypid = '"Status"'::regtype`);
      expect(rows).toEqual([{ labels: ['DRAFT', 'ACTIVE', 'ARCHIVED'] }]);
      const { rows: counts } = await exec(url, `select status::text, count(*)::int as n from "Post" group by 1 order by 1`);
      expect(counts.map((r) => r.status)).toEqual(['ACTIVE', 'ARCHIVED', 'DRAFT']);
      const { rows: column } = await exec(url, `select format_type(atttypid, atttypmod) as type, pg_get_expr(d.adbin, d.adrelid) as "default" from pg_attribute a
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum where a.attrelid = '"Post"'::regclass and a.attname = 'status'`);
      expect(column).toEqual([{ type: '"Status"', default: `'DRAFT'::"Status"` }]);
      expect((await exec(url, `select indexname from pg_indexes where tablename = 'Post' order by 1`)).rows.map((r) => r.indexname)).toEqual(['Post_pkey', 'Post_status_idx']);
      await expect(exec(url, `insert into "Post" (id, status) values (9010, 'LEGACY')`)).rejects.toThrow(/invalid input value for enum "Status"/);
    },
  },
  {
    name: 'refuses before anything runs while rows hold a value that goes without a mapping, naming it',
    setup: `create type "Tier" as enum ('FREE', 'PRO', 'GOLD'); create table "Plan" (id int primary key, tier "Tier"); insert into "Plan" values (1, 'GOLD'), (2, 'GOLD'), (3, 'FREE')`,
    step: step(changeEnum, { enum: 'Tier', values: ['FREE', 'PRO'] }),
    refusal: /rows of "Plan"\."tier" keep a value: 2 row\(s\) hold 'GOLD', which goes without a mapping/,
  },
  {
    name: 'quotes hostile identifiers and values',
    setup: `create type "Sta""tus x" as enum ('o''ld', 'keep'); create table "T ""1" (id int primary key, "s t" "Sta""tus x" default 'keep');
            insert into "T ""1" values (1, 'o''ld'), (2, 'keep')`,
    step: step(changeEnum, { enum: 'Sta"tus x', values: ['keep', "n'ew"], map: { "o'ld": "n'ew" } }),
    contract: true,
    afterContract: async (url) => {
      expect((await exec(url, `select "s t"::text as v from "T ""1" order by id`)).rows).toEqual([{ v: "n'ew" }, { v: 'keep' }]);
    },
  },
  {
    name: 'refuses before anything runs when a view or a function uses the enum, naming them',
    setup: `create type "Mood" as enum ('HAPPY', 'SAD'); create table "Diary" (id int primary key, mood "Mood");
            create view "Moods" as select mood from "Diary";
            create function mood_label(m "Mood") returns text language sql as $$ select m::text $$`,
    step: step(changeEnum, { enum: 'Mood', values: ['HAPPY', 'CALM'], map: { SAD: 'CALM' } }),
    refusal: /every use of enum "Mood" is a column the change follows: also used by .*mood_label\("Mood"\).*public\."Moods"\.mood/,
  },
]);

describe('changeEnum spec', () => {
  it('refuses a mapping to a value that is not kept, naming it', () => {
    expect(() => parseSpec(changeEnum, { enum: 'E', values: ['A'], map: { B: 'C' } })).toThrow(/"changeEnum\.map\.B".*"C", which is not one of the values/);
  });
});
