import { describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { snapshot } from '../operations/fixtures/operation-harness.js';
import { lintSql } from './migration-linter.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renameColumn } from '../operations/rename-column.js';
import { setNotNull } from '../operations/set-not-null.js';
import { step } from '../operations/operation.js';
import { rawSql } from '../operations/raw-sql.js';
import { backfillStep, contractStep, definePhase, definePlan, schemaStep, verifySql } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { applyPrismaMigrations } from '../prisma/prisma-migrations.js';
import { renderRewritePhaseModule, rewriteMigrationSql, type RewriteResult } from './migration-rewriter.js';

const db = useTestDatabase();

const BASE = `create table "User" (id text primary key, email text, name text);
create table "Post" (id text primary key, "authorId" text, rating int);
insert into "User" select 'u' || g, 'u' || g || '@x.io', 'n' from generate_series(1, 500) g;
insert into "Post" select 'p' || g, 'u' || (1 + g % 500), g % 5 from generate_series(1, 2000) g;`;

/** What `prisma migrate dev --create-only` writes for these schema changes. */
const PRISMA_MIGRATION = `-- AlterTable
ALTER TABLE "User" ADD COLUMN     "bio" TEXT;

-- AlterTable
ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;

-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "Post" ADD CONSTRAINT "Post_rating_check" CHECK ("rating" BETWEEN 0 AND 5);

ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");
`;

/** Each rewritable case on its own, as Prisma writes it. */
const CASES: Record<string, string> = {
  index: `-- CreateIndex\nCREATE INDEX "Post_authorId_idx" ON "Post"("authorId");`,
  'foreign key': `-- AddForeignKey\nALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;`,
  check: `ALTER TABLE "Post" ADD CONSTRAINT "Post_rating_check" CHECK ("rating" BETWEEN 0 AND 5);`,
  'set not null': `-- AlterTable\nALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;`,
  unique: `ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");`,
  'primary key': `ALTER TABLE "Tag" ADD CONSTRAINT "Tag_pkey" PRIMARY KEY ("id");`,
  // A comment before the semicolon used to swallow the NOT VALID / CONCURRENTLY the rewriter appended.
  'index with a comment before the semicolon': `CREATE INDEX "Post_authorId_idx" ON "Post"("authorId") -- by author\n;`,
  'foreign key with a comment before the semicolon': `ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") -- the author\n;`,
  'unnamed check on two columns (named after the table only, as PostgreSQL does)': `ALTER TABLE "Post" ADD CHECK ("rating" >= 0 AND "authorId" IS NOT NULL);`,
  'unnamed foreign key and check': `ALTER TABLE "Post" ADD FOREIGN KEY ("authorId") REFERENCES "User"("id");\nALTER TABLE "Post" ADD CHECK ("rating" >= 0) /* c */;`,
  'unnamed unique with INCLUDE and NULLS NOT DISTINCT': `ALTER TABLE "User" ADD UNIQUE NULLS NOT DISTINCT ("email") INCLUDE ("name");`,
  'deferrable unique': `ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email") DEFERRABLE INITIALLY DEFERRED;`,
  'expression index, partial, with opclass': `CREATE INDEX "User_lower_email_idx" ON "User" USING btree (lower("email") text_pattern_ops) WHERE "name" IS NOT NULL;`,
};

describe('pnpm migrate:phase rewrite', () => {
  for (const [name, sql] of Object.entries(CASES)) {
    it(`${name}: the rewritten folders give the same schema as the original and lint without a finding`, async () => {
      const original = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
      const rewritten = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
      try {
        for (const url of [original.url, rewritten.url]) await withClient(url, (c) => c.query(`${BASE}\ncreate table "Tag" (id int not null); insert into "Tag" values (1), (2);`));
        await withClient(original.url, (c) => c.query(sql));
        const result = await rewriteMigrationSql(sql, '20300101000000_case');
        expect(result.refusals).toEqual([]);
        expect((await lintSql(sql, 'original')).some((f) => f.severity === 'error')).toBe(true);
        for (const folder of result.folders) {
          await withClient(rewritten.url, (c) => c.query(folder.sql));
          expect(await lintSql(folder.sql, folder.name)).toEqual([]);
          // Every transactional folder bounds its lock waits; a CONCURRENTLY folder is one statement (see docs/lint.md).
          if (!folder.sql.includes('CONCURRENTLY')) expect(folder.sql).toMatch(/SET LOCAL lock_timeout = '\d+ms';/);
        }
        expect(await snapshot(rewritten.url, ['public'])).toEqual(await snapshot(original.url, ['public']));
      } finally {
        await original.drop();
        await rewritten.drop();
      }
    });
  }

  it('rewrites a Prisma migration into safe folders that give the same schema and pass lint', async () => {
    const original = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
    const rewritten = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
    try {
      for (const url of [original.url, rewritten.url]) await withClient(url, (c) => c.query(BASE));
      await withClient(original.url, (c) => c.query(PRISMA_MIGRATION));
      const result = await rewriteMigrationSql(PRISMA_MIGRATION, '20300101000000_changes');
      expect(result.refusals).toEqual([]);
      expect(result.folders.length).toBeGreaterThan(6);
      expect(result.folders[0]?.name).toBe('20300101000000_changes');
      for (const folder of result.folders) {
        await withClient(rewritten.url, (c) => c.query(folder.sql));
        const findings = await lintSql(folder.sql, folder.name);
        expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
      }
      expect(await snapshot(rewritten.url, ['public'])).toEqual(await snapshot(original.url, ['public']));
      const before = await lintSql(PRISMA_MIGRATION, 'original');
      expect(before.filter((f) => f.severity === 'error').map((f) => f.rule).sort()).toEqual([
        'check-validating',
        'create-index-non-concurrent',
        'foreign-key-validating',
        'set-not-null',
        'unique-without-index',
      ]);
    } finally {
      await original.drop();
      await rewritten.drop();
    }
  });

  it('keeps unqualified names unqualified, so the folders act on the schema search_path picks (Prisma ?schema=app)', async () => {
    const sql = `ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\nALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id");\nALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");`;
    const original = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
    const rewritten = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
    try {
      // A decoy table of the same name in public: a folder that named "public" would change it instead.
      for (const url of [original.url, rewritten.url]) await withClient(url, (c) => c.query(`create schema app; set search_path to app;\n${BASE}\nset search_path to public;\n${BASE}`));
      await withClient(original.url, (c) => c.query(`set search_path to app;\n${sql}`));
      const result = await rewriteMigrationSql(sql, '20300101000000_app');
      expect(result.refusals).toEqual([]);
      for (const folder of result.folders) {
        expect(folder.sql).not.toContain('"public"');
        await withClient(rewritten.url, async (c) => {
          await c.query('set search_path to app');
          await c.query(folder.sql); // a CONCURRENTLY folder must be a query of its own
        });
      }
      expect(await snapshot(rewritten.url, ['app', 'public'])).toEqual(await snapshot(original.url, ['app', 'public']));
    } finally {
      await original.drop();
      await rewritten.drop();
    }
  });

  it('refuses what has no safe form, saying why', async () => {
    const required = await rewriteMigrationSql(`ALTER TABLE "User" ADD COLUMN "locale" TEXT NOT NULL;`, 'm');
    expect(required.refusals[0]?.reason).toMatch(/required but has no value for existing rows/);
    expect(required.refusals[0]?.requiredColumn).toEqual({ schema: 'public', table: 'User', column: 'locale' });
    const rename = await rewriteMigrationSql(`ALTER TABLE "User" DROP COLUMN "name";\nALTER TABLE "User" ADD COLUMN "displayName" TEXT;`, 'm');
    expect(rename.refusals[0]?.reason).toMatch(/looks like a rename .*rewrite --rename User\.name:displayName.*step\(renameColumn, \{ table: 'User', from: 'name', to: 'displayName' \}\)/);
    // A rename the user denies (confirmed for another column) stays refused: nothing is dropped silently.
    const other = await rewriteMigrationSql(`ALTER TABLE "User" DROP COLUMN "name";\nALTER TABLE "User" ADD COLUMN "displayName" TEXT;`, 'm', { renames: [{ table: 'User', from: 'email', to: 'displayName' }] });
    expect(other.refusals.map((r) => r.rule)).toEqual(['rename-column']);
    const retype = await rewriteMigrationSql(`ALTER TABLE "Post" ALTER COLUMN "rating" SET DATA TYPE BIGINT;`, 'm');
    expect(retype.refusals[0]).toMatchObject({ line: 1, rule: 'change-column-type' });
    expect(retype.folders).toEqual([]);
  });

  it('a confirmed rename (as Prisma writes it: one ALTER with DROP and ADD) becomes renameColumn expand/contract and keeps the data', async () => {
    const sql = `-- AlterTable\nALTER TABLE "User" DROP COLUMN "name",\nADD COLUMN     "displayName" TEXT;\n\n-- CreateIndex\nCREATE INDEX "Post_authorId_idx" ON "Post"("authorId");\n`;
    const refused = await rewriteMigrationSql(sql, '20300101000000_rename');
    expect(refused.refusals).toMatchObject([{ line: 2, rule: 'rename-column', rename: { schema: 'public', table: 'User', from: 'name', to: 'displayName' } }]);
    const result = await rewriteMigrationSql(sql, '20300101000000_rename', { renames: [refused.refusals[0]?.rename ?? { table: '', from: '', to: '' }] });
    expect(result.refusals).toEqual([]);
    expect(result.folders.map((f) => f.name)).toEqual(['20300101000000_rename']);
    expect(result.folders[0]?.sql).not.toMatch(/DROP COLUMN|displayName/);
    expect(result.phaseSteps).toEqual([{ kind: 'renameColumn', schema: 'public', table: 'User', from: 'name', to: 'displayName', declared: { type: 'text', notNull: false } }]);
    await expectPhasesReachOriginalSchema(sql, result, async (url) => {
      const rows = await withClient(url, (c) => c.query<{ n: string }>(`select count(*) as n from "User" where "displayName" = 'n'`));
      expect(Number(rows.rows[0]?.n)).toBe(500); // the data came along; the original would have lost it
    });
  });

  it('a required column with a value given is added nullable, backfilled and made NOT NULL by the phase', async () => {
    const sql = `-- AlterTable\nALTER TABLE "User" ADD COLUMN     "locale" TEXT NOT NULL,\nADD COLUMN     "score" INTEGER;\n`;
    const result = await rewriteMigrationSql(sql, '20300101000000_locale', { backfills: [{ table: 'User', column: 'locale', value: `'en'` }] });
    expect(result.refusals).toEqual([]);
    expect(result.folders[0]?.sql).toMatch(/ADD COLUMN locale text;[\s\S]*ADD COLUMN score int/);
    expect(result.folders[0]?.sql).not.toMatch(/NOT NULL/);
    expect(result.phaseSteps).toEqual([{ kind: 'requiredColumn', schema: 'public', table: 'User', column: 'locale', value: `'en'` }]);
    await expectPhasesReachOriginalSchema(sql, result, async (url) => {
      const rows = await withClient(url, (c) => c.query<{ n: string }>(`select count(*) as n from "User" where locale = 'en'`));
      expect(Number(rows.rows[0]?.n)).toBe(500);
    });
  });
});

/**
 * Applies the original to a copy whose tables are empty (a required column without a default fails on rows),
 * and the rewritten folders then the rendered phase module (evaluated as written) through the runner to a
 * populated copy; the catalog snapshots must be equal and the folders lint clean.
 */
async function expectPhasesReachOriginalSchema(sql: string, result: RewriteResult, checkData: (url: string) => Promise<void>): Promise<void> {
  const original = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
  const rewritten = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
  try {
    await withClient(original.url, (c) => c.query(`${BASE}\ntruncate "Post", "User";\n${sql}`));
    for (const folder of result.folders) expect((await lintSql(folder.sql, folder.name)).filter((f) => f.severity === 'error')).toEqual([]);
    const { runner, phases } = await deployRewrite(rewritten.url, result);
    for (const phase of phases) await runner.run(phase.name);
    expect(await snapshot(rewritten.url, ['public'])).toEqual(await snapshot(original.url, ['public']));
    await checkData(rewritten.url);
  } finally {
    await original.drop();
    await rewritten.drop();
  }
}

/**
 * Deploys a rewrite as a user would: the baseline and the rewritten folders through Prisma's engine into a
 * scratch migrations directory; returns a runner for the rendered phase module's phases.
 */
async function deployRewrite(url: string, result: RewriteResult): Promise<{ runner: PhaseRunner; phases: ReturnType<typeof definePhase>[] }> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-rw-phase-')), 'migrations');
  for (const folder of [{ name: '20300100000000_base', sql: BASE }, ...result.folders]) {
    mkdirSync(path.join(dir, folder.name), { recursive: true });
    writeFileSync(path.join(dir, folder.name, 'migration.sql'), folder.sql);
  }
  await applyPrismaMigrations({ databaseUrl: url, migrationsDir: dir });
  const phases = loadPhases(result);
  return { runner: new PhaseRunner(definePlan({ name: 'rewritten', migrationsDir: dir, migrationPrefix: '20300201000000', phases }), { databaseUrl: url, migrationsDir: dir }), phases };
}

/** The rendered phase module, evaluated as written (its imports bound to the real API). */
function loadPhases(result: RewriteResult): ReturnType<typeof definePhase>[] {
  const source = renderRewritePhaseModule(result.folders[0]?.name ?? '', result.phaseSteps);
  const imported = /^import \{ ([^}]+) \} from '@prisma-evolve\/core';$/m.exec(source)?.[1]?.split(', ') ?? [];
  const api: Record<string, unknown> = { backfillStep, contractStep, definePhase, rawSql, renameColumn, schemaStep, setNotNull, step, verifySql };
  const body = source.replace(/^import .*$/m, '').replace('export const phases =', 'return');
  return new Function(...imported, body)(...imported.map((name) => api[name])) as ReturnType<typeof definePhase>[];
}

describe('rewrite: renames beyond the simple case', () => {
  it('pairs confirmed renames by name, lets intended drops through, and handles non-ASCII names and array defaults', async () => {
    const sql = `ALTER TABLE "Üser" DROP COLUMN "a",\nDROP COLUMN "b",\nADD COLUMN "b2" TEXT,\nADD COLUMN "a2" TEXT,\nADD COLUMN "tags" TEXT[] DEFAULT ARRAY['x', 'y']::TEXT[];`;
    const byName = await rewriteMigrationSql(sql, 'm', { renames: [{ table: 'Üser', from: 'a', to: 'a2' }, { table: 'Üser', from: 'b', to: 'b2' }] });
    expect(byName.refusals).toEqual([]);
    expect(byName.phaseSteps.map((p) => (p.kind === 'renameColumn' ? `${p.from}->${p.to}` : p.kind))).toEqual(['b->b2', 'a->a2']);
    expect(byName.folders[0]?.sql).toContain(`ADD COLUMN tags text[] DEFAULT CAST(ARRAY['x', 'y'] AS text[])`);
    expect(byName.folders[0]?.sql).not.toMatch(/DROP COLUMN|"a2"|"b2"/);
    const intended = await rewriteMigrationSql(`-- été\nALTER TABLE "User" DROP COLUMN "legacy",\nADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;`, 'm', { drops: [{ table: 'User', column: 'legacy' }] });
    expect(intended.refusals).toEqual([]);
    expect(intended.folders[0]?.sql).toMatch(/ALTER TABLE "User" DROP COLUMN legacy RESTRICT;\s*ALTER TABLE "User" ADD COLUMN "createdAt" timestamp\(3\) NOT NULL DEFAULT CURRENT_TIMESTAMP/);
  });

  it('refuses index and constraint changes of a renamed table in the same migration (they would deploy before the column exists)', async () => {
    const sql = `-- DropIndex\nDROP INDEX "User_email_key";\n\n-- AlterTable\nALTER TABLE "User" DROP COLUMN "email",\nADD COLUMN "mail" TEXT;\n\n-- CreateIndex\nCREATE UNIQUE INDEX "User_mail_key" ON "User"("mail");\n`;
    const result = await rewriteMigrationSql(sql, 'm', { renames: [{ table: 'User', from: 'email', to: 'mail' }] });
    expect(result.refusals.map((r) => [r.line, r.rule])).toEqual([
      [2, 'rename-with-dependents'],
      [9, 'rename-with-dependents'],
    ]);
    expect(result.folders).toEqual([]);
  });

  it('a rename whose added column declares another type: the phase stops at its check instead of deploying the wrong type', async () => {
    const sql = `ALTER TABLE "Post" DROP COLUMN "rating",\nADD COLUMN "score" BIGINT NOT NULL DEFAULT 0;`;
    const result = await rewriteMigrationSql(sql, '20300101000000_score', { renames: [{ table: 'Post', from: 'rating', to: 'score' }] });
    expect(result.phaseSteps).toEqual([{ kind: 'renameColumn', schema: 'public', table: 'Post', from: 'rating', to: 'score', declared: { type: 'bigint', notNull: true, default: '0' } }]);
    const target = await createTestDatabase(db.serverUrl, { prefix: 'evolve_rw' });
    try {
      const { runner, phases } = await deployRewrite(target.url, result);
      await expect(runner.run(phases[0]?.name ?? '')).rejects.toThrow(/score is integer; the migration declared bigint NOT NULL/);
      // Nothing was lost: the old column still holds every value.
      const rows = await withClient(target.url, (c) => c.query<{ n: string }>(`select count(*) as n from "Post" where rating is not null`));
      expect(Number(rows.rows[0]?.n)).toBe(2000);
    } finally {
      await target.drop();
    }
  });
});

