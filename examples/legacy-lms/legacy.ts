/**
 * Seed 004's legacy LMS, generated: tables without foreign keys, integer ids, names in three columns
 * (az/ru/en), and dirty the way the seed describes it — usernames that repeat (by case), persons entered
 * twice (same pincode), students and grades pointing at rows that do not exist, grades that are not numbers,
 * and courses repeated per term (one course, many offerings).
 *
 * Per unit of `scale`: 1,000 users and persons, 900 students, 60 teachers, 40 organizations, 600 course rows
 * and 10,000 grades (scale 100 gives 1,000,000 grades).
 */
import { withClient } from '@prisma-evolve/core';

/** How many rows of each legacy table a scale gives. Pure. */
export function legacyCounts(scale: number): Record<'users' | 'persons' | 'students' | 'teachers' | 'organizations' | 'course' | 'grades', number> {
  const n = (perUnit: number): number => Math.max(1, Math.round(perUnit * scale));
  return { users: n(1000), persons: n(1000), students: n(900), teachers: n(60), organizations: n(40), course: n(600), grades: n(10_000) };
}

/** Creates and fills the legacy tables in `url` (an empty database). Deterministic for a scale. */
export async function seedLegacy(url: string, scale: number): Promise<void> {
  const c = legacyCounts(scale);
  await withClient(url, async (client) => {
    await client.query(`
      create table users (id int primary key, username varchar(64), email varchar(128), name_az text, name_ru text, name_en text, create_date timestamp);
      -- every 25th username repeats an earlier one in upper case (the seed's duplicate usernames)
      insert into users select g, case when g % 25 = 0 then upper('user' || (g - 7)) else 'user' || g end, 'user' || g || '@edu.az',
        'Istifadəçi ' || g, case when g % 3 <> 0 then 'Пользователь ' || g end, case when g % 2 = 0 then 'User ' || g end,
        timestamp '2019-09-01' + (g || ' minutes')::interval from generate_series(1, ${c.users}) g;

      create table persons (id int primary key, user_id int, pincode varchar(16), firstname text, lastname text, birthdate date);
      -- every 40th person is entered again (same pincode, higher id); every 10th has no pincode (never a duplicate)
      insert into persons select g, g, case when g % 10 = 0 then null when g % 40 = 5 then 'PIN' || (g - 3) else 'PIN' || g end,
        'Ad' || g, 'Soyad' || g, date '1990-01-01' + (g % 9000) from generate_series(1, ${c.persons}) g;

      create table organizations (id int primary key, parent_id int, type_id int, name_az text, name_ru text, name_en text);
      -- a tree: 1 university, faculties under it, departments under the faculties (parents have lower ids)
      insert into organizations select g, case when g = 1 then null when g <= 5 then 1 else 2 + g % 4 end,
        case when g = 1 then 1 when g <= 5 then 2 else 3 end, 'Bölmə ' || g, 'Отдел ' || g, null from generate_series(1, ${c.organizations}) g;

      create table students (id int primary key, person_id int, card_number varchar(32), org_id int, in_order_date date, active smallint);
      -- every 100th student points at a person that does not exist (the seed's orphaned students)
      insert into students select g, case when g % 100 = 0 then ${c.persons} + g else g end, case when g % 7 = 0 then null else 'S' || g end,
        1 + g % ${c.organizations}, date '2018-09-01' + (g % 1500), (g % 9 <> 0)::int from generate_series(1, ${c.students}) g;

      create table teachers (id int primary key, person_id int, card_number varchar(32), org_id int, in_action_date date, active smallint);
      insert into teachers select g, ${c.students} + g, 'T' || g, 1 + g % ${c.organizations}, date '2010-01-01' + g * 30, 1 from generate_series(1, ${c.teachers}) g;

      create table course (id int primary key, code varchar(16), name_az text, name_ru text, name_en text, credit int, term varchar(8), section varchar(8), teacher_id int);
      -- one course is taught in several terms: 5 rows per code (courses + offerings in the new schema)
      insert into course select g, 'C' || (1 + (g - 1) / 5), 'Fənn ' || (1 + (g - 1) / 5), 'Предмет ' || (1 + (g - 1) / 5), 'Course ' || (1 + (g - 1) / 5),
        3 + g % 3, (array['2021F', '2022S', '2022F', '2023S', '2023F'])[1 + g % 5], 'A', 1 + g % ${c.teachers} from generate_series(1, ${c.course}) g;

      create table grades (id bigint primary key, student_id int, course_id int, value varchar(8), graded_at timestamp);
      -- every 1000th grade belongs to a student that does not exist; every 997th is not a number
      insert into grades select g, case when g % 1000 = 0 then ${c.students} + 1 + g % 50 else 1 + g % ${c.students} end, 1 + g % ${c.course},
        case when g % 997 = 0 then 'A+' else (g % 101)::text end, timestamp '2022-01-10' + (g % 100000 || ' minutes')::interval
      from generate_series(1, ${c.grades}) g;
      analyze;`);
  });
}
