import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { lintSql, readLiveFacts } from './migration-linter.js';

const db = useTestDatabase();

describe('lint with live facts (--database-url)', () => {
  it('grades by table size, exempts binary-coercible type changes, looks volatility up and knows new tables', async () => {
    await withClient(db.url, (c) =>
      c.query(`create table "Big" (id int primary key, code varchar(20), v int);
        insert into "Big" select g, 'c' || g, g from generate_series(1, 20000) g;
        create table "Small" (id int primary key, v int); insert into "Small" values (1, 1);
        create function evolve_stable_now() returns timestamptz language sql stable as 'select now()';
        analyze "Big"; analyze "Small"`),
    );
    const facts = await readLiveFacts(db.url);
    const severity = async (sql: string, rule: string) => (await lintSql(sql, 'm.sql', facts)).find((f) => f.rule === rule)?.severity;
    expect(await severity(`CREATE INDEX "i" ON "Big"("v");`, 'create-index-non-concurrent')).toBe('error');
    expect(await severity(`CREATE INDEX "i" ON "Small"("v");`, 'create-index-non-concurrent')).toBe('warning');
    expect(await severity(`CREATE INDEX "i" ON "Absent"("v");`, 'create-index-non-concurrent')).toBeUndefined();
    expect(await severity(`ALTER TABLE "Big" ALTER COLUMN "code" SET DATA TYPE VARCHAR(50);`, 'change-column-type')).toBeUndefined();
    expect(await severity(`ALTER TABLE "Big" ALTER COLUMN "code" SET DATA TYPE TEXT;`, 'change-column-type')).toBeUndefined();
    expect(await severity(`ALTER TABLE "Big" ALTER COLUMN "code" SET DATA TYPE VARCHAR(10);`, 'change-column-type')).toBe('error');
    expect(await severity(`ALTER TABLE "Big" ALTER COLUMN "v" SET DATA TYPE BIGINT;`, 'change-column-type')).toBe('error');
    expect(await severity(`ALTER TABLE "Big" ADD COLUMN "at" TIMESTAMPTZ DEFAULT evolve_stable_now();`, 'volatile-default')).toBeUndefined();
    expect(await severity(`ALTER TABLE "Big" ADD COLUMN "r" FLOAT8 DEFAULT random();`, 'volatile-default')).toBe('error');
    expect(facts.version).toBeGreaterThanOrEqual(110000);
  });

  it('a table never analyzed is of unknown size, not small: its errors stay errors (an empty one is small)', async () => {
    await withClient(db.url, (c) =>
      c.query(`create table "Unanalyzed" (id int primary key, v int) with (autovacuum_enabled = false);
        insert into "Unanalyzed" select g, g from generate_series(1, 60000) g;
        create table "Empty" (id int primary key, v int) with (autovacuum_enabled = false)`),
    );
    const facts = await readLiveFacts(db.url);
    expect(facts.rows('public', 'Unanalyzed')).toBe(Number.POSITIVE_INFINITY);
    const finding = (await lintSql(`CREATE INDEX "i" ON "Unanalyzed"("v");`, 'm.sql', facts)).find((f) => f.rule === 'create-index-non-concurrent');
    expect(finding).toMatchObject({ severity: 'error', message: expect.stringContaining('table size unknown: never analyzed') });
    expect((await lintSql(`CREATE INDEX "i" ON "Empty"("v");`, 'm.sql', facts)).find((f) => f.rule === 'create-index-non-concurrent')?.severity).toBe('warning');
  });

  it('a path with no migration in it is a usage error naming it, never an empty pass', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { lintPaths } = await import('./migration-linter.js');
    const empty = mkdtempSync(path.join(tmpdir(), 'evolve-lint-empty-'));
    await expect(lintPaths([empty])).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('holds no migration') });
    await expect(lintPaths([path.join(empty, 'typo')])).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('cannot lint') });
  });
});
