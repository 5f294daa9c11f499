import { appendFileSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { applyPrismaMigrations } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// Run from an empty folder, so the example app's plan (prisma/evolve.plan.ts) is not picked up by default.
const bare = mkdtempSync(path.join(tmpdir(), 'evolve-cli-cwd-'));
// The CLI reads DATABASE_URL; each call names its database itself, so the caller's environment is left out.
const { DATABASE_URL: _callerDatabase, ...env } = process.env;
const cli = (args: string[], cwd = bare) =>
  execa(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args], { cwd, reject: false, env, extendEnv: false });
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

describe("pnpm migrate:phase with the example plan (seed 003's seven phases) on legacy data", () => {
  const seeded = useTestDatabase();

  it('plans, runs, verifies, reports and rolls back through the CLI contracts', async () => {
    const { seedLegacyDatabase } = await import('../../../scripts/legacy/seed-legacy-database.js');
    const { readCatalogSnapshot } = await import('@prisma-evolve/core');
    const pg = (await import('pg')).default;
    const snapshotOf = async () => {
      const client = new pg.Client({ connectionString: seeded.url });
      await client.connect();
      try {
        const full = await readCatalogSnapshot(client, ['public']);
        return full.tables.filter((t) => t.name !== '_prisma_migrations');
      } finally {
        await client.end();
      }
    };
    await seedLegacyDatabase({ databaseUrl: seeded.url, scale: 0.2, seed: 7 });
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-plan-'));
    cpSync(path.join(root, 'prisma', 'migrations'), dir, { recursive: true });
    const common = ['--config', path.join(root, 'prisma', 'evolve.plan.ts'), '--database-url', seeded.url, '--migrations-dir', dir];
    const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');

    const plan = await cli(['plan', 'soft_deletes', '--json', ...common]);
    expect(plan.exitCode).toBe(0);
    const planned = last(plan.stdout);
    const statements = planned.steps.flatMap((s: { units: { kind: string; statements?: { lock: string; sql: string }[] }[] }) => s.units.flatMap((u) => u.statements ?? []));
    expect(statements.some((s: { sql: string }) => s.sql.includes('CREATE UNIQUE INDEX CONCURRENTLY'))).toBe(true);

    const before = await snapshotOf();
    const dry = await cli(['run', '--all', '--dry-run', '--json', ...common]);
    expect(dry.exitCode).toBe(0);
    expect(await snapshotOf()).toEqual(before);
    // Nothing has run: every phase is still planned in full, each on the catalog the ones before it leave.
    const all = await cli(['plan', '--all', '--json', ...common]);
    expect(all.exitCode).toBe(0);
    const plans = last(all.stdout).plans as { phase: string; steps: { name: string; deferred: boolean; units: unknown[] }[] }[];
    expect(plans.map((p) => p.phase)).toEqual(['audit_infrastructure', 'reference_tables', 'soft_deletes', 'extracted_models', 'unique_constraints', 'composite_indexes', 'new_feature_models']);
    expect(plans.flatMap((p) => p.steps.filter((s) => s.deferred).map((s) => `${p.phase}/${s.name}`))).toEqual([]);
    expect(last(dry.stdout).plans).toEqual(plans);

    const run = await cli(['run', '--all', '--json', ...common]);
    expect(run.exitCode).toBe(0);
    const phases = last(run.stdout).phases as { name: string; status: string; dependsOn: string[]; processedRecords: number; failedRecords: number }[];
    expect(phases.map((p) => [p.name, p.status, p.dependsOn])).toEqual([
      ['audit_infrastructure', 'completed', []],
      ['reference_tables', 'completed', ['audit_infrastructure']],
      ['soft_deletes', 'completed', ['reference_tables']],
      ['extracted_models', 'completed', ['reference_tables']],
      ['unique_constraints', 'completed', ['soft_deletes', 'extracted_models']],
      ['composite_indexes', 'completed', ['unique_constraints']],
      ['new_feature_models', 'completed', ['composite_indexes']],
    ]);
    expect(phases.find((p) => p.name === 'extracted_models')?.failedRecords).toBeGreaterThan(0);
    expect(phases.find((p) => p.name === 'reference_tables')?.processedRecords).toBeGreaterThan(0);
    const verify = await cli(['verify', '--all', '--json', ...common]);
    expect(verify.exitCode).toBe(0);
    const verified = last(verify.stdout);
    expect(verified.ok).toBe(true);
    expect(verified.checks.length).toBeGreaterThan(20);
    expect(verified.checks[0]).toEqual({ phase: 'audit_infrastructure', name: expect.any(String), ok: true, detail: expect.any(String) });

    const again = await cli(['run', 'soft_deletes', '--json', ...common]);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('phase soft_deletes: skip');

    const refused = await cli(['rollback', 'soft_deletes', '--yes', ...common]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('"unique_constraints", "composite_indexes", "new_feature_models" depend on it and are applied');
    const notInteractive = await cli(['rollback', 'new_feature_models', ...common]);
    expect(notInteractive.exitCode).toBe(2);

    const afterSoftDeletes = await snapshotOf();
    // A completed phase: refused without --force, naming what it would remove and how much it holds now.
    const unforced = await cli(['rollback', 'new_feature_models', '--yes', ...common]);
    expect(unforced.exitCode).toBe(1);
    expect(unforced.stderr).toMatch(/"public"\."EduScrumRetrospective" \(table\): \d+ rows.*Pass --force/);
    expect(await snapshotOf()).toEqual(afterSoftDeletes);
    const dryRun = await cli(['rollback', 'new_feature_models', '--dry-run', '--json', ...common]);
    expect(last(dryRun.stdout).removals).toContainEqual(expect.objectContaining({ object: '"public"."EduScrumRetrospective"', kind: 'table' }));
    const rollback = await cli(['rollback', 'new_feature_models', '--yes', '--force', '--json', ...common]);
    expect(rollback.exitCode).toBe(0);
    expect(last(rollback.stdout).phases.map((p: { status: string }) => p.status)).toEqual([...Array(6).fill('completed'), 'rolled_back']);
    const cascade = await cli(['rollback', 'audit_infrastructure', '--cascade', '--yes', '--force', '--json', ...common]);
    expect(cascade.exitCode).toBe(0);
    expect(await snapshotOf()).toEqual(before);
    expect(afterSoftDeletes).not.toEqual(before);

    const status = await cli(['status', '--json', ...common]);
    const report = last(status.stdout);
    expect(report.phases.map((p: { status: string }) => p.status)).toEqual(Array(7).fill('rolled_back'));
    expect(status.exitCode).toBe(1);

    const unknown = await cli(['run', 'phase_nine', ...common]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown phase "phase_nine"');

    // What the rollbacks removed is in the trash: list, restore one table, purge the rest.
    const listed = await cli(['trash', 'list', '--json', ...common]);
    expect(listed.exitCode).toBe(0);
    const entries = last(listed.stdout).trash as { id: number; kind: string; table: string; column: string | null }[];
    const audit = entries.find((e) => e.kind === 'table' && e.table === 'AuditLog');
    expect(audit).toBeDefined();
    const restored = await cli(['trash', 'restore', String(audit?.id), ...common]);
    expect(restored.exitCode).toBe(0);
    expect(restored.stdout).toMatch(/restored \d+: "public"\."AuditLog" \(moved, \d+ rows\)/);
    expect((await cli(['trash', 'restore', 'x', ...common])).exitCode).toBe(2);
    const purged = await cli(['trash', 'purge', '--all', '--yes', '--json', ...common]);
    expect(purged.exitCode).toBe(0);
    expect(last(purged.stdout).purged).toHaveLength(entries.length - 1);
    expect(last((await cli(['trash', 'list', '--json', ...common])).stdout).trash.every((e: { restoredAt: unknown; purgedAt: unknown }) => e.restoredAt || e.purgedAt)).toBe(true);
  });
});

describe('pnpm migrate:phase lint and rewrite', () => {
  it('lints with exit 1 and the JSON contract, rewrites the folder, then lints clean', async () => {
    const { expectMigrationsSafe } = await import('@prisma-evolve/testing/jest');
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-lint-'));
    const folder = path.join(dir, '20300101000000_index_and_fk');
    const { mkdirSync, writeFileSync, readdirSync } = await import('node:fs');
    mkdirSync(folder);
    writeFileSync(
      path.join(folder, 'migration.sql'),
      `-- CreateIndex\nCREATE INDEX "Post_authorId_idx" ON "Post"("authorId");\n\n-- AddForeignKey\nALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n`,
    );
    const lint = await cli(['lint', dir, '--json']);
    expect(lint.exitCode).toBe(1);
    const report = JSON.parse(lint.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(report.findings.filter((f: { severity: string }) => f.severity === 'error')).toEqual([
      { file: path.join(folder, 'migration.sql'), line: 2, rule: 'create-index-non-concurrent', severity: 'error', message: expect.any(String), suggestion: expect.stringContaining('createIndex') },
      { file: path.join(folder, 'migration.sql'), line: 5, rule: 'foreign-key-validating', severity: 'error', message: expect.any(String), suggestion: expect.stringContaining('addForeignKey') },
    ]);
    await expect(expectMigrationsSafe(dir)).rejects.toThrow(/create-index-non-concurrent/);

    const rewrite = await cli(['rewrite', folder, '--json']);
    expect(rewrite.exitCode).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(JSON.parse(rewrite.stdout.trim().split('\n').at(-1) ?? '{}').folders.sort());
    expect((await cli(['lint', dir])).exitCode).toBe(0);
    expect((await expectMigrationsSafe(dir)).every((f) => f.severity === 'warning')).toBe(true);
    expect((await cli(['rewrite', path.join(dir, 'nope')])).exitCode).toBe(2);
  });

  it('lint reads evolve.lint.json from the working directory, and a path without migrations exits 2', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const project = mkdtempSync(path.join(tmpdir(), 'evolve-lintcfg-'));
    const folder = path.join(project, 'migrations', '20300101000000_drop');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'migration.sql'), `-- AlterTable\nALTER TABLE "User" DROP COLUMN "bio";\n`);
    expect((await cli(['lint', path.join(project, 'migrations')], project)).exitCode).toBe(1);
    writeFileSync(path.join(project, 'evolve.lint.json'), JSON.stringify({ rules: { 'drop-column': 'warning', 'missing-lock-timeout': 'off' } }));
    const relaxed = await cli(['lint', path.join(project, 'migrations'), '--json'], project);
    expect(relaxed.exitCode).toBe(0);
    expect(JSON.parse(relaxed.stdout.trim().split('\n').at(-1) ?? '{}').findings.map((f: { rule: string; severity: string }) => `${f.rule}:${f.severity}`)).toEqual(['drop-column:warning']);
    writeFileSync(path.join(project, 'evolve.lint.json'), JSON.stringify({ rules: { 'drop-colum': 'off' } }));
    const bad = await cli(['lint', path.join(project, 'migrations')], project);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('"drop-colum"');
    const empty = mkdtempSync(path.join(tmpdir(), 'evolve-lint-empty-'));
    const nothing = await cli(['lint', empty]);
    expect(nothing.exitCode).toBe(2);
    expect(nothing.stderr).toContain('holds no migration');
  });

  it('rewrite refuses a drop+add until told it is a rename, then writes the folder and the phase module', async () => {
    const { mkdirSync, writeFileSync, readFileSync, existsSync } = await import('node:fs');
    const root = mkdtempSync(path.join(tmpdir(), 'evolve-rename-'));
    const folder = path.join(root, 'migrations', '20300101000000_rename');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'migration.sql'), `-- AlterTable\nALTER TABLE "User" DROP COLUMN "name",\nADD COLUMN     "displayName" TEXT,\nADD COLUMN     "locale" TEXT NOT NULL;\n`);
    const refused = await cli(['rewrite', folder, '--json']);
    expect(refused.exitCode).toBe(1);
    const refusals = JSON.parse(refused.stdout.trim().split('\n').at(-1) ?? '{}').refusals;
    expect(refusals.map((r: { rule: string }) => r.rule)).toEqual(['rename-column', 'add-column-not-null-without-default']);
    expect(readFileSync(path.join(folder, 'migration.sql'), 'utf8')).toContain('DROP COLUMN "name"'); // untouched
    expect((await cli(['rewrite', folder, '--rename', 'User.name', '--json'])).exitCode).toBe(2);

    const done = await cli(['rewrite', folder, '--rename', 'User.name:displayName', '--backfill', `User.locale='en'`, '--json']);
    expect(done.exitCode).toBe(0);
    const report = JSON.parse(done.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(report.phase).toMatch(/evolve\.20300101000000_rename\.phase\.ts$/);
    const phaseFile = path.join(root, 'evolve.20300101000000_rename.phase.ts');
    expect(existsSync(phaseFile)).toBe(true);
    const module = readFileSync(phaseFile, 'utf8');
    expect(module).toContain(`step(renameColumn, { table: "User", from: "name", to: "displayName" })`);
    expect(module).toContain(`set: { "locale": "'en'" }`);
    expect(readFileSync(path.join(folder, 'migration.sql'), 'utf8')).toMatch(/ADD COLUMN locale text;/);
  });
});
