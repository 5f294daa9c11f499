import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { PhaseDependencyError, PhaseNotFoundError, RollbackRefusedError, TableNotFoundError } from '../errors.js';
import { addColumn } from '../operations/add-column.js';
import { addForeignKey } from '../operations/add-foreign-key.js';
import { addSoftDelete } from '../operations/add-soft-delete.js';
import { addUnique } from '../operations/add-unique.js';
import { createIndex } from '../operations/create-index.js';
import { createTable } from '../operations/create-table.js';
import { applySetupMigration, exec, snapshot } from '../operations/fixtures/operation-harness.js';
import { step } from '../operations/operation.js';
import { rawSql } from '../operations/raw-sql.js';
import { renameColumn } from '../operations/rename-column.js';
import { setNotNull } from '../operations/set-not-null.js';
import { lintPaths } from '../lint/migration-linter.js';
import { applyPrismaMigrations, diagnosePrismaMigrations } from '../prisma/prisma-migrations.js';
import { backfillStep, contractStep, definePhase, definePlan, schemaStep, verifySql } from './define-plan.js';
import { PhaseRunner } from './phase-runner.js';

const db = useTestDatabase();

function migrationsDir(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'evolve-runner-')), 'migrations');
}

async function prismaRows(url: string): Promise<{ name: string; finished: boolean; rolledBack: boolean }[]> {
  const { rows } = await exec(
    url,
    `select migration_name as name, finished_at is not null as finished, rolled_back_at is not null as "rolledBack" from _prisma_migrations order by started_at`,
  );
  return rows as { name: string; finished: boolean; rolledBack: boolean }[];
}

describe('PhaseRunner', () => {
  it('rejects an unknown phase and an unknown table in a later step before anything runs', async () => {
    const dir = migrationsDir();
    await applySetupMigration(db.url, dir, '20300100000001_init', `create table early (id int primary key)`);
    const plan = definePlan({
      name: 'typo',
      migrationsDir: dir,
      migrationPrefix: '20300101000000',
      phases: [
        definePhase({
          name: 'typo',
          steps: [
            schemaStep('index_early', step(createIndex, { table: 'early', columns: ['id'], name: 'early_id_idx' })),
            schemaStep('index_missing', step(createIndex, { table: 'no_such_table', columns: ['id'] })),
          ],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir });
    await expect(runner.run('nope')).rejects.toThrow(PhaseNotFoundError);
    await expect(runner.run('nope')).rejects.toThrow('unknown phase "nope"; the plan has "typo"');
    await expect(runner.run('typo')).rejects.toThrow(TableNotFoundError);
    await expect(runner.run('typo')).rejects.toThrow('"public"."no_such_table"');
    const { rows } = await exec(db.url, `select to_regclass('early_id_idx') as idx`);
    expect(rows[0]?.idx).toBeNull();
    expect((await runner.status())[0]?.status).toBe('pending');
  });

  it('refuses a phase whose dependency has not completed, then runs in order', async () => {
    const dir = migrationsDir();
    await applySetupMigration(db.url, dir, '20300100000002_init', `create table dep_a (id int primary key)`);
    const plan = definePlan({
      name: 'deps',
      migrationsDir: dir,
      migrationPrefix: '20300102000000',
      phases: [
        definePhase({ name: 'first', steps: [schemaStep('col', step(addColumn, { table: 'dep_a', column: 'x', type: 'INT' }))] }),
        definePhase({ name: 'second', dependsOn: ['first'], steps: [schemaStep('idx', step(createIndex, { table: 'dep_a', columns: ['x'] }))] }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir });
    await expect(runner.run('second')).rejects.toThrow(PhaseDependencyError);
    await expect(runner.run('second')).rejects.toThrow('phase "second" depends on "first", which has not completed');
    await runner.runAll();
    expect((await runner.status()).map((p) => p.status)).toEqual(['completed', 'completed']);

    await expect(runner.rollback('first')).rejects.toThrow(RollbackRefusedError);
    await expect(runner.rollback('first')).rejects.toThrow('"second" depends on it and is applied');
    expect(await runner.rollback('first', { cascade: true, force: true })).toEqual(['second', 'first']);
    expect((await runner.status()).map((p) => p.status)).toEqual(['rolled_back', 'rolled_back']);
    const { rows } = await exec(db.url, `select count(*)::int as n from information_schema.columns where table_name = 'dep_a' and column_name = 'x'`);
    expect(rows[0]?.n).toBe(0);
    await runner.runAll();
    expect((await runner.status()).map((p) => p.status)).toEqual(['completed', 'completed']);
  });

  it('leaves a failed step failed with its error, and resumes after the fix without re-applying what was done', async () => {
    const dir = migrationsDir();
    await applySetupMigration(db.url, dir, '20300100000003_init', `create table resumable (id int primary key, code text); insert into resumable values (1, 'a'), (2, 'a')`);
    const plan = definePlan({
      name: 'resume',
      migrationsDir: dir,
      migrationPrefix: '20300103000000',
      phases: [
        definePhase({
          name: 'resume',
          steps: [
            schemaStep('note', step(addColumn, { table: 'resumable', column: 'note', type: 'TEXT' })),
            schemaStep('unique_code', step(rawSql, { name: 'unique_code', up: [`CREATE UNIQUE INDEX CONCURRENTLY resumable_code_key ON resumable (code)`], down: [`DROP INDEX CONCURRENTLY IF EXISTS resumable_code_key`], transactional: false, lock: 'SHARE UPDATE EXCLUSIVE', scansData: true })),
            verifySql('unique', `select to_regclass('resumable_code_key') is not null as ok`),
          ],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir });
    await expect(runner.run('resume')).rejects.toThrow(/phase "resume" failed at step "unique_code".*could not create unique index/s);
    const { rows: tracking } = await exec(db.url, `select status, "errorLog" from "_evolve"."DataMigration" where name = 'phase:resume'`);
    expect(tracking[0]?.status).toBe('failed');
    expect(JSON.stringify(tracking[0]?.errorLog)).toContain('unique_code');
    expect((await prismaRows(db.url)).filter((r) => r.name.includes('unique_code'))).toEqual([
      { name: expect.stringContaining('unique_code'), finished: false, rolledBack: false },
    ]);

    await exec(db.url, `update resumable set code = 'b' where id = 2; drop index if exists resumable_code_key`);
    await runner.run('resume');
    expect((await runner.status())[0]?.status).toBe('completed');
    const rows = await prismaRows(db.url);
    expect(rows.filter((r) => r.name.includes('note'))).toHaveLength(1);
    expect(rows.filter((r) => r.name.includes('unique_code')).map((r) => [r.finished, r.rolledBack])).toEqual([
      [false, true],
      [true, false],
    ]);
    const diagnosis = await diagnosePrismaMigrations({ databaseUrl: db.url, migrationsDir: dir });
    expect(diagnosis.failedMigrationNames).toEqual([]);
  });

  it('rolls back a phase whose step stopped at its precheck (nothing of that step ran)', async () => {
    const dir = migrationsDir();
    await applySetupMigration(db.url, dir, '20300100000006_init', `create table half (id int primary key, v text); insert into half values (1, null)`);
    const plan = definePlan({
      name: 'half',
      migrationsDir: dir,
      migrationPrefix: '20300106000000',
      phases: [
        definePhase({
          name: 'half',
          steps: [
            schemaStep('extra', step(addColumn, { table: 'half', column: 'extra', type: 'INT' })),
            schemaStep('v_not_null', step(setNotNull, { table: 'half', column: 'v' })),
          ],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir });
    await expect(runner.run('half')).rejects.toThrow(/1 row\(s\) of "public"."half" are NULL, e.g. \(1\)/);
    expect(await runner.rollback('half')).toEqual(['half']);
    const { rows } = await exec(db.url, `select count(*)::int as n from information_schema.columns where table_name = 'half' and column_name = 'extra'`);
    expect(rows[0]?.n).toBe(0);
  });

  it('guards contract folders: a plain Prisma deploy stops while the data step is unfinished', async () => {
    const target = await createTestDatabase(db.serverUrl, { prefix: 'evolve_guard' });
    try {
      const dir = migrationsDir();
      await applySetupMigration(target.url, dir, '20300100000004_init', `create table people (id int primary key, "name" text); insert into people select g, 'p' || g from generate_series(1, 100) g`);
      const rename = step(renameColumn, { table: 'people', from: 'name', to: 'fullName' });
      const plan = definePlan({
        name: 'guard',
        migrationsDir: dir,
        migrationPrefix: '20300104000000',
        phases: [
          definePhase({ name: 'expand', steps: [schemaStep('rename', rename)] }),
          definePhase({ name: 'contract', kind: 'contract', dependsOn: ['expand'], steps: [contractStep('rename', rename)] }),
        ],
      });
      const runner = new PhaseRunner(plan, { databaseUrl: target.url, migrationsDir: dir });
      await runner.runAll();
      // Elsewhere, someone deploys the same folders with Prisma but data differs from what the backfill left.
      const elsewhere = await createTestDatabase(db.serverUrl, { prefix: 'evolve_guard' });
      try {
        await exec(elsewhere.url, `create table people (id int primary key, "name" text, "fullName" text); insert into people values (1, 'x', null)`);
        // Its init migration is applied (as the table above); the expand folders are recorded as applied.
        const contractFolder = readdirSync(dir).find((name) => name.includes('rename_contract')) ?? '';
        await exec(elsewhere.url, `create table _prisma_migrations (id varchar(36) primary key, checksum varchar(64) not null, finished_at timestamptz, migration_name varchar(255) not null, logs text, rolled_back_at timestamptz, started_at timestamptz not null default now(), applied_steps_count integer not null default 0)`);
        await exec(
          elsewhere.url,
          `insert into _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count) select gen_random_uuid()::text, 'x', name, now(), 1 from unnest($1::text[]) name`,
          [readdirSync(dir).filter((name) => name !== contractFolder && name !== 'migration_lock.toml')],
        );
        await expect(applyPrismaMigrations({ databaseUrl: elsewhere.url, migrationsDir: dir })).rejects.toThrow(/prisma-evolve guard/);
        const { rows } = await exec(elsewhere.url, `select count(*)::int as n from information_schema.columns where table_name = 'people' and column_name = 'name'`);
        expect(rows[0]?.n).toBe(1);
      } finally {
        await elsewhere.drop();
      }
    } finally {
      await target.drop();
    }
  });

  it("is Prisma-compatible: Prisma's engine diagnoses a clean history, and a database Prisma migrates from the same folders has the same schema", async () => {
    const runnerDb = await createTestDatabase(db.serverUrl, { prefix: 'evolve_compat' });
    const prismaDb = await createTestDatabase(db.serverUrl, { prefix: 'evolve_compat' });
    try {
      const dir = migrationsDir();
      const baseline = `CREATE TABLE "Tenant" ("id" TEXT NOT NULL, "slug" TEXT NOT NULL, CONSTRAINT "Tenant_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "Tenant_slug_key" ON "Tenant"("slug");
CREATE TABLE "User" ("id" TEXT NOT NULL, "tenantId" TEXT NOT NULL, "email" TEXT NOT NULL, "name" TEXT, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));`;
      const { writeFolders } = await import('./migration-folders.js');
      await writeFolders(dir, [{ name: '20300105000000_init', unit: { kind: 'sql', name: 'init', transactional: true, statements: [] }, sql: `${baseline}\n` }]);
      await applyPrismaMigrations({ databaseUrl: runnerDb.url, migrationsDir: dir });
      await exec(runnerDb.url, `insert into "Tenant" values ('t1', 'one'); insert into "User" select 'u' || g, case when g = 7 then 'ghost' else 't1' end, 'u' || g || '@x.io', null from generate_series(1, 500) g`);
      const rename = step(renameColumn, { table: 'User', from: 'name', to: 'displayName' });
      const plan = definePlan({
        name: 'compat',
        migrationsDir: dir,
        migrationPrefix: '20300105000001',
        phases: [
          definePhase({
            name: 'audit',
            steps: [
              schemaStep('audit_table', step(createTable, { table: 'AuditLog', columns: [{ name: 'id', type: 'TEXT' }, { name: 'action', type: 'TEXT', nullable: false }], primaryKey: ['id'] })),
              schemaStep('audit_index', step(createIndex, { table: 'AuditLog', columns: ['action'] })),
            ],
          }),
          definePhase({
            name: 'users',
            dependsOn: ['audit'],
            steps: [
              schemaStep('locale', step(addColumn, { table: 'User', column: 'locale', type: 'TEXT' })),
              backfillStep('fill_locale', { table: 'User', set: { locale: `'en'` }, where: 't.locale IS NULL' }),
              schemaStep('locale_not_null', step(setNotNull, { table: 'User', column: 'locale' })),
              schemaStep('tenant_fk', step(addForeignKey, { table: 'User', columns: ['tenantId'], references: { table: 'Tenant', columns: ['id'] }, orphans: 'delete', onDelete: 'CASCADE' })),
              schemaStep('email_unique', step(addUnique, { table: 'User', columns: ['email'], constraint: false })),
              schemaStep('rename', rename),
            ],
          }),
          definePhase({
            name: 'soft_delete',
            dependsOn: ['users'],
            steps: [schemaStep('soft_delete', step(addSoftDelete, { table: 'User', partialUniques: [{ name: 'User_email_key', columns: ['email'] }] }))],
          }),
          definePhase({ name: 'contract', kind: 'contract', dependsOn: ['users'], steps: [contractStep('rename', rename)] }),
        ],
      });
      const runner = new PhaseRunner(plan, { databaseUrl: runnerDb.url, migrationsDir: dir });
      await runner.runAll();
      expect((await runner.verify()).filter((c) => !c.ok)).toEqual([]);

      const diagnosis = await diagnosePrismaMigrations({ databaseUrl: runnerDb.url, migrationsDir: dir });
      expect(diagnosis.failedMigrationNames).toEqual([]);
      expect(diagnosis.editedMigrationNames).toEqual([]);
      expect(diagnosis.history).toBeNull();

      await applyPrismaMigrations({ databaseUrl: prismaDb.url, migrationsDir: dir });
      expect(await snapshot(prismaDb.url, ['public'])).toEqual(await snapshot(runnerDb.url, ['public']));
      const prismaDiagnosis = await diagnosePrismaMigrations({ databaseUrl: prismaDb.url, migrationsDir: dir });
      expect(prismaDiagnosis.history).toBeNull();
      // Our own folders are safe under a plain prisma migrate deploy: our linter finds no lock wait without lock_timeout.
      const planFolders = readdirSync(dir).filter((name) => name.startsWith('20300105000001')).map((name) => path.join(dir, name));
      expect(planFolders.length).toBeGreaterThan(10);
      expect((await lintPaths(planFolders)).filter((finding) => finding.rule === 'missing-lock-timeout')).toEqual([]);
    } finally {
      await runnerDb.drop();
      await prismaDb.drop();
    }
  });
});
