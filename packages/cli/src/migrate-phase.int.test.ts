import { appendFileSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { applyPrismaMigrations } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = (args: string[]) =>
  execa(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args], { cwd: root, reject: false });
const db = useTestDatabase();

describe('pnpm migrate:phase status', () => {
  it('reports pending folders (exit 1), then applied ones (exit 0), then an edited one (exit 1), as JSON', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-status-'));
    cpSync(path.join(root, 'prisma', 'migrations'), dir, { recursive: true });
    const status = async () => {
      const result = await cli(['status', '--json', '--database-url', db.url, '--migrations-dir', dir]);
      return { exitCode: result.exitCode, report: JSON.parse(result.stdout.trim().split('\n').at(-1)!) };
    };
    expect(await status()).toEqual({ exitCode: 1, report: { phases: [], migrations: [{ name: '20260101000000_init', status: 'pending', finishedAt: null }] } });
    await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir: dir });
    expect(await status()).toMatchObject({ exitCode: 0, report: { migrations: [{ name: '20260101000000_init', status: 'applied' }] } });
    appendFileSync(path.join(dir, '20260101000000_init', 'migration.sql'), '\n-- edited after deploy\n');
    expect(await status()).toMatchObject({ exitCode: 1, report: { migrations: [{ name: '20260101000000_init', status: 'edited' }] } });
  });

  it('exits 2 on usage errors, naming the problem', async () => {
    const unknown = await cli(['launch']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown command "launch"');
    expect((await cli([])).exitCode).toBe(2);
    expect((await cli(['status', '--nope'])).exitCode).toBe(2);
  });

  it('exits 1 naming the directory when the migrations directory does not exist', async () => {
    const result = await cli(['status', '--database-url', db.url, '--migrations-dir', '/no/such/migrations']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('migrations directory "/no/such/migrations"');
  });
});
