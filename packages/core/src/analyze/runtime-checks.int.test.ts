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
});
