import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
const lastJson = <T>(stdout: unknown): T => JSON.parse(String(stdout).trim().split('\n').at(-1) ?? '{}') as T;

describe('prisma-evolve analyze', () => {
  it('reports findings as JSON (exit 1), keeps a baseline quiet (exit 0) and reports only what is new, writes --fix; health as JSON', async () => {
    await withClient(db.url, (c) => c.query(`create table "A" (id int primary key); create table "B" (id int primary key, "aId" int references "A"(id))`));
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-analyze-cli-'));
    const first = await cli(dir, ['analyze', '--database-url', db.url, '--json']);
    expect(first.exitCode).toBe(1);
    const { findings } = lastJson<{ findings: { check: string; kind: string; object: string; prisma: unknown; fix: unknown }[] }>(first.stdout);
    expect(findings).toEqual([expect.objectContaining({ check: 'fk-without-index', kind: 'static', object: 'public.B.aId', prisma: null })]);

    const baseline = path.join(dir, 'analyze-baseline.json');
    const recorded = await cli(dir, ['analyze', '--database-url', db.url, '--baseline', baseline]);
    expect(recorded.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(baseline, 'utf8'))).toEqual(['fk-without-index:public.B.aId']);
    expect((await cli(dir, ['analyze', '--database-url', db.url, '--baseline', baseline])).exitCode).toBe(0);

    await withClient(db.url, (c) => c.query(`create table "C" (v text)`));
    const fixFile = path.join(dir, 'fixes.ts');
    const later = await cli(dir, ['analyze', '--database-url', db.url, '--baseline', baseline, '--fix', fixFile, '--json']);
    expect(later.exitCode).toBe(1);
    expect(lastJson<{ findings: { check: string; object: string }[] }>(later.stdout).findings.map((f) => `${f.check}:${f.object}`)).toEqual(['no-primary-key:public.C']);
    // A missing primary key has no step (the key is the user's choice): no module that would not load is written.
    expect(String(later.stderr)).toMatch(/no finding has fix steps: nothing written to .*fixes\.ts/);
    expect(existsSync(fixFile)).toBe(false);
    // A soft-delete column without its partial index gets a note (a `// …` comment), not a step: still nothing to write.
    await withClient(db.url, (c) => c.query(`create table "E" (id int primary key, "deletedAt" timestamp)`));
    const notes = await cli(dir, ['analyze', '--database-url', db.url, '--baseline', baseline, '--fix', fixFile, '--json']);
    expect(lastJson<{ findings: { check: string; object: string }[] }>(notes.stdout).findings.map((f) => `${f.check}:${f.object}`)).toEqual(['no-primary-key:public.C', 'soft-delete-without-partial-index:public.E.deletedAt']);
    expect(String(notes.stderr)).toMatch(/no finding has fix steps: nothing written to .*fixes\.ts \(notes like "\/\/ ANALYZE …" are comments, not steps\)/);
    expect(existsSync(fixFile)).toBe(false);
    await withClient(db.url, (c) => c.query(`create table "D" (id int primary key, "aId" int references "A"(id))`));
    const fixable = await cli(dir, ['analyze', '--database-url', db.url, '--baseline', baseline, '--fix', fixFile, '--json']);
    expect(fixable.exitCode).toBe(1);
    expect(readFileSync(fixFile, 'utf8')).toMatch(/export const phases = \[[\s\S]*createIndex/);

    const health = await cli(dir, ['health', '--database-url', db.url, '--json']);
    expect(health.exitCode).toBe(0);
    expect(lastJson<{ checks: { name: string; status: string }[] }>(health.stdout).checks.map((c) => c.name)).toContain('transaction id wraparound');

    const bad = await cli(dir, ['analyze', '--database-url', db.url, '--baseline', path.join(dir, 'fixes.ts')]);
    expect(bad.exitCode).toBe(2);
    expect(String(bad.stderr)).toMatch(/--baseline ".*fixes\.ts" is not JSON/);
  });
});
