/**
 * `pnpm bench copy --rows N`: seed 004's grades shape (id, student_id, course_id, value, graded_at) copied from
 * a legacy database into a new one, four ways, side by side in the same run:
 * - `pipe`: one `COPY (the same select) TO STDOUT` piped into `COPY … FROM STDIN`, no transform: the limit
 *   on one machine;
 * - `toolkit`: `runCopy` keeping the ids (ranges, staging, checkpoints, tracker);
 * - `toolkit_remap`: `runCopy` rewriting student and course references to UUIDs through the id map;
 * - `naive`: the seeds' way through Prisma (findMany pages from the legacy table, createMany into the new
 *   one, id maps held in memory), on a sample (`--naive-sample`, default 20,000 rows), extrapolated.
 * Validation (`validateCopy`) runs on both toolkit copies afterwards and is not timed.
 */
import { pipeline } from 'node:stream/promises';
import { defineCopy, ref, runCopy, validateCopy, withClient } from '@prisma-evolve/core';
import { createTestDatabase } from '@prisma-evolve/testing';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { exec, timed } from './bench-support.js';

const SELECT = 'select id, student_id, course_id, value, graded_at from grades order by id';

async function seed(url: string, rows: number): Promise<void> {
  const students = Math.max(10, Math.round(rows / 100));
  const courses = Math.max(10, Math.round(rows / 1000));
  await exec(url, `create table students (id int primary key, card text); insert into students select g, 'S' || g from generate_series(1, ${students}) g;
    create table course (id int primary key, code text); insert into course select g, 'C' || g from generate_series(1, ${courses}) g;
    create table grades (id bigint primary key, student_id int, course_id int, value varchar(8), graded_at timestamp);
    insert into grades select g, 1 + g % ${students}, 1 + g % ${courses}, (g % 101)::text, timestamp '2022-01-10' + (g % 100000 || ' minutes')::interval from generate_series(1, ${rows}) g;
    analyze`);
}

const PLAIN_TARGET = `create table grade_plain (legacy_id bigint primary key, student_id int not null, course_id int not null, value int not null, graded_at timestamp not null);
  create table grade_pipe (legacy_id bigint primary key, student_id int not null, course_id int not null, value int not null, graded_at timestamp not null);
  create table student (id uuid primary key, card text); create table offering (id uuid primary key, code text);
  create table grade_remap (legacy_id bigint primary key, student_id uuid not null, offering_id uuid not null, value int not null, graded_at timestamp not null);
  create table grade_naive (legacy_id bigint primary key, student_id uuid not null, offering_id uuid not null, value int not null, graded_at timestamp not null)`;

const plainCopy = defineCopy({
  name: 'bench-plain',
  tables: { grades: { table: 'grade_plain', from: 'grades', key: 'id', id: { column: 'legacy_id', generate: 'keep' }, columns: { student_id: 'student_id', course_id: 'course_id', value: 'value', graded_at: 'graded_at' } } },
});

const remapCopy = defineCopy({
  name: 'bench-remap',
  tables: {
    students: { table: 'student', from: 'students', key: 'id', id: { column: 'id', generate: 'uuid' }, columns: { card: 'card' } },
    courses: { table: 'offering', from: 'course', key: 'id', id: { column: 'id', generate: 'uuid' }, columns: { code: 'code' } },
    grades: { table: 'grade_remap', from: 'grades', key: 'id', id: { column: 'legacy_id', generate: 'keep' }, columns: { student_id: ref('students', 'student_id'), offering_id: ref('courses', 'course_id'), value: 'value', graded_at: 'graded_at' } },
  },
});

async function pipeCopy(sourceUrl: string, targetUrl: string): Promise<void> {
  await withClient(sourceUrl, (source) =>
    withClient(targetUrl, async (target) => {
      await pipeline(source.query(copyTo(`copy (${SELECT}) to stdout`)), target.query(copyFrom('copy grade_pipe from stdin')));
    }),
  );
}

async function naiveSample(sourceUrl: string, targetUrl: string, sample: number): Promise<{ rows: number; seconds: number }> {
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { PrismaClient } = await import('./generated/client/client.js');
  const legacy = new PrismaClient({ adapter: new PrismaPg({ connectionString: sourceUrl }) });
  const next = new PrismaClient({ adapter: new PrismaPg({ connectionString: targetUrl }) });
  try {
    // The seeds hold the old→new maps in memory, built before the grades (not timed).
    const maps = await withClient(targetUrl, async (c) => {
      const { rows } = await c.query<{ entry: string; old_key: string; new_id: string }>(`select entry, old_key, new_id from _evolve.id_map where copy = 'bench-remap' and entry in ('students', 'courses')`);
      const students = new Map<number, string>();
      const courses = new Map<number, string>();
      for (const r of rows) (r.entry === 'students' ? students : courses).set(Number(r.old_key), r.new_id);
      return { students, courses };
    });
    const { seconds } = await timed(async () => {
      let cursor: bigint | undefined;
      for (let copied = 0; copied < sample; ) {
        const page = await legacy.legacyGrade.findMany({ take: Math.min(1000, sample - copied), orderBy: { id: 'asc' }, ...(cursor === undefined ? {} : { cursor: { id: cursor }, skip: 1 }) });
        if (page.length === 0) break;
        await next.benchGrade.createMany({
          data: page.map((g) => ({ legacyId: g.id, studentId: maps.students.get(g.studentId) as string, offeringId: maps.courses.get(g.courseId) as string, value: Number(g.value), gradedAt: g.gradedAt })),
        });
        copied += page.length;
        cursor = page.at(-1)?.id;
      }
    });
    return { rows: sample, seconds };
  } finally {
    await legacy.$disconnect();
    await next.$disconnect();
  }
}

/** Runs the benchmark on a fresh source and target on the server of `url`. */
export async function runCopyBench(options: { url: string; serverUrl: string; rows: number; workers: number; batchSize: number; naiveSample: number; progress: boolean }): Promise<Record<string, unknown>> {
  const say = (line: string): void => {
    if (options.progress) process.stderr.write(`${line}\n`);
  };
  await seed(options.url, options.rows);
  const target = await createTestDatabase(options.serverUrl, { prefix: 'evolve_bench_target' });
  try {
    await exec(target.url, PLAIN_TARGET);
    say(`pipe: COPY … TO STDOUT | COPY … FROM STDIN of ${options.rows} rows`);
    const pipe = await timed(() => pipeCopy(options.url, target.url));
    say('toolkit: runCopy, ids kept');
    const plain = await timed(() => runCopy(plainCopy, { sourceUrl: options.url, targetUrl: target.url, workers: options.workers, batchSize: options.batchSize }));
    say('toolkit: runCopy, references remapped through the id map');
    await runCopy(remapCopy, { sourceUrl: options.url, targetUrl: target.url, entries: ['students', 'courses'] });
    const remap = await timed(() => runCopy(remapCopy, { sourceUrl: options.url, targetUrl: target.url, entries: ['grades'], workers: options.workers, batchSize: options.batchSize }));
    const sample = Math.min(options.naiveSample, options.rows);
    say(`naive: Prisma findMany pages + createMany on ${sample} rows (extrapolated)`);
    const naive = await naiveSample(options.url, target.url, sample);
    say('validating both toolkit copies');
    const validations = [await validateCopy(plainCopy, { sourceUrl: options.url, targetUrl: target.url }), await validateCopy(remapCopy, { sourceUrl: options.url, targetUrl: target.url })];
    const rate = (seconds: number, rows = options.rows): number => Math.round(rows / seconds);
    const pipeRate = rate(pipe.seconds);
    return {
      rows: options.rows,
      toolkit_rows_per_s: rate(plain.seconds),
      toolkit_remap_rows_per_s: rate(remap.seconds),
      pipe_rows_per_s: pipeRate,
      naive_rows_per_s: rate(naive.seconds, naive.rows),
      naive_sampled_rows: naive.rows,
      naive_extrapolated: naive.rows < options.rows,
      toolkit_vs_pipe: Math.round((rate(plain.seconds) / pipeRate) * 100) / 100,
      toolkit_remap_vs_pipe: Math.round((rate(remap.seconds) / pipeRate) * 100) / 100,
      toolkit_vs_naive: Math.round(rate(plain.seconds) / rate(naive.seconds, naive.rows)),
      workers: options.workers,
      batch_size: options.batchSize,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
      validation_ok: validations.every((v) => v.ok),
    };
  } finally {
    await target.drop();
  }
}
