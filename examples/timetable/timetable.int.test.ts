/**
 * Seed 000 end to end: the timetable plan on dirty legacy data (duplicates, availability in many
 * spellings, unreadable documents), its checks, the refresh strategy of the summary view, and a rollback
 * of every phase back to the exact before state.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { diffEmptyToSchema, PhaseRunner, type CatalogSnapshot } from '@prisma-evolve/core';
import { tableChecksums } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { publicSchema, sqlOn } from '../../prisma/fixtures/sql.js';
import { scratchMigrationsDir } from '../../scripts/legacy/scholarly-demo.js';
import { PrismaClient } from './generated/client/client.js';
import { plan } from './plan.js';
import { refreshTimetableSummary } from './refresh.js';
import { seedTimetable, TIMETABLE_MIGRATIONS } from './seed.js';

const db = useTestDatabase();

const query = sqlOn(() => db.url);
const schema = (): Promise<CatalogSnapshot> => publicSchema(db.url);

describe("seed 000's timetable plan", () => {
  it('merges the junctions, extracts availability, indexes, builds the summary; refreshes once per batch of writes; rolls every phase back', async () => {
    const seeded = await seedTimetable(db.url, 1);
    expect(seeded.duplicateClassSubjects).toBeGreaterThan(0);
    expect(seeded.duplicateClassModules).toBeGreaterThan(0);
    expect(seeded.invalidAvailability).toBeGreaterThan(0);
    const beforeSchema = await schema();
    const beforeData = await tableChecksums(db.url, { exclude: ['_prisma_migrations'] });
    const migrationsDir = scratchMigrationsDir(TIMETABLE_MIGRATIONS);
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });

    // The app's code of the "before" schema keeps working while the phases run (expand only adds).
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    const teachersBefore = await prisma.user.count({ where: { role: { in: ['TEACHER', 'TRAINER'] } } });
    await runner.runAll();
    expect(await prisma.user.count({ where: { role: { in: ['TEACHER', 'TRAINER'] } } })).toBe(teachersBefore);
    expect(await prisma.teacherClassSubject.count()).toBeGreaterThan(0);
    await prisma.$disconnect();
    const checks = await runner.verify();
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect((await runner.status()).map((p) => p.status)).toEqual(Array(5).fill('completed'));

    // Reconciliation: every source row is either written or a collapsed duplicate; the earliest copy won.
    const [merge] = await query<{ summary: { sourceRows: number; duplicatesCollapsed: number; written: number; balanced: boolean } }>(
      `select "resultSummary" as summary from _evolve."DataMigration" where name like 'phase:merge_assignments/%merge'`,
    );
    expect(merge?.summary).toMatchObject({ balanced: true, duplicatesCollapsed: seeded.duplicateClassSubjects + seeded.duplicateClassModules });
    expect(merge?.summary.sourceRows).toBe((merge?.summary.written ?? 0) + (merge?.summary.duplicatesCollapsed ?? 0));
    const late = await query(`select 1 from teacher_assignments a where a.class_id is not null and a.subject_id is not null
      and a.created_at > (select min(created_at) from teacher_class_subjects x where x.teacher_id = a.teacher_id and x.class_id = a.class_id and x.subject_id = a.subject_id)`);
    expect(late).toEqual([]);

    // Availability: Monday = 1; the unreadable documents are dead letters with the reason, not lost.
    const [monday] = await query<{ n: number }>(`select count(*)::int as n from teacher_availability where day_of_week = 1 and availability_type = 'UNAVAILABLE'`);
    expect(monday?.n).toBeGreaterThan(0);
    const dead = await query<{ issues: unknown }>(`select issues from _evolve.extract_dead_letter`);
    expect(dead).toHaveLength(seeded.invalidAvailability);
    expect(JSON.stringify(dead)).toContain('unknown day');
    // The unique index refuses a second copy of an assignment, class-less ones included (NULLS NOT DISTINCT).
    await expect(query(`insert into teacher_assignments (teacher_id, school_id, class_id, subject_id, module_id, assignment_type)
      select teacher_id, school_id, class_id, subject_id, module_id, assignment_type from teacher_assignments where class_id is null limit 1`)).rejects.toThrow(/unique_teacher_class_assignment/);

    // The summary goes stale on a write (one statement, many rows) and is refreshed once, concurrently.
    expect(await refreshTimetableSummary(db.url)).toBe('fresh');
    const [before] = await query<{ n: number }>('select count(*)::int as n from school_timetable_summary');
    await query(`insert into timetables (school_id, class_id, teacher_id, subject_id, time_slot_id, day, period)
      select school_id, class_id, teacher_id, subject_id, time_slot_id, day, 8 from timetables where period = 1`);
    const [added] = await query<{ n: number }>('select count(*)::int as n from timetables where period = 8');
    expect((await query<{ n: number }>('select count(*)::int as n from school_timetable_summary'))[0]?.n).toBe(before?.n);
    expect(await refreshTimetableSummary(db.url)).toBe('refreshed');
    expect((await query<{ n: number }>('select count(*)::int as n from school_timetable_summary'))[0]?.n).toBe((before?.n ?? 0) + (added?.n ?? 0));
    expect(await refreshTimetableSummary(db.url)).toBe('fresh');
    await query('delete from timetables where period = 8');
    expect(await refreshTimetableSummary(db.url)).toBe('refreshed');
    // A change to another table the view reads marks it stale too.
    await query(`update classes set name = 'Renamed' where name = 'Class 1'`);
    expect(await refreshTimetableSummary(db.url)).toBe('refreshed');
    expect((await query<{ n: number }>(`select count(*)::int as n from school_timetable_summary where class_name = 'Renamed'`))[0]?.n).toBeGreaterThan(0);
    // A write in flight is never missed: the refresher waits for it (here: gives up as busy), then sees it.
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let inFlight = '';
    try {
      await writer.query('BEGIN');
      inFlight = (await writer.query<{ id: string }>(`insert into timetables (school_id, class_id, teacher_id, subject_id, time_slot_id, day, period)
        select school_id, class_id, teacher_id, subject_id, time_slot_id, day, 8 from timetables where period = 1 limit 1 returning id`)).rows[0]?.id ?? '';
      expect(await refreshTimetableSummary(db.url, { lockTimeoutMs: 200 })).toBe('busy');
      await writer.query('COMMIT');
    } finally {
      await writer.end();
    }
    expect(await refreshTimetableSummary(db.url)).toBe('refreshed');
    expect((await query<{ n: number }>(`select count(*)::int as n from school_timetable_summary where id = '${inFlight}'`))[0]?.n).toBe(1);
    await query('delete from timetables where period = 8');
    await query(`update classes set name = 'Class 1' where name = 'Renamed'`);
    expect(await refreshTimetableSummary(db.url)).toBe('refreshed');

    for (const phase of [...plan.phases].reverse()) {
      expect(await runner.rollback(phase.name, { force: true })).toEqual([phase.name]);
      expect((await runner.verify(phase.name)).every((c) => c.ok)).toBe(false);
    }
    expect(await schema()).toEqual(beforeSchema);
    expect(await tableChecksums(db.url, { exclude: ['_prisma_migrations'] })).toEqual(beforeData);

    await runner.runAll();
    expect((await runner.verify()).every((c) => c.ok)).toBe(true);
  });

  it("schema.prisma and the example's initial migration do not drift apart", async () => {
    const diff = await diffEmptyToSchema(db.url, path.join(import.meta.dirname, 'schema.prisma'));
    expect(diff).toBe(readFileSync(path.join(TIMETABLE_MIGRATIONS, '20260101000000_init', 'migration.sql'), 'utf8'));
  });
});
