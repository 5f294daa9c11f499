import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { execa, type ResultPromise } from 'execa';
import { backfillWith } from './backfill.js';
import { createNumbersTable, sql } from './fixtures/backfill-fixtures.js';
import { expectedValue } from './fixtures/kill-target-values.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.join(here, 'fixtures', 'kill-target.ts');
const db = useTestDatabase();
const scratch = mkdtempSync(path.join(tmpdir(), 'evolve-kill-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const ROWS = 40_000;
const KILLS = 6;
const MAX_BATCH = 100;

function spawnTarget(table: string, log: string): ResultPromise<{ reject: false; buffer: false }> {
  return execa('node', ['--import', 'tsx', target, db.url, table, log], { cwd: here, reject: false, buffer: false });
}

/** Resolves when the child prints `line` on stdout (or exits). */
function waitForLine(child: ResultPromise<{ reject: false; buffer: false }>, line: string): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) resolve(true);
    });
    void child.then(() => resolve(false));
  });
}

describe('backfill under SIGKILL', () => {
  it(`resumes after ${KILLS} kills at random points: same table as a clean run, compute once per committed row`, async () => {
    await createNumbersTable(db.url, 'killed', ROWS);
    await createNumbersTable(db.url, 'clean', ROWS);
    const log = path.join(scratch, 'compute.log');
    const killedPids: number[] = [];
    const delays: number[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      const child = spawnTarget('killed', log);
      const started = await waitForLine(child, 'progress');
      expect(started).toBe(true);
      const delay = 50 + Math.floor(Math.random() * 400);
      delays.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      const result = await child;
      expect({ delays, signal: result.signal }).toEqual({ delays, signal: 'SIGKILL' });
      killedPids.push(child.pid ?? -1);
    }
    const [midway] = await sql<{ filled: number }>(db.url, `select count(*)::int as filled from killed where b is not null`);
    expect(midway?.filled).toBeLessThan(ROWS);

    const final = spawnTarget('killed', log);
    const finished = await final;
    expect(finished.exitCode).toBe(0);

    await backfillWith<{ id: string; a: number }, { b: number }>({
      database: db.url,
      table: 'clean',
      select: ['a'],
      columns: ['b'],
      where: 'b is null',
      compute: (rows) => rows.map((row) => ({ b: expectedValue(Number(row.id), row.a) })),
    });
    const [diff] = await sql(
      db.url,
      `select count(*)::int as rows, count(*) filter (where k.b is distinct from c.b)::int as different
       from killed k full join clean c using (id)`,
    );
    expect(diff).toEqual({ rows: ROWS, different: 0 });

    // Every row was computed; repeats come only from a killed process's last (uncommitted) batch.
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ') as [string, string]);
    const count = new Map<string, number>();
    for (const [, id] of calls) count.set(id, (count.get(id) ?? 0) + 1);
    expect(count.size).toBe(ROWS);
    for (const pid of killedPids) {
      const ids = calls.filter(([p]) => p === String(pid)).map(([, id]) => id);
      const later = new Set(calls.slice(calls.findLastIndex(([p]) => p === String(pid)) + 1).map(([, id]) => id));
      const redone = ids.filter((id) => later.has(id));
      expect({ pid, redone: redone.length }).toEqual({ pid, redone: expect.any(Number) });
      expect(redone.length).toBeLessThanOrEqual(MAX_BATCH);
      expect(redone).toEqual(ids.slice(ids.length - redone.length));
    }
    const repeats = [...count.values()].filter((n) => n > 1).length;
    expect(repeats).toBeLessThanOrEqual(KILLS * MAX_BATCH);
    const [row] = await sql(db.url, `select status, "processedRecords"::int as "processedRecords" from "_evolve"."DataMigration" where name = 'kill killed'`);
    expect(row).toEqual({ status: 'completed', processedRecords: ROWS });
  }, 180_000);

  it('SIGINT finishes the batch in flight, saves the checkpoint and exits cleanly; the next run resumes', async () => {
    await createNumbersTable(db.url, 'interrupted', 20_000);
    const log = path.join(scratch, 'interrupted.log');
    const child = spawnTarget('interrupted', log);
    expect(await waitForLine(child, 'progress')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGINT');
    expect(await waitForLine(child, 'canceled')).toBe(true);
    const result = await child;
    expect(result.exitCode).toBe(0);
    const [paused] = await sql<{ status: string; processedRecords: number }>(
      db.url,
      `select status, "processedRecords"::int as "processedRecords" from "_evolve"."DataMigration" where name = 'kill interrupted'`,
    );
    const [filled] = await sql<{ n: number }>(db.url, `select count(*)::int as n from interrupted where b is not null`);
    expect(paused?.status).toBe('pending');
    expect(paused?.processedRecords).toBe(filled?.n);
    // Every computed row was committed: a graceful stop wastes no computation.
    const computed = readFileSync(log, 'utf8').trim().split('\n').length;
    expect(computed).toBe(filled?.n);

    const rest = await spawnTarget('interrupted', log);
    expect(rest.exitCode).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(new Set(lines.map((line) => line.split(' ')[1])).size).toBe(20_000);
    expect(lines).toHaveLength(20_000);
  }, 120_000);
});
