/**
 * Seed 004 end to end through the CLI: `prisma-evolve copy run` of copy.ts from the generated legacy LMS into
 * edu_v2, killed with SIGKILL at random moments and started again until it finishes; the result must validate
 * (counts through the id map, orphans, every range's content) and hold exactly what an uninterrupted copy holds.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCopy, validateCopy, withClient } from '@prisma-evolve/core';
import type { TestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { cli, copyUnderKills, lastJson } from '../copy-chaos.js';
import { copy } from './copy.js';
import { COPY_PATH, createSource, createTarget } from './setup.js';

const db = useTestDatabase();
let source: TestDatabase;
const targets: TestDatabase[] = [];

beforeAll(async () => {
  source = await createSource(db.serverUrl, 0.3);
});

afterAll(async () => {
  await source?.drop();
  for (const target of targets) await target.drop();
});

const copyArgs = (target: string): string[] => ['copy', 'run', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target, '--batch-size', '100', '--workers', '2', '--json'];

/** Per table: rows in the target and the tracker's figures. */
async function figures(url: string): Promise<Record<string, unknown>> {
  return withClient(url, async (client) => {
    const tables = await client.query(`select entry, sum(inserted)::int as inserted, sum(dead)::int as dead, sum(collapsed)::int as collapsed, count(*) filter (where status <> 'done')::int as pending from _evolve.copy_range group by entry order by entry`);
    const rows = await client.query(`select (select count(*) from "User")::int as users, (select count(*) from "Person")::int as persons, (select count(*) from "Grade")::int as grades, (select count(*) from "CourseOffering")::int as offerings, (select count(*) from "Course")::int as courses`);
    return { tables: tables.rows, rows: rows.rows[0] };
  });
}

describe('legacy LMS → edu_v2 (seed 004)', () => {
  it('survives SIGKILL at random moments: resumed to the end, it validates and equals an uninterrupted copy', async () => {
    const reference = await createTarget(db.serverUrl);
    targets.push(reference);
    const clean = await cli(copyArgs(reference.url));
    expect(clean.exitCode).toBe(0);
    const report = lastJson<{ tables: { name: string; status: string; deadLetters: number; collapsed: number }[]; validation: { ok: boolean } }>(clean);
    expect(report.validation.ok).toBe(true);
    expect(report.tables.map((t) => t.name)).toEqual(['users', 'persons', 'organizations', 'students', 'staff', 'courses', 'offerings', 'grades']);
    expect(report.tables.find((t) => t.name === 'courses')?.collapsed).toBe(144); // 180 course rows, 5 per code
    expect(report.tables.find((t) => t.name === 'students')?.deadLetters).toBe(2); // every 100th student is orphaned

    const totalRanges = (await withClient(reference.url, (client) => client.query<{ n: number }>('select count(*)::int as n from _evolve.copy_range'))).rows[0]?.n ?? 0;
    const { target, kills, created } = await copyUnderKills({ args: copyArgs, createTarget: () => createTarget(db.serverUrl), totalRanges, tables: copy.tables.length });
    targets.push(...created);
    expect(kills).toHaveLength(3);
    expect(await figures(target.url)).toEqual(await figures(reference.url));
    const validation = await validateCopy(copy, { sourceUrl: source.url, targetUrl: target.url });
    expect(validation.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('runs phase by phase, refusing a phase whose references are not copied yet', async () => {
    const target = await createTarget(db.serverUrl);
    targets.push(target);
    const early = cli(['copy', 'run', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--phase', '2']);
    const refused = await early;
    expect(refused.exitCode).toBe(1);
    expect(String(refused.stderr)).toMatch(/table "students": refers to "persons", which is not copied yet: copy it first \(copy run --table persons\)/);
    for (const phase of [1, 2, 3, 4]) await runCopy(copy, { sourceUrl: source.url, targetUrl: target.url, phase });
    const status = await cli(['copy', 'status', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--json']);
    const parsed = lastJson<{ tables: { status: string }[]; deadLetterReasons: { entry: string; reason: string; rows: number }[] }>(status);
    expect(parsed.tables.every((t) => t.status === 'done')).toBe(true);
    expect(parsed.deadLetterReasons).toEqual(expect.arrayContaining([expect.objectContaining({ entry: 'grades', reason: expect.stringMatching(/invalid input syntax for type integer: "A\+"/) })]));
    const validated = await cli(['copy', 'validate', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--json']);
    expect(validated.exitCode).toBe(0);
    const cutover = await cli(['copy', 'cutover', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--json']);
    expect(cutover.exitCode).toBe(0);

    // Writes after the copy read the source: catch-up, SIGKILLed at random moments, then run to the end, brings them over.
    await withClient(source.url, (client) =>
      client.query(`insert into users (id, username, email, name_az, name_en, create_date) values (900001, 'late.user', 'late@example.org', 'gec', 'late', now());
        insert into persons (id, user_id, pincode, firstname, lastname, birthdate) values (900001, 900001, 'LATE-PIN-1', 'Late', 'Comer', '2000-01-01');
        update grades set value = '88' where id = (select min(id) from grades where value ~ '^[0-9]+$' and value <> '88')`),
    );
    const catchUpArgs = ['copy', 'catch-up', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--json'];
    const rangeCount = (await withClient(target.url, (client) => client.query<{ n: number }>('select count(*)::int as n from _evolve.copy_range'))).rows[0]?.n ?? 0;
    const caughtUpRanges = async (since: Date): Promise<number> =>
      (await withClient(target.url, (client) => client.query<{ n: number }>('select count(*)::int as n from _evolve.copy_range where snapshot_at >= $1', [since]))).rows[0]?.n ?? 0;
    let landed = 0;
    for (let attempt = 0; attempt < 10 && landed < 3; attempt += 1) {
      const started = new Date(Date.now() - 1000);
      const child = cli(catchUpArgs);
      // After a random number of ranges caught up, plus a random 0–25 ms: wherever the run then is.
      const after = 1 + Math.floor(Math.random() * (rangeCount - 1));
      while (child.exitCode === null && (await caughtUpRanges(started)) < after) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 25));
      child.kill('SIGKILL');
      if ((await child).signal === 'SIGKILL') landed += 1;
    }
    expect(landed).toBe(3);
    const caughtUp = await cli(catchUpArgs);
    expect(caughtUp.exitCode).toBe(0);
    const totals = lastJson<{ catchUp: { name: string; inserted: number; updated: number }[] }>(caughtUp).catchUp;
    // The killed runs may have committed some of it already: what each run reports adds up to the same end state.
    expect(totals.map((t) => t.name)).toContain('grades');
    const late = await withClient(target.url, (client) => client.query(`select count(*)::int as n from "User" where username = 'late.user'`));
    expect(late.rows[0]?.n).toBe(1);
    const after = await cli(['copy', 'validate', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--json']);
    expect(lastJson<{ validation: { checks: { ok: boolean }[] } }>(after).validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(after.exitCode).toBe(0);
  });
});
