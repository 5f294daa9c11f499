import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { sqlExpression } from '../extract/dedupe.js';
import { explainQuery } from './watch-queries.js';

const db = useTestDatabase();
const limits = { lockTimeoutMs: 2_000, statementTimeoutMs: 0 };

describe('explainQuery: a watched query can neither write nor smuggle a second statement', () => {
  it('refuses a hidden second statement, runs EXPLAIN ANALYZE read-only unless writes is set, and undoes an allowed write', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`create table watched (id int primary key, v text); insert into watched select g, 'v' || g from generate_series(1, 50) g`);
      const count = async (): Promise<number> => Number((await c.query<{ n: string }>('select count(*) as n from watched')).rows[0]?.n);
      // The quote in the comment hides the semicolons from a text check; the server sees two commands and refuses both.
      const smuggled = await explainQuery(c, { sql: sqlExpression(`select 1 /* it's */; delete from watched; /* ' */`) }, { ...limits, analyze: true });
      expect(smuggled.error).toMatch(/cannot insert multiple commands into a prepared statement/);
      const readOnly = await explainQuery(c, { sql: sqlExpression('delete from watched where id > $1'), params: [10] }, { ...limits, analyze: true });
      expect(readOnly.error).toMatch(/cannot execute DELETE in a read-only transaction/);
      const allowed = await explainQuery(c, { sql: sqlExpression('delete from watched where id > $1'), params: [10], writes: true }, { ...limits, analyze: true });
      expect(allowed.error).toBeNull();
      expect(JSON.stringify(allowed.plan)).toMatch(/"Actual Rows":40/);
      // A plain EXPLAIN of a write executes nothing, read-only or not; statement_timeout 0 is no timeout.
      expect((await explainQuery(c, { sql: sqlExpression('delete from watched') }, { ...limits, analyze: false })).error).toBeNull();
      expect(await count()).toBe(50);
    });
  });
});
