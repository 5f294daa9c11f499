import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { extractJson, InvalidArgumentError, mapColumns, undoExtraction, verifyExtraction } from '@prisma-evolve/core';
import { tableChecksums } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { sqlOn } from './fixtures/sql.js';
import type { LegacySummary } from '../scripts/legacy/legacy-generator.js';
import { seedLegacyDatabase } from '../scripts/legacy/seed-legacy-database.js';
import { z } from 'zod';
import { addressMap, availabilityMap, availabilityShapes, locationShapes, pricingMap, pricingShapes, voteMap, voteShapes } from './legacy-shapes.js';

const db = useTestDatabase();
let summary: LegacySummary;

const sql = sqlOn(() => db.url);

const slotTable = (name: string) => `create table "${name}" ("id" text primary key, "profileId" text not null, "dayOfWeek" integer not null,
  "startTime" text not null, "endTime" text not null, "timezone" text not null default 'Australia/Sydney', "isRecurring" boolean not null default true,
  "createdAt" timestamp(3) not null default current_timestamp, "updatedAt" timestamp(3) not null);
  create index on "${name}" ("profileId")`;

beforeAll(async () => {
  summary = await seedLegacyDatabase({ databaseUrl: db.url, scale: 1, seed: 3 });
  await sql(slotTable('TutorAvailabilitySlot'));
  // No "fixed" column needed (updatedAt has a default): children are COPYed straight into it.
  await sql(`${slotTable('SlotDirect')}; alter table "SlotDirect" alter column "updatedAt" set default current_timestamp`);
  await sql(slotTable('SlotResumed'));
  await sql(`create table "TutorPricingTier" ("id" text primary key, "profileId" text not null, "sessionType" text not null, "duration" integer not null,
    "baseRate" double precision not null, "currency" text not null default 'AUD', "groupDiscount" double precision not null default 0,
    "maxGroupSize" integer not null default 1, "updatedAt" timestamp(3) not null)`);
  await sql(`create table "LearningAssetVote" ("id" text primary key, "requestId" text not null, "userId" text not null,
    "createdAt" timestamp(3) not null default current_timestamp); create unique index on "LearningAssetVote" ("requestId", "userId")`);
  await sql(`create table "Address" ("id" text primary key, "tenantId" text not null, "streetAddress" text, "suburb" text, "city" text, "state" text,
    "postcode" text, "country" text not null default 'Australia', "latitude" double precision, "longitude" double precision,
    "homeschoolFamilyId" text unique, "microSchoolId" text unique, "homeschoolCoopId" text unique, "updatedAt" timestamp(3) not null)`);
}, 120_000);

const availability = {
  source: { table: 'TutorProfile', column: 'availability' },
  target: { table: 'TutorAvailabilitySlot', parentKey: 'profileId', idColumn: 'id', fixed: { updatedAt: 'now()' } },
} as const;

describe('extractJson on seed 003 legacy data', () => {
  it('extracts availability in every shape; malformed documents become readable dead letters; parity holds', async () => {
    const before = await tableChecksums(db.url, { schema: 'public' });
    const result = await extractJson({ database: db.url, name: 'availability', ...availability, shapes: availabilityShapes, map: availabilityMap, batch: { initial: 50, min: 20, max: 200, targetMs: 50 } });
    expect(result.status).toBe('completed');
    expect(result.invalid).toBe(summary.defects.malformedAvailability);
    expect(result.children).toBeGreaterThan(300);

    const dead = await sql<{ parent_key: string; issues: string[] }>(`select parent_key, issues from "_evolve".extract_dead_letter where migration = 'availability'`);
    expect(dead).toHaveLength(summary.defects.malformedAvailability);
    const reasons = dead.flatMap((d) => d.issues).join('\n');
    expect(reasons).toMatch(/unknown day "funday"/);
    expect(reasons).toMatch(/no end or endTime/);
    expect(reasons).toMatch(/weekly\[0\]\.day: unknown day "funday" \(closest shape: \{weekly\}\)|\[0\]\.day: unknown day "funday" \(closest shape: bare array\)/);
    expect(reasons).toMatch(/\[0\]\.day: expected a day 0-6 or a day name, got 9/);
    expect(reasons).toMatch(/slots: Invalid input: expected array, received string \(closest shape: \{slots\}\)/);
    const [tracking] = await sql<{ failedRecords: number; errorLog: unknown[] }>(`select "failedRecords"::int as "failedRecords", "errorLog" from "_evolve"."DataMigration" where name = 'availability'`);
    expect(tracking?.failedRecords).toBe(summary.defects.malformedAvailability);
    expect(JSON.stringify(tracking?.errorLog)).toContain('invalid documents');

    const report = await verifyExtraction({ database: db.url, ...availability, shapes: availabilityShapes, map: availabilityMap });
    expect(report).toMatchObject({ ok: true, invalidDocuments: summary.defects.malformedAvailability, children: result.children, mismatchCount: 0 });

    // The source table is untouched; a re-run adds nothing and writes the same ids.
    const sourceAfter = await tableChecksums(db.url, { schema: 'public' });
    expect(sourceAfter['TutorProfile']).toEqual(before['TutorProfile']);
    const ids = await sql<{ ids: string }>(`select md5(string_agg(id, ',' order by id)) as ids from "TutorAvailabilitySlot"`);
    const again = await extractJson({ database: db.url, name: 'availability', ...availability, shapes: availabilityShapes, map: availabilityMap, restart: true });
    expect(again.children).toBe(result.children);
    expect(await sql(`select md5(string_agg(id, ',' order by id)) as ids from "TutorAvailabilitySlot"`)).toEqual(ids);
  });

  it('COPY straight into the table writes exactly what the staged COPY (with a fixed column) writes', async () => {
    const direct = await extractJson({ database: db.url, name: 'availability direct', source: availability.source, target: { table: 'SlotDirect', parentKey: 'profileId', idColumn: 'id' }, shapes: availabilityShapes, map: availabilityMap });
    expect(direct.invalid).toBe(summary.defects.malformedAvailability);
    const columns = `id, "profileId", "dayOfWeek", "startTime", "endTime", timezone, "isRecurring"`;
    const diff = await sql<{ n: number }>(
      `select count(*)::int as n from ((select ${columns} from "TutorAvailabilitySlot" except select ${columns} from "SlotDirect")
        union all (select ${columns} from "SlotDirect" except select ${columns} from "TutorAvailabilitySlot")) d`,
    );
    expect(diff[0]?.n).toBe(0);
    const dead = await sql<{ n: number }>(
      `select count(*)::int as n from (select parent_key from "_evolve".extract_dead_letter where migration = 'availability'
        except select parent_key from "_evolve".extract_dead_letter where migration = 'availability direct') d`,
    );
    expect(dead[0]?.n).toBe(0);
    const [ledger] = await sql<{ n: number }>(`select count(*)::int as n from "_evolve".extract_owned_rows o join "SlotDirect" s on s.id = o.row_key and s."profileId" = o.parent_key where o.migration = 'availability direct'`);
    expect(ledger?.n).toBe(direct.children);
    const report = await verifyExtraction({ database: db.url, source: availability.source, target: { table: 'SlotDirect', parentKey: 'profileId', idColumn: 'id' }, shapes: availabilityShapes, map: availabilityMap });
    expect(report.ok).toBe(true);
  });

  it('agrees between the direct and staged COPY on edge documents, and no document aborts a batch', async () => {
    const docs = [
      `[{"day": 1, "start": "09:00", "end": "10:00", "recurring": "yes"}]`,
      `[{"day": 1, "start": "09:00", "end": "10:00", "timezone": 5}]`,
      `[{"day": 3000000000, "start": "09:00", "end": "10:00"}]`,
      `[{"day": 1.0, "start": "09:00", "end": "10:00"}]`,
      `[{"day": "\\tmon", "start": "09:00", "end": "10:00"}]`,
      `[{"dayOfWeek": 1, "day": "funday", "start": "09:00", "end": "10:00"}]`,
      `[{"day": 2, "start": "09:00", "startTime": "9am", "end": "10:00"}]`,
      `[{"day": 2, "start": "09:00", "end": "10:00", "recurring": null, "timezone": null}]`,
      `{"slots": [{"day": 9}], "weekly": [{"day": 1, "start": "09:00", "end": "10:00"}]}`,
      `{"slots": "weekdays", "weekly": [{"day": 1, "start": "09:00", "end": "10:00"}]}`,
      `[{"day": 1e400, "start": "09:00", "end": "10:00"}]`,
      `[42]`,
    ];
    await sql(`create table edge_profile (id text primary key, availability jsonb);
      ${docs.map((doc, i) => `insert into edge_profile values ('e${String(i).padStart(2, '0')}', '${doc}');`).join('\n')}`);
    await sql(slotTable('EdgeStaged'));
    await sql(`${slotTable('EdgeDirect')}; alter table "EdgeDirect" alter column "updatedAt" set default current_timestamp`);
    const spec = { source: { table: 'edge_profile', column: 'availability' }, target: { table: 'EdgeStaged', parentKey: 'profileId', idColumn: 'id', fixed: { updatedAt: 'now()' } } } as const;
    const staged = await extractJson({ database: db.url, name: 'edge staged', ...spec, shapes: availabilityShapes, map: availabilityMap });
    const direct = await extractJson({ database: db.url, name: 'edge direct', source: spec.source, target: { table: 'EdgeDirect', parentKey: 'profileId', idColumn: 'id' }, shapes: availabilityShapes, map: availabilityMap });
    expect({ children: direct.children, invalid: direct.invalid }).toEqual({ children: staged.children, invalid: staged.invalid });
    const rows = (table: string) => sql(`select id, "profileId", "dayOfWeek", "startTime", "endTime", timezone, "isRecurring" from "${table}" order by id`);
    expect(await rows('EdgeDirect')).toEqual(await rows('EdgeStaged'));
    const dead = (name: string) => sql(`select parent_key from "_evolve".extract_dead_letter where migration = $1 order by 1`, [name]);
    expect(await dead('edge direct')).toEqual(await dead('edge staged'));
    expect((await dead('edge staged')).map((r) => r['parent_key'])).toEqual(['e00', 'e01', 'e02', 'e08', 'e10', 'e11']);
  });

  it('resumes after a cancel mid-run and ends identical to a clean run', async () => {
    const controller = new AbortController();
    let batches = 0;
    const spec = { database: db.url, name: 'availability resumed', ...availability, target: { ...availability.target, table: 'SlotResumed' }, shapes: availabilityShapes, map: availabilityMap, batch: { initial: 20, min: 20, max: 40, targetMs: 50 } };
    const first = await extractJson({ ...spec, signal: controller.signal, onBatch: () => (batches += 1) === 3 && controller.abort() });
    expect(first.status).toBe('canceled');
    const second = await extractJson(spec);
    expect(second).toMatchObject({ status: 'completed', resumed: true });
    const diff = await sql<{ n: number }>(
      `select count(*)::int as n from ((select id, "dayOfWeek", "startTime" from "TutorAvailabilitySlot" except select id, "dayOfWeek", "startTime" from "SlotResumed")
        union all (select id, "dayOfWeek", "startTime" from "SlotResumed" except select id, "dayOfWeek", "startTime" from "TutorAvailabilitySlot")) d`,
    );
    expect(diff[0]?.n).toBe(0);
  });

  it('ends identical to a clean run after SIGKILLs at random points', async () => {
    await sql(slotTable('SlotKilled'));
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'extract-availability.ts');
    const run = () => execa('node', ['--import', 'tsx', script, db.url, 'SlotKilled'], { reject: false, buffer: false });
    for (let kill = 0; kill < 3; kill += 1) {
      const child = run();
      await new Promise<void>((resolve) => {
        child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('progress') && resolve());
        void child.then(() => resolve());
      });
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 250)));
      child.kill('SIGKILL');
      expect((await child).signal).toBe('SIGKILL');
    }
    const [partial] = await sql<{ n: number }>(`select count(*)::int as n from "SlotKilled"`);
    const [clean] = await sql<{ n: number }>(`select count(*)::int as n from "TutorAvailabilitySlot"`);
    expect(partial?.n).toBeLessThan(clean?.n ?? 0);
    const final = await execa('node', ['--import', 'tsx', script, db.url, 'SlotKilled'], { reject: false });
    expect(final.stdout.trim().split('\n').at(-1)).toBe('completed');
    const diff = await sql<{ n: number }>(
      `select count(*)::int as n from ((select id, "profileId", "dayOfWeek", "startTime", "endTime", timezone, "isRecurring" from "TutorAvailabilitySlot"
        except select id, "profileId", "dayOfWeek", "startTime", "endTime", timezone, "isRecurring" from "SlotKilled")
        union all (select id, "profileId", "dayOfWeek", "startTime", "endTime", timezone, "isRecurring" from "SlotKilled"
        except select id, "profileId", "dayOfWeek", "startTime", "endTime", timezone, "isRecurring" from "TutorAvailabilitySlot")) d`,
    );
    expect(diff[0]?.n).toBe(0);
    const [dead] = await sql<{ n: number }>(`select count(*)::int as n from "_evolve".extract_dead_letter where migration = 'kill SlotKilled'`);
    expect(dead?.n).toBe(summary.defects.malformedAvailability);
  }, 120_000);

  it('extracts votes (userId / user_id / id), one per user; another extraction of the same children fails closed', async () => {
    const votes = { source: { table: 'LearningAssetRequest', column: 'votes' }, target: { table: 'LearningAssetVote', parentKey: 'requestId', idColumn: 'id', distinctOn: ['userId'] } } as const;
    const validated = await extractJson({ database: db.url, name: 'votes', ...votes, shapes: voteShapes, map: voteMap });
    expect(validated.invalid).toBeGreaterThan(0);
    const [counts] = await sql<{ children: number; pairs: number }>(`select count(*)::int as children, count(distinct ("requestId", "userId"))::int as pairs from "LearningAssetVote"`);
    expect(counts?.children).toBe(counts?.pairs);
    expect((await verifyExtraction({ database: db.url, ...votes, shapes: voteShapes, map: voteMap })).ok).toBe(true);
    const ids = await sql(`select md5(string_agg(id || "userId", ',' order by id)) as h from "LearningAssetVote"`);
    // The same children belong to one extraction at a time: the COPY is refused (the ids exist), and the statement it falls back to refuses rows the other recorded.
    await expect(extractJson({ database: db.url, name: 'votes again', ...votes, shapes: voteShapes, map: voteMap })).rejects.toThrow(/another extraction recorded them as its own/);
    expect(await sql(`select md5(string_agg(id || "userId", ',' order by id)) as h from "LearningAssetVote"`)).toEqual(ids);
    await undoExtraction({ database: db.url, name: 'votes', spec: votes });
    expect(await sql(`select count(*)::int as n from "LearningAssetVote"`)).toEqual([{ n: 0 }]);
    const again = await extractJson({ database: db.url, name: 'votes again', ...votes, shapes: voteShapes, map: voteMap, restart: true });
    expect(again).toMatchObject({ children: validated.children, invalid: validated.invalid });
    expect(await sql(`select md5(string_agg(id || "userId", ',' order by id)) as h from "LearningAssetVote"`)).toEqual(ids);
  });

  it('extracts pricing tiers from three shapes and locations from three parent tables (tenant taken from the parent)', async () => {
    const pricing = await extractJson({
      database: db.url,
      name: 'pricing',
      source: { table: 'TutorProfile', column: 'pricing' },
      target: { table: 'TutorPricingTier', parentKey: 'profileId', idColumn: 'id', fixed: { updatedAt: 'now()' } },
      shapes: pricingShapes,
      map: pricingMap,
    });
    expect(pricing).toMatchObject({ status: 'completed', invalid: 0 });
    let invalid = 0;
    for (const [table, parentKey] of [['HomeschoolFamily', 'homeschoolFamilyId'], ['MicroSchool', 'microSchoolId'], ['HomeschoolCoop', 'homeschoolCoopId']] as const) {
      const result = await extractJson({
        database: db.url,
        name: `address ${table}`,
        source: { table, column: 'location', select: ['tenantId'] },
        target: { table: 'Address', parentKey, idColumn: 'id', fixed: { updatedAt: 'now()' } },
        shapes: locationShapes,
        map: addressMap,
      });
      invalid += result.invalid;
    }
    expect(invalid).toBe(summary.defects.malformedLocation);
    const [wrongTenant] = await sql<{ n: number }>(
      `select count(*)::int as n from "Address" a join "HomeschoolFamily" f on f.id = a."homeschoolFamilyId" where a."tenantId" <> f."tenantId"`,
    );
    expect(wrongTenant?.n).toBe(0);
  });

  it('stops at the first invalid document with onInvalid: fail, naming table, column and key; down removes what was extracted', async () => {
    await sql(slotTable('SlotStrict'));
    const failure = await extractJson({
      database: db.url,
      name: 'strict',
      ...availability,
      target: { ...availability.target, table: 'SlotStrict' },
      shapes: availabilityShapes,
      map: availabilityMap,
      onInvalid: 'fail',
    }).catch((error: unknown) => error);
    expect(String(failure)).toMatch(/"public"."TutorProfile"."availability" of key tp_\d+ matches none of the shapes/);
    await expect(
      extractJson({ database: db.url, ...availability, target: { ...availability.target, idColumn: 'nope' }, shapes: availabilityShapes, map: availabilityMap }),
    ).rejects.toThrow(/column "nope" \(named in "target.idColumn"\)/);
    await expect(extractJson({ database: db.url, ...availability, shapes: availabilityShapes, map: ((s: unknown) => s) as never })).rejects.toThrow(InvalidArgumentError);

    const removed = await undoExtraction({ database: db.url, name: 'availability', spec: availability });
    expect(removed).toBeGreaterThan(300);
    expect(await sql(`select count(*)::int as n from "TutorAvailabilitySlot"`)).toEqual([{ n: 0 }]);
  });

  it('maps arrays of scalars (seed 000 unavailable_days names to day-of-week rows)', async () => {
    const days: Readonly<Record<string, number>> = { monday: 1, mon: 1, tuesday: 2, tue: 2, friday: 5, fri: 5 };
    const dayName = z.string().transform((name, ctx): number => {
      const day = days[name.trim().toLowerCase()];
      if (day !== undefined) return day;
      ctx.addIssue({ code: 'custom', message: `unknown day "${name}"` });
      return z.NEVER;
    });
    await sql(`create table teachers (id int primary key, unavailable_days jsonb);
      insert into teachers values (1, '["Monday", "friday", " TUE "]'), (2, '[]'), (3, null), (4, '["Funday"]'), (5, '"Monday"');
      create table teacher_availability (id text primary key, teacher_id int not null, day_of_week int not null)`);
    const result = await extractJson({
      database: db.url,
      name: 'unavailable days',
      source: { table: 'teachers', column: 'unavailable_days' },
      target: { table: 'teacher_availability', parentKey: 'teacher_id', idColumn: 'id' },
      shapes: { 'bare array': z.array(dayName) },
      map: mapColumns((day: number) => ({ day_of_week: day }), ['day_of_week']),
    });
    expect(result).toMatchObject({ children: 3, invalid: 2 });
    expect(await sql(`select teacher_id, day_of_week from teacher_availability order by 1, 2`)).toEqual([
      { teacher_id: 1, day_of_week: 1 },
      { teacher_id: 1, day_of_week: 2 },
      { teacher_id: 1, day_of_week: 5 },
    ]);
    const dead = await sql<{ parent_key: string; issues: string[] }>(`select parent_key, issues from "_evolve".extract_dead_letter where migration = 'unavailable days' order by 1`);
    expect(dead).toEqual([
      { parent_key: '4', issues: ['[0]: unknown day "Funday" (closest shape: bare array)'] },
      { parent_key: '5', issues: [expect.stringMatching(/^\(document\): .*expected array.* \(closest shape: bare array\)$/)] },
    ]);
  });
});
