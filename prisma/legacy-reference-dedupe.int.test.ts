import { beforeAll, describe, expect, it } from '@jest/globals';
import { backfill, dedupe, extractReferenceRows, mergeTables, reportDuplicates, undoDedupe } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { sqlOn } from './fixtures/sql.js';
import type { LegacySummary } from '../scripts/legacy/legacy-generator.js';
import { seedLegacyDatabase } from '../scripts/legacy/seed-legacy-database.js';
import { SUBJECT_CODE, subjectReferenceSources } from './legacy-reference.js';

const db = useTestDatabase();
let summary: LegacySummary;

const sql = sqlOn(() => db.url);

beforeAll(async () => {
  summary = await seedLegacyDatabase({ databaseUrl: db.url, scale: 1, seed: 5 });
}, 120_000);

describe('reference tables (seed 003 phase 2)', () => {
  it('builds Subject rows with deterministic ids from three sources, then backfills the new FK column to >= 95% coverage', async () => {
    await sql(`create table "Subject" ("id" text primary key, "tenantId" text not null, "code" text not null, "name" text not null,
      "isActive" boolean not null default true, "createdAt" timestamp(3) not null default current_timestamp, "updatedAt" timestamp(3) not null);
      create unique index "Subject_tenantId_code_key" on "Subject" ("tenantId", "code")`);
    const options = {
      database: db.url,
      target: { table: 'Subject', idColumn: 'id', key: ['tenantId', 'code'], columns: ['name'], fixed: { updatedAt: 'now()' } },
      sources: subjectReferenceSources,
    };
    const report = await extractReferenceRows(options);
    const [tenants] = await sql<{ n: number }>(`select count(*)::int as n from "Tenant"`);
    expect(report.distinctKeys).toBe((tenants?.n ?? 0) * 12);
    expect(report).toMatchObject({ inserted: report.distinctKeys, existing: 0 });
    expect(report.sources.map((s) => s.rows)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(report.sources[2]?.rows).toBeGreaterThan(0);
    const [spellings] = await sql<{ n: number }>(`select count(distinct code)::int as n from "Subject"`);
    expect(spellings?.n).toBe(12);
    const ids = await sql(`select md5(string_agg(id, ',' order by id)) as h from "Subject"`);
    expect(await extractReferenceRows(options)).toMatchObject({ inserted: 0, existing: report.distinctKeys });
    expect(await sql(`select md5(string_agg(id, ',' order by id)) as h from "Subject"`)).toEqual(ids);

    await sql(`alter table "Booking" add column "subjectRefId" text`);
    const fill = await backfill({
      database: db.url,
      table: 'Booking',
      set: { subjectRefId: 's.id' },
      join: [{ table: 'Subject', alias: 's', on: `s."tenantId" = t."tenantId" and s.code = ${SUBJECT_CODE('t."subjectId"')}` }],
      where: `t."subjectRefId" is null and t."subjectId" is not null`,
      coverage: { satisfied: `t."subjectRefId" is not null`, threshold: 0.95, samples: 3 },
    });
    expect(fill.coverage?.passed).toBe(true);
    expect(fill.coverage?.coverage).toBeGreaterThanOrEqual(0.95);
    expect(fill.coverage?.coverage).toBeLessThan(1);
    expect(fill.coverage?.samples).toHaveLength(3);
    const [unmatched] = await sql<{ n: number }>(`select count(*)::int as n from "Booking" where "subjectId" is not null and "subjectRefId" is null`);
    expect(unmatched?.n).toBe(0);
  });
});

describe('dedupe before unique (seed 003 phase 5)', () => {
  it('reports the groups, keeps the latest review per (content, reviewer), backs the rest up, and the unique index then builds', async () => {
    const options = { database: db.url, table: 'ContentReview', columns: ['contentId', 'reviewerId'], keep: 'latest' as const };
    const report = await reportDuplicates(options);
    expect(report.extraRows).toBe(summary.defects.duplicateReviews);
    const sample = report.samples[0];
    expect(sample?.remove.length).toBe((sample?.size ?? 0) - 1);

    const latest = await sql<{ id: string }>(
      `select distinct on ("contentId", "reviewerId") id from "ContentReview" order by "contentId", "reviewerId", "createdAt" desc, id`,
    );
    const result = await dedupe(options);
    expect(result.deleted).toBe(summary.defects.duplicateReviews);
    const kept = await sql<{ id: string }>(`select id from "ContentReview" order by 1`);
    expect(kept.map((r) => r.id)).toEqual(latest.map((r) => r.id).sort());
    await sql(`create unique index "ContentReview_contentId_reviewerId_key" on "ContentReview" ("contentId", "reviewerId")`);
    expect((await reportDuplicates(options)).groups).toBe(0);

    await sql(`drop index "ContentReview_contentId_reviewerId_key"`);
    const [before] = await sql<{ n: number }>(`select count(*)::int as n from "ContentReview"`);
    expect(await undoDedupe(options)).toBe(summary.defects.duplicateReviews);
    const [after] = await sql<{ n: number }>(`select count(*)::int as n from "ContentReview"`);
    expect((after?.n ?? 0) - (before?.n ?? 0)).toBe(summary.defects.duplicateReviews);
  });

  it('never deletes a whole group, even when the application deletes the kept row mid-run', async () => {
    await sql(`create table notes (id int primary key, k text, "createdAt" timestamp(3) not null);
      insert into notes values (1, 'a', '2026-01-01'), (2, 'a', '2026-01-02'), (3, 'a', '2026-01-03'), (4, 'b', '2026-01-01'), (5, 'b', '2026-01-02')`);
    const options = { database: db.url, table: 'notes', columns: ['k'], keep: 'latest' as const };
    const stopped = new AbortController();
    stopped.abort();
    expect(await dedupe({ ...options, signal: stopped.signal })).toMatchObject({ deleted: 0, canceled: true });
    await sql(`delete from notes where id = 3`); // the row "latest" keeps for group a, gone before the deletes
    await dedupe(options);
    expect(await sql(`select id from notes order by id`)).toEqual([{ id: 1 }, { id: 2 }, { id: 5 }]);
  });

  it('keeps the first purchase by a caller-given rule', async () => {
    const options = { database: db.url, table: 'ContentPurchase', columns: ['contentId', 'buyerId'], keep: { orderBy: '"purchasedAt" asc' } };
    const first = await sql<{ id: string }>(`select distinct on ("contentId", "buyerId") id from "ContentPurchase" order by "contentId", "buyerId", "purchasedAt", id`);
    const result = await dedupe(options);
    expect(result.deleted).toBe(summary.defects.duplicatePurchases);
    expect((await sql<{ id: string }>(`select id from "ContentPurchase" order by 1`)).map((r) => r.id)).toEqual(first.map((r) => r.id).sort());
  });
});

describe('mergeTables (seed 000: four junction tables into teacher_assignments)', () => {
  it('collapses duplicates by rank and balances to the row', async () => {
    await sql(`create table class_teachers (teacher_id int, class_id int);
      insert into class_teachers select g % 50, g % 20 from generate_series(1, 400) g;
      create table subject_teachers (teacher_id int, class_id int, subject text);
      insert into subject_teachers select g % 50, g % 20, 'math' from generate_series(1, 300) g;
      create table homeroom_teachers (teacher_id int, class_id int);
      insert into homeroom_teachers select g, g from generate_series(1, 20) g;
      create table relief_teachers (teacher_id int, class_id int);
      insert into relief_teachers select g % 60, g % 20 from generate_series(1, 100) g;
      create table teacher_assignments (teacher_id int not null, class_id int not null, role text not null,
        primary key (teacher_id, class_id), check (role in ('homeroom', 'subject', 'class', 'relief')))`);
    const report = await mergeTables({
      database: db.url,
      target: { table: 'teacher_assignments', columns: ['teacher_id', 'class_id', 'role'] },
      sources: [
        { table: 'homeroom_teachers', select: { teacher_id: 't.teacher_id', class_id: 't.class_id', role: `'homeroom'` } },
        { table: 'subject_teachers', select: { teacher_id: 't.teacher_id', class_id: 't.class_id', role: `'subject'` } },
        { table: 'class_teachers', select: { teacher_id: 't.teacher_id', class_id: 't.class_id', role: `'class'` } },
        { table: 'relief_teachers', select: { teacher_id: 't.teacher_id', class_id: 't.class_id', role: `'relief'` } },
      ],
      distinctOn: ['teacher_id', 'class_id'],
    });
    const [distinct] = await sql<{ n: number }>(`select count(*)::int as n from teacher_assignments`);
    expect(report).toMatchObject({ sourceRows: 820, written: distinct?.n, balanced: true });
    expect(report.sourceRows - report.duplicatesCollapsed).toBe(report.written);
    expect(await sql(`select role from teacher_assignments where teacher_id = 1 and class_id = 1`)).toEqual([{ role: 'homeroom' }]);
    expect(await mergeTables({
      database: db.url,
      target: { table: 'teacher_assignments', columns: ['teacher_id', 'class_id', 'role'] },
      sources: [{ table: 'class_teachers', select: { teacher_id: 't.teacher_id', class_id: 't.class_id', role: `'class'` } }],
      distinctOn: ['teacher_id', 'class_id'],
    })).toMatchObject({ sourceRows: 400, balanced: true });
  });
});
