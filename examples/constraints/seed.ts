/**
 * Seed 002's StrellerMinds data, deterministic and dirty: each kind of defect the constraints would trip on
 * is planted a known number of times, so the tests can check that each was reported and handled.
 */
import path from 'node:path';
import { seedExample } from '../seed-example.js';

/** The example's migrations directory (its "before" schema). */
export const CONSTRAINTS_MIGRATIONS = path.join(import.meta.dirname, 'migrations');

/** The defects planted, by kind. */
export interface ConstraintsSeed {
  readonly users: number;
  readonly coursesOfMissingInstructors: number;
  readonly modulesOfMissingCourses: number;
  readonly progressOfMissingUsers: number;
  readonly negativePrices: number;
  readonly ratingsOutOfRange: number;
  readonly malformedEmails: number;
}

const SQL = (scale: number): string => {
  const users = Math.max(50, Math.round(2000 * scale));
  const courses = Math.max(10, Math.round(300 * scale));
  return `
  insert into users (id, email, role, status, "isInstructor")
  select 'u' || g,
         case when g % 97 = 0 then 'user' || g || '@@example' when g % 89 = 0 then 'user ' || g || '@example.com' else 'user' || g || '@example.com' end,
         case when g % 10 = 0 then 'INSTRUCTOR' else 'STUDENT' end, case when g % 13 = 0 then 'SUSPENDED' else 'ACTIVE' end, g % 10 = 0
  from generate_series(1, ${users}) g;
  insert into courses (id, title, description, "instructorId", price, "averageRating", "enrollmentCount", status)
  select 'c' || g, 'Course ' || g || case when g % 3 = 0 then ' rust' else ' typescript' end, 'Learn topic ' || g,
         case when g % 41 = 0 then 'u-gone-' || g when g % 17 = 0 then null else 'u' || (10 * (1 + g % ${Math.floor(users / 10)})) end,
         case when g % 37 = 0 then -5 else (g % 200) + 0.99 end,
         case when g % 43 = 0 then 7.5 else (g % 50) / 10.0 end,
         g * 3 % 1000, case when g % 4 = 0 then 'DRAFT' else 'PUBLISHED' end
  from generate_series(1, ${courses}) g;
  insert into course_modules (id, "courseId", title)
  select 'm' || g, case when g % 53 = 0 then 'c-gone-' || g else 'c' || (1 + g % ${courses}) end, 'Module ' || g
  from generate_series(1, ${courses * 4}) g;
  insert into user_progress (id, "userId", "courseId", "isCompleted", "updatedAt")
  select 'p' || g, case when g % 59 = 0 then 'u-gone-' || g else 'u' || (1 + g % ${users}) end, 'c' || (1 + g % ${courses}), g % 3 = 0,
         timestamp '2024-01-01' + (g || ' minutes')::interval
  from generate_series(1, ${users * 3}) g;`;
};

/**
 * Applies the example's "before" migration (through Prisma's engine) to an empty database and plants the
 * data. Deterministic for a scale; refuses a database that already has users.
 */
export async function seedConstraints(databaseUrl: string, scale = 1): Promise<ConstraintsSeed> {
  return seedExample({
    databaseUrl,
    migrationsDir: CONSTRAINTS_MIGRATIONS,
    emptyTable: 'users',
    sql: SQL(scale),
    counts: {
      users: 'select count(*) as n from users',
      coursesOfMissingInstructors: `select count(*) as n from courses c where "instructorId" is not null and not exists (select 1 from users u where u.id = c."instructorId")`,
      modulesOfMissingCourses: `select count(*) as n from course_modules m where not exists (select 1 from courses c where c.id = m."courseId")`,
      progressOfMissingUsers: `select count(*) as n from user_progress p where not exists (select 1 from users u where u.id = p."userId")`,
      negativePrices: 'select count(*) as n from courses where price < 0',
      ratingsOutOfRange: `select count(*) as n from courses where not ("averageRating" >= 0 and "averageRating" <= 5)`,
      malformedEmails: `select count(*) as n from users where email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$'`,
    },
  });
}
