/**
 * Seed 002 end to end: constraints added to dirty data. Without a choice for the defects the plan stops
 * before changing anything and says what it found; with the choices written in plan.ts every defect is
 * handled as chosen (backed up), the constraints hold, and every phase rolls back to the exact before state.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { addCheck, addForeignKey, definePhase, definePlan, diffEmptyToSchema, PhaseRunner, schemaStep, step, type CatalogSnapshot } from '@prisma-evolve/core';
import { tableChecksums } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import pg from 'pg';
import { publicSchema, sqlOn } from '../../prisma/fixtures/sql.js';
import { scratchMigrationsDir } from '../../scripts/legacy/scholarly-demo.js';
import { plan } from './plan.js';
import { CONSTRAINTS_MIGRATIONS, seedConstraints } from './seed.js';

const db = useTestDatabase();
const query = sqlOn(() => db.url);
const schema = (): Promise<CatalogSnapshot> => publicSchema(db.url);
const count = async (sql: string): Promise<number> => Number((await query<{ n: string }>(sql))[0]?.n ?? 0);

describe("seed 002's constraints on dirty data", () => {
  it('refuses to add constraints the data breaks until a choice is made, then handles each defect as chosen and rolls back exactly', async () => {
    const seeded = await seedConstraints(db.url, 1);
    for (const defect of ['coursesOfMissingInstructors', 'modulesOfMissingCourses', 'progressOfMissingUsers', 'negativePrices', 'ratingsOutOfRange', 'malformedEmails'] as const) {
      expect(seeded[defect]).toBeGreaterThan(0);
    }
    const nullInstructors = await count(`select count(*) as n from courses where "instructorId" is null`);
    const beforeSchema = await schema();
    const beforeData = await tableChecksums(db.url, { exclude: ['_prisma_migrations'] });

    // The seed's migration as written (no choices): stops at the prechecks, names table and counts, changes nothing.
    const naive = new PhaseRunner(
      definePlan({
        name: 'naive',
        migrationsDir: './migrations',
        migrationPrefix: '20260301000000',
        phases: [
          definePhase({
            name: 'as_written',
            steps: [
              schemaStep('fk', step(addForeignKey, { table: 'course_modules', columns: ['courseId'], references: { table: 'courses', columns: ['id'] }, onDelete: 'CASCADE' })),
              schemaStep('price', step(addCheck, { table: 'courses', name: 'chk_courses_price_positive', expression: 'price >= 0' })),
            ],
          }),
        ],
      }),
      { databaseUrl: db.url, migrationsDir: scratchMigrationsDir(CONSTRAINTS_MIGRATIONS) },
    );
    await expect(naive.run('as_written')).rejects.toThrow(new RegExp(`${seeded.modulesOfMissingCourses} row\\(s\\) of "course_modules" reference a missing "courses"`));
    expect(await schema()).toEqual(beforeSchema);
    expect(await tableChecksums(db.url, { exclude: ['_prisma_migrations', '_evolve'] })).toEqual(beforeData);
    await naive.rollback('as_written');

    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: scratchMigrationsDir(CONSTRAINTS_MIGRATIONS) });
    await runner.runAll();
    const checks = await runner.verify();
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const offenders = checks.find((c) => c.detail.includes('malformed email'));
    expect(offenders?.detail).toContain(`${seeded.malformedEmails} existing users with a malformed email`);

    // Each defect handled as chosen, and the old values kept.
    expect(await count(`select count(*) as n from courses where "instructorId" is null`)).toBe(nullInstructors + seeded.coursesOfMissingInstructors);
    expect(await count(`select count(*) as n from _evolve.repair_courses_price where old_value < 0 and new_value = 0`)).toBe(seeded.negativePrices);
    expect(await count(`select count(*) as n from _evolve."repair_courses_averageRating"`)).toBe(seeded.ratingsOutOfRange);
    expect(await count(`select count(*) as n from course_modules m where not exists (select 1 from courses c where c.id = m."courseId")`)).toBe(0);
    expect(await count(`select count(*) as n from users where email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$'`)).toBe(seeded.malformedEmails);
    // The constraints hold from now on.
    await expect(query(`insert into users (id, email, role, status) values ('new', 'not-an-email', 'STUDENT', 'ACTIVE')`)).rejects.toThrow(/chk_users_email_format/);
    await expect(query(`update courses set price = -1 where id = 'c1'`)).rejects.toThrow(/chk_courses_price_positive/);
    await expect(query(`insert into user_progress (id, "userId", "courseId") values ('p-new', 'nobody', 'c1')`)).rejects.toThrow(/fk_user_progress_user/);
    // Deleting an instructor keeps their courses (SET NULL); in a transaction rolled back afterwards.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const gone = (await client.query<{ id: string }>(`select "instructorId" as id from courses where "instructorId" is not null limit 1`)).rows[0]?.id;
      const theirs = (await client.query<{ id: string }>(`select id from courses where "instructorId" = $1 order by id`, [gone])).rows.map((r) => r.id);
      expect(theirs.length).toBeGreaterThan(0);
      await client.query(`delete from user_progress where "userId" = $1`, [gone]);
      expect((await client.query(`delete from users where id = $1`, [gone])).rowCount).toBe(1);
      const kept = await client.query<{ id: string; instructor: string | null }>(`select id, "instructorId" as instructor from courses where id = any($1) order by id`, [theirs]);
      expect(kept.rows).toEqual(theirs.map((id) => ({ id, instructor: null }))); // SET NULL: the courses stay
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
    const [search] = await query<{ n: string }>(`select count(*) as n from courses where to_tsvector('english', title || ' ' || description) @@ to_tsquery('english', 'rust')`);
    expect(Number(search?.n)).toBeGreaterThan(0);

    for (const phase of [...plan.phases].reverse()) {
      expect(await runner.rollback(phase.name, { force: true })).toEqual([phase.name]);
      expect((await runner.verify(phase.name)).every((c) => c.ok)).toBe(false);
    }
    expect(await schema()).toEqual(beforeSchema);
    // Every repaired value, nulled reference and deleted orphan is back, to the byte.
    expect(await tableChecksums(db.url, { exclude: ['_prisma_migrations'] })).toEqual(beforeData);
  });

  it("schema.prisma and the example's initial migration do not drift apart", async () => {
    const diff = await diffEmptyToSchema(db.url, path.join(import.meta.dirname, 'schema.prisma'));
    expect(diff).toBe(readFileSync(path.join(CONSTRAINTS_MIGRATIONS, '20260101000000_init', 'migration.sql'), 'utf8'));
  });
});
