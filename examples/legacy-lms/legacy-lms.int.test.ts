/**
 * Seed 004 end to end through the CLI: `prisma-evolve copy run` of copy.ts from the generated legacy LMS into
 * edu_v2, killed with SIGKILL at random moments and started again until it finishes; the result must validate
 * (counts through the id map, orphans, every range's content) and hold exactly what an uninterrupted copy holds.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCopy, validateCopy, withClient } from '@prisma-evolve/core';
import type { TestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { execa, type ResultPromise } from 'execa';
import { copy } from './copy.js';
import { COPY_PATH, createSource, createTarget } from './setup.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
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

/** The CLI as one node process (tsx as a loader, not its wrapper process), so SIGKILL kills the copy itself. */
function cli(args: readonly string[]): ResultPromise<{ cwd: string; reject: false; env: Record<string, string>; extendEnv: false }> {
  return execa(process.execPath, ['--import', 'tsx', path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args], {
    cwd: root,
    reject: false,
    env: { PATH: process.env['PATH'] ?? '', TSX_TSCONFIG_PATH: process.env['TSX_TSCONFIG_PATH'] ?? '' },
    extendEnv: false,
  });
}

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
    const report = JSON.parse(String(clean.stdout).trim().split('\n').at(-1) ?? '{}') as { tables: { name: string; status: string; deadLetters: number; collapsed: number }[]; validation: { ok: boolean } };
    expect(report.validation.ok).toBe(true);
    expect(report.tables.map((t) => t.name)).toEqual(['users', 'persons', 'organizations', 'students', 'staff', 'courses', 'offerings', 'grades']);
    expect(report.tables.find((t) => t.name === 'courses')?.collapsed).toBe(144); // 180 course rows, 5 per code
    expect(report.tables.find((t) => t.name === 'students')?.deadLetters).toBe(2); // every 100th student is orphaned

    let target = await createTarget(db.serverUrl);
    targets.push(target);
    const rangesDone = async (): Promise<{ done: number; all: number }> =>
      withClient(target.url, async (client) => {
        const exists = (await client.query(`select to_regclass('_evolve.copy_range') is not null as ok`)).rows[0]?.ok;
        if (!exists) return { done: 0, all: 0 };
        const { rows } = await client.query<{ done: number; all: number }>(`select count(*) filter (where status = 'done')::int as done, count(*)::int as all from _evolve.copy_range`);
        return rows[0] ?? { done: 0, all: 0 };
      });
    // Kill at random moments of the copy until three kills of one target landed mid-copy: each attempt picks a
    // random number of ranges (of the clean run's total) to let commit, then a random 0–25 ms more, and kills,
    // wherever the process is then (staging, inserting, committing). A run that finishes first starts over on a
    // fresh target.
    const totalRanges = (await withClient(reference.url, (client) => client.query<{ n: number }>('select count(*)::int as n from _evolve.copy_range'))).rows[0]?.n ?? 0;
    const tablesDone = async (): Promise<number> =>
      withClient(target.url, async (client) => Number((await client.query(`select count(*) filter (where status = 'done') as n from _evolve.copy_table`)).rows[0]?.n ?? 0));
    let kills: { done: number; all: number }[] = [];
    for (let attempt = 0; attempt < 60 && kills.filter((k) => k.done > 0).length < 3; attempt += 1) {
      const child = cli(copyArgs(target.url));
      const after = 1 + Math.floor(Math.random() * (totalRanges - 1));
      const killer = (async () => {
        while (child.exitCode === undefined || child.exitCode === null) {
          if ((await rangesDone()).done >= after) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 25));
            child.kill('SIGKILL');
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const result = await child;
      await killer;
      const landed = result.signal === 'SIGKILL' ? await rangesDone() : undefined;
      if (landed && !(landed.all > 0 && landed.done === landed.all && (await tablesDone()) === copy.tables.length)) {
        kills.push(landed);
      } else if (result.exitCode === 0 || landed) {
        // The copy finished before the kill: start over on a fresh target.
        target = await createTarget(db.serverUrl);
        targets.push(target);
        kills = [];
      } else {
        throw new Error(`copy run failed after a kill: ${String(result.stderr)}`);
      }
    }
    expect(kills.filter((k) => k.done > 0).length).toBe(3);
    const final = await cli(copyArgs(target.url));
    expect(final.exitCode).toBe(0);
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
    const parsed = JSON.parse(String(status.stdout).trim().split('\n').at(-1) ?? '{}') as { tables: { status: string }[]; deadLetterReasons: { entry: string; reason: string; rows: number }[] };
    expect(parsed.tables.every((t) => t.status === 'done')).toBe(true);
    expect(parsed.deadLetterReasons).toEqual(expect.arrayContaining([expect.objectContaining({ entry: 'grades', reason: expect.stringMatching(/invalid input syntax for type integer: "A\+"/) })]));
    const validated = await cli(['copy', 'validate', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--json']);
    expect(validated.exitCode).toBe(0);
    const cutover = await cli(['copy', 'cutover', '--copy', COPY_PATH, '--source-url', source.url, '--database-url', target.url, '--json']);
    expect(cutover.exitCode).toBe(0);
  });
});
