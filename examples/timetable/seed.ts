/**
 * Seed 000's legacy timetable data, deterministic and dirty on purpose: duplicate rows in the two class
 * junctions (the seed's DISTINCT ON exists because of them), availability documents in several spellings
 * and some that name no day at all.
 */
import path from 'node:path';
import { seedExample } from '../seed-example.js';

/** The example's migrations directory (its "before" schema). */
export const TIMETABLE_MIGRATIONS = path.join(import.meta.dirname, 'migrations');

/** What the seed planted, to check the migration against. */
export interface TimetableSeed {
  readonly schools: number;
  readonly teachers: number;
  /** Extra copies in teacher_class_subjects and trainer_class_modules (same teacher, class, subject/module). */
  readonly duplicateClassSubjects: number;
  readonly duplicateClassModules: number;
  /** Teachers/trainers whose `unavailable_days` holds something that is not a list of day names. */
  readonly invalidAvailability: number;
}

const SQL = (scale: number): string => {
  const schools = Math.max(1, Math.round(3 * scale));
  return `
  insert into schools (id, name) select md5('school' || g)::uuid, 'School ' || g from generate_series(1, ${schools}) g;
  -- 40 staff per school: teachers, trainers and admins.
  insert into users (id, school_id, name, role, teaching_streams, unavailable_days)
  select md5('user' || s || '-' || u)::uuid, md5('school' || s)::uuid, 'Staff ' || s || '-' || u,
         case when u % 10 = 0 then 'ADMIN' when u % 3 = 0 then 'TRAINER' else 'TEACHER' end,
         array['A', 'B'],
         case u % 9
           when 0 then null
           when 1 then '["MONDAY", "FRIDAY"]'::jsonb
           when 2 then '["mon", "wed"]'::jsonb
           when 3 then '["Tuesday ", "thursday"]'::jsonb
           when 4 then '[]'::jsonb
           when 5 then '["SATURDAY", "SUNDAY", "MONDAY"]'::jsonb
           when 6 then case when u % 4 = 0 then '["FUNDAY"]'::jsonb else '["WEDNESDAY"]'::jsonb end
           when 7 then case when u % 5 = 0 then '{"days": "monday"}'::jsonb else '["friday"]'::jsonb end
           else '["TUE"]'::jsonb
         end
  from generate_series(1, ${schools}) s, generate_series(1, 40) u;
  insert into classes (id, school_id, name, level, stream)
  select md5('class' || s || '-' || c)::uuid, md5('school' || s)::uuid, 'Class ' || c, 1 + c % 6, case when c % 2 = 0 then 'A' else 'B' end
  from generate_series(1, ${schools}) s, generate_series(1, 10) c;
  insert into subjects (id, school_id, name, level, periods_per_week)
  select md5('subject' || s || '-' || k)::uuid, md5('school' || s)::uuid, 'Subject ' || k, 1 + k % 6, 2 + k % 4
  from generate_series(1, ${schools}) s, generate_series(1, 12) k;
  insert into modules (id, school_id, name, category, trade, total_hours)
  select md5('module' || s || '-' || m)::uuid, md5('school' || s)::uuid, 'Module ' || m, 'Category ' || (m % 3), 'Trade ' || (m % 2), 20 + m * 5
  from generate_series(1, ${schools}) s, generate_series(1, 8) m;
  insert into time_slots (id, school_id, day, period, start_time, end_time, session, is_active)
  select md5('slot' || s || '-' || d || '-' || p)::uuid, md5('school' || s)::uuid, d, p,
         lpad((7 + p)::text, 2, '0') || ':00', lpad((7 + p)::text, 2, '0') || ':50', case when p <= 4 then 'MORNING' else 'AFTERNOON' end, p <> 8
  from generate_series(1, ${schools}) s, generate_series(1, 5) d, generate_series(1, 8) p;
  -- Teachers teach subjects; trainers teach modules (u % 3 = 0 are trainers, u % 10 = 0 admins).
  insert into teacher_subjects (teacher_id, subject_id)
  select md5('user' || s || '-' || u)::uuid, md5('subject' || s || '-' || (1 + (u + k) % 12))::uuid
  from generate_series(1, ${schools}) s, generate_series(1, 40) u, generate_series(0, 1) k where u % 3 <> 0 and u % 10 <> 0;
  insert into teacher_class_subjects (id, teacher_id, school_id, class_id, subject_id, created_at)
  select md5('tcs' || s || '-' || u || '-' || k)::uuid, md5('user' || s || '-' || u)::uuid, md5('school' || s)::uuid,
         md5('class' || s || '-' || (1 + (u + k) % 10))::uuid, md5('subject' || s || '-' || (1 + (u + k) % 12))::uuid,
         timestamptz '2024-01-01' + (u || ' hours')::interval
  from generate_series(1, ${schools}) s, generate_series(1, 40) u, generate_series(0, 2) k where u % 3 <> 0 and u % 10 <> 0;
  -- Duplicates that crept in: the same assignment saved again later.
  insert into teacher_class_subjects (id, teacher_id, school_id, class_id, subject_id, created_at)
  select md5('tcs-dup' || id)::uuid, teacher_id, school_id, class_id, subject_id, created_at + interval '30 days'
  from teacher_class_subjects where abs(hashtext(id::text)) % 7 = 0;
  insert into trainer_modules (trainer_id, module_id)
  select md5('user' || s || '-' || u)::uuid, md5('module' || s || '-' || (1 + u % 8))::uuid
  from generate_series(1, ${schools}) s, generate_series(1, 40) u where u % 3 = 0 and u % 10 <> 0;
  insert into trainer_class_modules (id, trainer_id, school_id, class_id, module_id, created_at)
  select md5('tcm' || s || '-' || u || '-' || k)::uuid, md5('user' || s || '-' || u)::uuid, md5('school' || s)::uuid,
         md5('class' || s || '-' || (1 + (u + k) % 10))::uuid, md5('module' || s || '-' || (1 + u % 8))::uuid,
         timestamptz '2024-02-01' + (u || ' hours')::interval
  from generate_series(1, ${schools}) s, generate_series(1, 40) u, generate_series(0, 1) k where u % 3 = 0 and u % 10 <> 0;
  insert into trainer_class_modules (id, trainer_id, school_id, class_id, module_id, created_at)
  select md5('tcm-dup' || id)::uuid, trainer_id, school_id, class_id, module_id, created_at + interval '30 days'
  from trainer_class_modules where abs(hashtext(id::text)) % 5 = 0;
  -- One lesson per class and time slot, taught by a teacher of the school.
  insert into timetables (id, school_id, class_id, teacher_id, subject_id, module_id, time_slot_id, day, period)
  select md5('tt' || s || '-' || c || '-' || d || '-' || p)::uuid, md5('school' || s)::uuid, md5('class' || s || '-' || c)::uuid,
         md5('user' || s || '-' || (1 + (c * 7 + d * 3 + p) % 40))::uuid,
         case when p % 3 <> 0 then md5('subject' || s || '-' || (1 + (c + p) % 12))::uuid end,
         case when p % 3 = 0 then md5('module' || s || '-' || (1 + (c + p) % 8))::uuid end,
         md5('slot' || s || '-' || d || '-' || p)::uuid, d, p
  from generate_series(1, ${schools}) s, generate_series(1, 10) c, generate_series(1, 5) d, generate_series(1, 7) p;`;
};

/**
 * Applies the example's "before" migration (Prisma's engine, recorded in `_prisma_migrations`) to an empty
 * database and fills it. Deterministic for a scale. Not idempotent: refuses a database that has schools.
 */
export async function seedTimetable(databaseUrl: string, scale = 1): Promise<TimetableSeed> {
  return seedExample({
    databaseUrl,
    migrationsDir: TIMETABLE_MIGRATIONS,
    emptyTable: 'schools',
    sql: SQL(scale),
    counts: {
      schools: 'select count(*) as n from schools',
      teachers: `select count(*) as n from users where role in ('TEACHER', 'TRAINER')`,
      duplicateClassSubjects: `select count(*) - count(distinct (teacher_id, class_id, subject_id)) as n from teacher_class_subjects`,
      duplicateClassModules: `select count(*) - count(distinct (trainer_id, class_id, module_id)) as n from trainer_class_modules`,
      invalidAvailability: `select count(*) as n from users where role in ('TEACHER', 'TRAINER') and unavailable_days is not null
        and (jsonb_typeof(unavailable_days) <> 'array' or unavailable_days @> '["FUNDAY"]')`,
    },
  });
}
