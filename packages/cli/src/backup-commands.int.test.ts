import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { withClient } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { execa } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const db = useTestDatabase();
const { DATABASE_URL: _callerDatabase, ...env } = process.env;
const cli = (cwd: string, args: string[]) =>
  execa(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args], { cwd, reject: false, env, extendEnv: false });

describe('prisma-evolve backup / restore', () => {
  it('backs up with a manifest, refuses to restore over tables without --clean, restores with --clean --yes', async () => {
    await withClient(db.url, (c) => c.query(`create table kept (id int primary key, v text); insert into kept select g, 'v' || g from generate_series(1, 100) g`));
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-backup-cli-'));
    const file = path.join(dir, 'kept.dump');
    const dumped = await cli(dir, ['backup', '--database-url', db.url, '--out', file, '--json']);
    expect(dumped.exitCode).toBe(0);
    expect(existsSync(`${file}.manifest.json`)).toBe(true);
    const refused = await cli(dir, ['restore', file, '--database-url', db.url]);
    expect(refused.exitCode).toBe(2);
    expect(String(refused.stderr)).toMatch(/is not empty \(1 tables, 1 objects\): restore into an empty database, or pass --clean/);
    await withClient(db.url, (c) => c.query(`delete from kept where id > 50`));
    const restored = await cli(dir, ['restore', file, '--database-url', db.url, '--clean', '--yes']);
    expect(restored.exitCode).toBe(0);
    const rows = await withClient(db.url, (c) => c.query<{ n: number }>('select count(*)::int as n from kept'));
    expect(rows.rows[0]?.n).toBe(100);
  });
});
