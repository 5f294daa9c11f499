import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '@prisma-evolve/testing';
import ts from 'typescript';
import { z } from 'zod';
import * as core from '../index.js';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { applySetupMigration } from '../operations/fixtures/operation-harness.js';
import { addForeignKey } from '../operations/add-foreign-key.js';
import { changeColumnType } from '../operations/change-column-type.js';
import { createIndex } from '../operations/create-index.js';
import { dropIndex } from '../operations/drop-index.js';
import { step } from '../operations/operation.js';
import { rawSql } from '../operations/raw-sql.js';
import { contractStep, definePhase, definePlan, schemaStep } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { analyzeDatabase, findingKey, newFindings, renderFixModule } from './analyze.js';

/** A rendered fix module, evaluated as written (its imports bound to the real API). */
function loadModule(source: string): ReturnType<typeof definePhase>[] {
  const imported = /^import \{ ([^}]+) \} from '@prisma-evolve\/core';$/m.exec(source)?.[1]?.split(', ') ?? [];
  const api: Record<string, unknown> = { addForeignKey, changeColumnType, contractStep, createIndex, definePhase, dropIndex, rawSql, schemaStep, step };
  const body = source.replace(/^import .*$/m, '').replace('export const phases =', 'return');
  return new Function(...imported, body)(...imported.map((name) => api[name])) as ReturnType<typeof definePhase>[];
}

/** A rendered fix module compiled as TypeScript and evaluated with its imports bound to the real modules (`@prisma-evolve/core`, `zod`). */
function loadCompiled(source: string): ReturnType<typeof definePhase>[] {
  const output = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, reportDiagnostics: true });
  expect(output.diagnostics ?? []).toEqual([]);
  const bindings: [string, unknown][] = [];
  const body = output.outputText.replace(/^import \{ ([^}]+) \} from '([^']+)';$/gm, (_, names: string, from: string) => {
    for (const name of names.split(', ')) bindings.push([name, from === 'zod' ? z : (core as Record<string, unknown>)[name]]);
    return '';
  });
  return new Function(...bindings.map(([name]) => name), body.replace('export const phases =', 'return'))(...bindings.map(([, value]) => value)) as ReturnType<typeof definePhase>[];
}

const db = useTestDatabase();

/** Every planted problem beside its fixed twin (the negative case). */
const PLANTED = `
create table "Author" (id int primary key, name text);
create table "Post" (id int primary key, "authorId" int references "Author"(id), "editorId" int references "Author"(id), body json, meta jsonb);
create index "Post_editorId_idx" on "Post" ("editorId");                  -- covered foreign key: no finding
create table "Tag" (id int primary key, label text, slug text);
create index "Tag_label_idx" on "Tag" (label);                             -- prefix of the next: redundant
create index "Tag_label_slug_idx" on "Tag" (label, slug);
create unique index "Tag_slug_key" on "Tag" (slug);                        -- unique: a prefix of nothing, kept
create index "Tag_slug_lower_idx" on "Tag" (lower(slug));                  -- expression: not a duplicate of Tag_slug_key
create index "Tag_label_again" on "Tag" (label) where slug is not null;    -- partial: not a duplicate
create table "Log" (at timestamptz, line text);                            -- no primary key
create table "Comment" (id int primary key, "postId" bigint, "deletedAt" timestamp);
alter table "Comment" add constraint "Comment_postId_fkey" foreign key ("postId") references "Post"(id) not valid;
create index "Comment_postId_idx" on "Comment" ("postId");
create table "Vote" (id smallserial primary key, "commentId" int, "deletedAt" timestamp);
create index "Vote_live_idx" on "Vote" ("commentId") where "deletedAt" is null;   -- soft delete with its partial index
select setval('"Vote_id_seq"', 30000);                                     -- 92 % of smallint
create table "Broken" (id int primary key, code text);
insert into "Broken" values (1, 'a'), (2, 'a');
`;

const SCHEMA = `datasource db {
  provider = "postgresql"
}

model Author {
  id    Int     @id
  name  String?
  posts Post[]  @relation("author")
  edits Post[]  @relation("editor")
}

model Post {
  id       Int       @id
  authorId Int?
  author   Author?   @relation("author", fields: [authorId], references: [id])
  editorId Int?
  editor   Author?   @relation("editor", fields: [editorId], references: [id])
  body     Json?     @db.Json
  meta     Json?
  comments Comment[]
}

model Comment {
  id        Int       @id
  postId    BigInt?
  post      Post?     @relation(fields: [postId], references: [id])
  deletedAt DateTime?
}

model Vote {
  id        Int       @id @default(autoincrement()) @db.SmallInt
  commentId Int?      @map("commentId")
  owner     Author2?  @relation(fields: [commentId], references: [id])
  deletedAt DateTime?
}

model Author2 {
  id    Int    @id
  votes Vote[]

  @@map("Author")
}
`;

describe('analyze: static checks', () => {
  it('finds each planted problem, not its fixed twin, with the Prisma location and a fix', async () => {
    const database = await createTestDatabase(db.serverUrl, { prefix: 'evolve_analyze' });
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'evolve-analyze-'));
      const migrationsDir = path.join(dir, 'migrations');
      // The planted schema as the app's first Prisma migration (the fix phases add folders after it).
      await applySetupMigration(database.url, migrationsDir, '20300300000000_init', PLANTED);
      await withClient(database.url, async (client) => {
        // A failed concurrent build leaves an INVALID index behind.
        await client.query(`create unique index concurrently "Broken_code_key" on "Broken" (code)`).catch(() => undefined);
      });
      const schemaPath = path.join(dir, 'schema.prisma');
      writeFileSync(schemaPath, SCHEMA);
      const findings = await analyzeDatabase({ databaseUrl: database.url, schemaPath, checks: ['fk-without-index', 'redundant-index', 'invalid-index', 'not-valid-constraint', 'left-behind', 'no-primary-key', 'fk-type-mismatch', 'json-not-jsonb', 'sequence-near-limit', 'soft-delete-without-partial-index', 'relation-without-foreign-key'] });
      const keys = findings.map(findingKey).sort();
      expect(keys).toEqual(
        [
          'fk-type-mismatch:public.Comment.postId',
          'fk-without-index:public.Post.authorId',
          'invalid-index:public.Broken_code_key',
          'json-not-jsonb:public.Post.body',
          'no-primary-key:public.Log',
          'not-valid-constraint:public.Comment_postId_fkey',
          'redundant-index:public.Tag_label_idx',
          'relation-without-foreign-key:public.Vote.commentId',
          'sequence-near-limit:public.Vote.id',
          'soft-delete-without-partial-index:public.Comment.deletedAt',
        ].sort(),
      );
      const byKey = new Map(findings.map((f) => [findingKey(f), f]));
      expect(byKey.get('fk-without-index:public.Post.authorId')).toMatchObject({
        severity: 'warning',
        prisma: { model: 'Post', field: 'author', file: schemaPath, line: 15 },
        fix: { prisma: '@@index([authorId]) in model Post', steps: ['schemaStep("index_Post_authorId", step(createIndex, { table: "Post", columns: ["authorId"] }))'] },
      });
      expect(byKey.get('json-not-jsonb:public.Post.body')?.prisma).toEqual({ model: 'Post', field: 'body', file: schemaPath, line: 18 });
      expect(byKey.get('sequence-near-limit:public.Vote.id')?.message).toMatch(/at 30000 of 32767 \(92 %\)/);
      expect(byKey.get('relation-without-foreign-key:public.Vote.commentId')?.prisma).toMatchObject({ model: 'Vote', field: 'owner' });
      expect(byKey.get('redundant-index:public.Tag_label_idx')?.message).toMatch(/is a prefix of "Tag_label_slug_idx"/);

      // --fix: the phase module holds every step and imports what they use; run as written, it removes the findings it fixes.
      const module = renderFixModule(findings);
      expect(module).toMatch(/import \{ addForeignKey, changeColumnType, contractStep, createIndex, definePhase, dropIndex, rawSql, schemaStep, step \} from '@prisma-evolve\/core';/);
      expect(module).toContain('REINDEX INDEX CONCURRENTLY \\"public\\".\\"Broken_code_key\\"');
      const fixable = ['fk-without-index', 'redundant-index', 'invalid-index', 'json-not-jsonb', 'relation-without-foreign-key'];
      await withClient(database.url, (client) => client.query(`delete from "Broken" where id = 2`));
      const phases = loadModule(renderFixModule(findings.filter((f) => fixable.includes(f.check))));
      const runner = new PhaseRunner(definePlan({ name: 'fixes', migrationsDir, migrationPrefix: '20300301000000', phases }), { databaseUrl: database.url, migrationsDir });
      for (const phase of phases) await runner.run(phase.name);
      const after = await analyzeDatabase({ databaseUrl: database.url, schemaPath, checks: fixable });
      expect(after.map(findingKey)).toEqual([]);
    } finally {
      await database.drop();
    }
  });

  it('a baseline keeps known findings quiet and reports only new ones', () => {
    const finding = (check: string, object: string) => ({ check, kind: 'static' as const, severity: 'warning' as const, object, prisma: null, message: '', fix: null });
    const today = [finding('fk-without-index', 'public.Post.authorId'), finding('no-primary-key', 'public.Log')];
    const baseline = today.map(findingKey);
    expect(newFindings(today, baseline)).toEqual([]);
    expect(newFindings([...today, finding('no-primary-key', 'public.Audit')], baseline).map(findingKey)).toEqual(['no-primary-key:public.Audit']);
  });

  it('reports drift between schema.prisma and the database', async () => {
    const database = await createTestDatabase(db.serverUrl, { prefix: 'evolve_analyze' });
    try {
      await withClient(database.url, (client) => client.query(`create table "Author" (id int primary key)`));
      const dir = mkdtempSync(path.join(tmpdir(), 'evolve-analyze-'));
      const schemaPath = path.join(dir, 'schema.prisma');
      writeFileSync(schemaPath, `datasource db {\n  provider = "postgresql"\n}\n\nmodel Author {\n  id   Int     @id\n  name String?\n}\n`);
      const drift = await analyzeDatabase({ databaseUrl: database.url, schemaPath, checks: ['schema-drift'] });
      expect(drift).toHaveLength(1);
      expect(drift[0]?.message).toMatch(/ADD COLUMN\s+"name" TEXT/);
      await withClient(database.url, (client) => client.query(`alter table "Author" add column name text`));
      expect(await analyzeDatabase({ databaseUrl: database.url, schemaPath, checks: ['schema-drift'] })).toEqual([]);
    } finally {
      await database.drop();
    }
  });

  it('--fix on a nested list with hostile and unnamable keys, and on codes without a reference row', async () => {
    const database = await createTestDatabase(db.serverUrl, { prefix: 'evolve_analyze' });
    const hostile = '*/ globalThis.__evolvePwned = 1; /*';
    const long = `${'k'.repeat(64)}_long`;
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'evolve-analyze-'));
      const migrationsDir = path.join(dir, 'migrations');
      await applySetupMigration(
        database.url,
        migrationsDir,
        '20300300000000_init',
        `create table "Profile" (id text primary key, schedule jsonb);
         create table "Booking" (id int primary key, "subjectId" text);
         create table "Lesson" (id int primary key, "subjectId" text);
         insert into "Booking" select i, 'S' || (i % 3) from generate_series(1, 20) i;
         insert into "Lesson" select i, 'S' || (i % 3) from generate_series(1, 20) i;`,
      );
      const doc = (i: number, day: unknown = i % 7) => ({ schedule: { slots: [{ day, from: '09:00', [hostile]: `h${i}`, [long]: `l${i}`, 'a\u0001b': `c${i}` }, { day: (i + 1) % 7, from: '10:00', [hostile]: 'h', [long]: 'l', 'a\u0001b': 'c' }] } });
      await withClient(database.url, async (client) => {
        for (let i = 1; i <= 20; i += 1) await client.query(`insert into "Profile" values ($1, $2::jsonb)`, [`p${i}`, JSON.stringify(doc(i))]);
      });
      const checks = ['json-shapes', 'reference-candidate'];
      const findings = await analyzeDatabase({ databaseUrl: database.url, checks });
      expect(findings.map(findingKey).sort()).toEqual(['json-should-be-table:public.Profile.schedule', 'reference-candidate:public.Booking+Lesson.subjectId']);
      const phases = loadCompiled(renderFixModule(findings));
      expect((globalThis as { __evolvePwned?: unknown }).__evolvePwned).toBeUndefined();
      const runner = new PhaseRunner(definePlan({ name: 'fixes', migrationsDir, migrationPrefix: '20300301000000', phases }), { databaseUrl: database.url, migrationsDir });
      await runner.run('analyze_fixes');

      await withClient(database.url, async (client) => {
        // The nested list's elements are rows, every key in a column of its own (the unnamable ones renamed, not dropped).
        const { rows } = await client.query<{ column: string; n: number }>(
          `select a.attname::text as column, (xpath('/row/n/text()', query_to_xml(format('select count(%I) as n from "ProfileSchedule"', a.attname), false, true, '')))[1]::text::int as n
           from pg_attribute a where a.attrelid = '"ProfileSchedule"'::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
        );
        expect(rows.map((r) => r.n)).toEqual(rows.map(() => 40));
        expect(rows).toHaveLength(7);
        expect(rows.map((r) => r.column)).toEqual(expect.arrayContaining(['id', 'profileId', 'day', 'from', hostile, expect.stringMatching(/^k{54}_[0-9a-f]{8}$/), expect.stringMatching(/^a_b_[0-9a-f]{8}$/)]));
      });

      // json-extracted only once the extraction's tracking row is completed (or, with none, the child holds rows).
      const jsonCheck = async () => (await analyzeDatabase({ databaseUrl: database.url, checks: ['json-shapes'] })).map((f) => [f.check, f.fix?.steps.filter(core.isCodeStep).length ?? 0]);
      expect(await jsonCheck()).toEqual([['json-extracted', 0]]);
      const tracked = (sql: string) => withClient(database.url, (client) => client.query(`update _evolve."DataMigration" set ${sql} where name = 'phase:analyze_fixes/extract_Profile_schedule'`));
      await tracked(`status = 'failed'`);
      expect(await jsonCheck()).toEqual([['json-should-be-table', 3]]);
      await tracked(`status = 'completed'`);
      expect(await jsonCheck()).toEqual([['json-extracted', 0]]);
      await tracked(`name = 'elsewhere'`);
      expect(await jsonCheck()).toEqual([['json-extracted', 0]]);
      const renamed = () => withClient(database.url, (client) => client.query(`update _evolve."DataMigration" set name = 'phase:analyze_fixes/extract_Profile_schedule' where name = 'elsewhere'`));
      await renamed();

      // Children gone (as when every document was a dead letter) while documents hold elements: the JSON column's drop refuses.
      await withClient(database.url, (client) => client.query(`create table keep as select * from "ProfileSchedule"; delete from "ProfileSchedule"`));
      await tracked(`name = 'elsewhere'`);
      expect(await jsonCheck()).toEqual([['json-should-be-table', 3]]);
      await renamed();
      await expect(runner.run('analyze_fixes_contract')).rejects.toThrow(/data step "analyze_fixes\/extract_Profile_schedule" is unfinished/);
      await withClient(database.url, (client) => client.query(`insert into "ProfileSchedule" select * from keep; drop table keep`));

      // A code written after the fill has no reference row: the contract refuses to drop the code column.
      await withClient(database.url, (client) => client.query(`insert into "Booking" values (21, 'NEW')`));
      await expect(runner.run('analyze_fixes_contract')).rejects.toThrow(/Booking_subjectRefId_unkeyed" is unfinished/);
      await withClient(database.url, async (client) => {
        const { rows } = await client.query(`select 1 from information_schema.columns where table_name = 'Booking' and column_name = 'subjectId'`);
        expect(rows).toHaveLength(1);
      });
    } finally {
      delete (globalThis as { __evolvePwned?: unknown }).__evolvePwned;
      await database.drop();
    }
  });
});
