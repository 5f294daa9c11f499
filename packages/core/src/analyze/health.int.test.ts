import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { checkHealth, grade } from './health.js';

const db = useTestDatabase();

describe('health', () => {
  it('grades values against WARN and CRIT', () => {
    expect([grade(1, 5, 10), grade(5, 5, 10), grade(12, 5, 10)]).toEqual(['ok', 'warn', 'crit']);
  });

  it('sees an idle-in-transaction session and a session blocked behind its lock, each graded', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    const waiter = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await waiter.connect();
    try {
      await holder.query('create table if not exists held (id int)');
      await holder.query('begin; lock table held in access exclusive mode');
      const waiting = waiter.query('select count(*) from held').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const checks = await checkHealth(db.url, { idleInTransactionSeconds: { warn: 1, crit: 3600 }, blockedSessions: { warn: 1, crit: 2 } });
      const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
      expect(byName['idle in transaction']).toMatchObject({ status: 'warn' });
      expect(byName['idle in transaction']?.detail).toMatch(new RegExp(`pid ${(holder as unknown as { processID: number }).processID}`));
      expect(byName['blocked sessions']).toMatchObject({ status: 'warn', value: 1 });
      expect(byName['blocked sessions']?.detail).toMatch(/waits for \{\d+\}/);
      expect(checks.map((c) => c.name)).toEqual(['connections', 'longest query', 'idle in transaction', 'blocked sessions', 'replication slots', 'transaction id wraparound', 'analyze age', 'cache misses', 'sizes']);
      await holder.query('rollback');
      await waiting;
      const calm = Object.fromEntries((await checkHealth(db.url)).map((c) => [c.name, c.status]));
      expect([calm['idle in transaction'], calm['blocked sessions']]).toEqual(['ok', 'ok']);
    } finally {
      await holder.end();
      await waiter.end();
    }
  });
});
