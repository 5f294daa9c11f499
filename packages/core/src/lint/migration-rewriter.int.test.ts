import { describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { snapshot } from '../operations/fixtures/operation-harness.js';
import { lintSql } from './migration-linter.js';
import { rewriteMigrationSql } from './migration-rewriter.js';

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
};

describe('pnpm migrate:phase rewrite', () => {
  for (const [name, sql] of Object.entries(CASES)) {
    it(`${name}: the rewritten folders give the same schema as the original and lint without errors`, async () => {
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
          expect((await lintSql(folder.sql, folder.name)).filter((f) => f.severity === 'error')).toEqual([]);
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

  it('refuses what has no safe form, saying why', async () => {
    const required = await rewriteMigrationSql(`ALTER TABLE "User" ADD COLUMN "locale" TEXT NOT NULL;`, 'm');
    expect(required.refusals[0]?.reason).toMatch(/required but has no value for existing rows/);
    const rename = await rewriteMigrationSql(`ALTER TABLE "User" DROP COLUMN "name";\nALTER TABLE "User" ADD COLUMN "displayName" TEXT;`, 'm');
    expect(rename.refusals[0]?.reason).toMatch(/looks like a rename; if it is, write step\(renameColumn, \{ table: 'User', from: 'name', to: 'displayName' \}\)/);
    const retype = await rewriteMigrationSql(`ALTER TABLE "Post" ALTER COLUMN "rating" SET DATA TYPE BIGINT;`, 'm');
    expect(retype.refusals[0]).toMatchObject({ line: 1, rule: 'change-column-type' });
    expect(retype.folders).toEqual([]);
  });
});
