import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { applyPrismaMigrations } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const planFile = path.join(root, 'packages', 'cli', 'src', 'dashboard', 'fixtures', 'slow-backfill.plan.ts');
const { DATABASE_URL: _callerDatabase, ...env } = process.env;
const db = useTestDatabase();

describe('prisma-evolve pause | resume | cancel', () => {
  it('sets and clears a step\'s flag, shows it in status, and names a step that does not exist', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-control-')), 'migrations');
    mkdirSync(path.join(dir, '20300100000001_init'), { recursive: true });
    writeFileSync(path.join(dir, '20300100000001_init', 'migration.sql'), 'CREATE TABLE "Reading" ("id" INTEGER NOT NULL PRIMARY KEY, "value" INTEGER NOT NULL);\n');
    await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir: dir });
    const common = ['--config', planFile, '--migrations-dir', dir, '--database-url', db.url];
    const cli = (args: string[]) => execa(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args, ...common], { env, extendEnv: false, reject: false });
    const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');

    const paused = await cli(['pause', 'fill/doubled', '--json']);
    expect(paused.exitCode).toBe(0);
    expect(last(paused.stdout)).toEqual({ step: 'fill/doubled', row: 'phase:fill/doubled', control: 'pause' });
    const status = await cli(['status', '--json']);
    const step = last(status.stdout).steps.find((s: { row: string }) => s.row === 'phase:fill/doubled');
    expect(step).toMatchObject({ phase: 'fill', name: 'doubled', kind: 'data', status: 'pending', control: 'pause' });
    expect((await cli(['status'])).stdout).toContain('fill/doubled  pending   0 processed  PAUSED (prisma-evolve resume fill/doubled)');

    const resumed = await cli(['resume', 'fill/doubled']);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stdout).toContain('step fill/doubled: resumed');
    expect(last((await cli(['status', '--json'])).stdout).steps.every((s: { control: unknown }) => s.control === null)).toBe(true);

    const notRunning = await cli(['cancel', 'fill/doubled']);
    expect(notRunning.exitCode).toBe(1);
    expect(notRunning.stderr).toContain('step "fill/doubled" is pending, not running: nothing to cancel');
    const unknownStep = await cli(['pause', 'fill/nope']);
    expect(unknownStep.exitCode).toBe(1);
    expect(unknownStep.stderr).toContain('phase "fill" has no step "nope" (steps: doubled, all_doubled)');
    const unknownPhase = await cli(['pause', 'nope/doubled']);
    expect(unknownPhase.exitCode).toBe(2);
    expect(unknownPhase.stderr).toContain('unknown phase "nope"');
    const verifyStep = await cli(['pause', 'fill/all_doubled']);
    expect(verifyStep.exitCode).toBe(1);
    expect(verifyStep.stderr).toContain('"fill/all_doubled" is a verify step');
    expect((await cli(['pause'])).exitCode).toBe(2);
  });
});
