import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { analyzeDatabase, findingKey } from './analyze.js';

const db = useTestDatabase();

describe('analyze: runtime checks', () => {
  it('reports an index never scanned, a table read by sequential scans and dead rows, each with its statistics window; nothing unused before the minimum window', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`create table big (id int primary key, x int, y int); insert into big select g, g % 100, g from generate_series(1, 20000) g; create index big_y_idx on big (y); create index big_x_used on big (x) where x < 0`);
      await c.query(`create table churn (id int primary key, v text) with (autovacuum_enabled = false); insert into churn select g, 'v' from generate_series(1, 20000) g; delete from churn where id % 2 = 0`);
      await c.query(`create table small (id int primary key, z int); create index small_z_idx on small (z)`);
      await c.query('analyze big, churn, small');
      for (let i = 0; i < 12; i += 1) await c.query('select count(*) from big where x = 5');
      await c.query('select count(*) from big where x < 0'); // the partial index is used once
      // Statistics reach the shared counters when this session ends.
    });
    const judged = await analyzeDatabase({ databaseUrl: db.url, checks: ['unused-index', 'seq-scan-heavy', 'table-bloat'], minStatsDays: 0 });
    expect(judged.map(findingKey).sort()).toEqual(['seq-scan-heavy:public.big', 'table-bloat:public.churn', 'unused-index:public.big_y_idx', 'unused-index:public.small_z_idx']);
    const unused = judged.find((f) => f.object === 'public.big_y_idx');
    expect(unused?.message).toMatch(/has not been scanned once in the statistics since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+\.\d days\)/);
    expect(unused?.fix?.steps).toEqual(['schemaStep("drop_big_y_idx", step(dropIndex, { name: "big_y_idx" }))']);
    expect(judged.find((f) => f.check === 'table-bloat')?.message).toMatch(/holds 10000 dead rows beside \d+ live ones \(\d+ %\), last vacuumed never/);
    const tooSoon = await analyzeDatabase({ databaseUrl: db.url, checks: ['unused-index'], minStatsDays: 100000 });
    expect(tooSoon).toEqual([]);
  });

  it('reports a table holding rows never analyzed and one with dead rows never vacuumed, not an analyzed and vacuumed twin nor an empty table', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`create table fresh (id int primary key) with (autovacuum_enabled = false); insert into fresh select generate_series(1, 500)`);
      await c.query(`create table churned (id int primary key) with (autovacuum_enabled = false); insert into churned select generate_series(1, 500); analyze churned; delete from churned where id <= 100`);
      await c.query(`create table kept (id int primary key) with (autovacuum_enabled = false); insert into kept select generate_series(1, 500); delete from kept where id <= 100`);
      await c.query('vacuum (analyze) kept');
      await c.query(`create table nothing (id int primary key)`);
    });
    const findings = await analyzeDatabase({ databaseUrl: db.url, checks: ['never-analyzed-or-vacuumed'] });
    const mine = findings.filter((f) => ['public.fresh', 'public.churned', 'public.kept', 'public.nothing'].includes(f.object));
    expect(mine.map(findingKey)).toEqual(['never-analyzed-or-vacuumed:public.churned', 'never-analyzed-or-vacuumed:public.fresh']);
    expect(mine[1]?.message).toMatch(/^"fresh" \(500 rows, 0 dead\) was never analyzed in the statistics since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+\.\d days\): the planner guesses/);
    expect(mine[1]?.fix?.steps).toEqual(['// ANALYZE "public"."fresh" (no lock on reads or writes), or prisma-evolve optimize']);
    expect(mine[0]?.message).toMatch(/^"churned" \(400 rows, 100 dead\) was never vacuumed in the statistics since/);
    expect(mine[0]?.fix?.steps).toEqual(['// VACUUM "public"."churned" (no lock on reads or writes), or prisma-evolve optimize']);
  });
});
