import { describe, expect, it } from '@jest/globals';
import { RULES } from './lint-rules.js';
import { lintSql } from './migration-linter.js';

/** Each rule: SQL as Prisma writes it that must trigger it, and the safe form that must not. */
const CASES: Record<string, { bad: string; good: string }> = {
  'create-index-non-concurrent': {
    bad: `-- CreateIndex\nCREATE INDEX "Booking_tutorId_idx" ON "Booking"("tutorId");`,
    good: `-- CreateIndex\nCREATE INDEX CONCURRENTLY "Booking_tutorId_idx" ON "Booking"("tutorId");`,
  },
  'drop-index-non-concurrent': {
    bad: `-- DropIndex\nDROP INDEX "Booking_tutorId_idx";`,
    good: `DROP INDEX CONCURRENTLY "Booking_tutorId_idx";`,
  },
  'concurrently-in-transaction': {
    bad: `SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");`,
    good: `CREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");`,
  },
  'add-column-not-null-without-default': {
    bad: `-- AlterTable\nALTER TABLE "User" ADD COLUMN     "locale" TEXT NOT NULL;`,
    good: `-- AlterTable\nALTER TABLE "User" ADD COLUMN     "locale" TEXT NOT NULL DEFAULT 'en';`,
  },
  'volatile-default': {
    bad: `ALTER TABLE "User" ADD COLUMN "token" UUID DEFAULT gen_random_uuid();`,
    good: `ALTER TABLE "User" ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;`,
  },
  'set-not-null': {
    bad: `-- AlterTable\nALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;`,
    good: `ALTER TABLE "User" ADD CONSTRAINT "c" CHECK ("email" IS NOT NULL) NOT VALID;`,
  },
  'foreign-key-validating': {
    bad: `-- AddForeignKey\nALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;`,
    good: `ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;`,
  },
  'check-validating': {
    bad: `ALTER TABLE "ContentReview" ADD CONSTRAINT "rating_range" CHECK ("rating" BETWEEN 0 AND 5);`,
    good: `ALTER TABLE "ContentReview" ADD CONSTRAINT "rating_range" CHECK ("rating" BETWEEN 0 AND 5) NOT VALID;`,
  },
  'validate-in-same-transaction': {
    bad: `ALTER TABLE "Post" ADD CONSTRAINT "fk" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;\nALTER TABLE "Post" VALIDATE CONSTRAINT "fk";`,
    good: `ALTER TABLE "Post" VALIDATE CONSTRAINT "fk";`,
  },
  'unique-without-index': {
    bad: `ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");`,
    good: `ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";`,
  },
  'change-column-type': {
    bad: `-- AlterTable\nALTER TABLE "Booking" ALTER COLUMN "priceCents" SET DATA TYPE BIGINT;`,
    good: `ALTER TABLE "Booking" ALTER COLUMN "priceCents" SET DEFAULT 0;`,
  },
  'rename-column': {
    bad: `ALTER TABLE "User" RENAME COLUMN "name" TO "displayName";`,
    good: `ALTER TABLE "User" ADD COLUMN "displayName" TEXT;`,
  },
  'rename-table': {
    bad: `ALTER TABLE "Content" RENAME TO "Resource";`,
    good: `CREATE TABLE "Resource" ("id" TEXT NOT NULL, CONSTRAINT "Resource_pkey" PRIMARY KEY ("id"));`,
  },
  'drop-column': {
    bad: `-- AlterTable\nALTER TABLE "Booking" DROP COLUMN "subjectName";`,
    good: `ALTER TABLE "Booking" ADD COLUMN "note" TEXT;`,
  },
  'drop-table': {
    bad: `-- DropTable\nDROP TABLE "LegacyNote";`,
    good: `ALTER TABLE "LegacyNote" RENAME TO "_evolve_bak_LegacyNote";\n-- evolve-ignore rename-table: contract of dropTable\n`,
  },
  'prefer-jsonb': {
    bad: `CREATE TABLE "Doc" ("id" TEXT NOT NULL, "body" JSON, CONSTRAINT "Doc_pkey" PRIMARY KEY ("id"));`,
    good: `CREATE TABLE "Doc" ("id" TEXT NOT NULL, "body" JSONB, CONSTRAINT "Doc_pkey" PRIMARY KEY ("id"));`,
  },
  'vacuum-full': { bad: `VACUUM FULL "Booking";`, good: `VACUUM "Booking";` },
  cluster: { bad: `CLUSTER "Booking" USING "Booking_pkey";`, good: `ANALYZE "Booking";` },
  'missing-lock-timeout': {
    bad: `ALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
    good: `SET lock_timeout = '2s';\nALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
  },
  'enum-value-change': {
    bad: `-- AlterEnum\nALTER TYPE "Role" ADD VALUE 'OWNER';`,
    good: `CREATE TYPE "Plan" AS ENUM ('FREE', 'PRO');`,
  },
};

describe('lint rules', () => {
  it('has a case for every rule', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(RULES).sort());
  });

  for (const [rule, { bad, good }] of Object.entries(CASES)) {
    it(`${rule}: flags the unsafe form and accepts the safe one`, async () => {
      const flagged = await lintSql(bad, 'bad.sql');
      expect(flagged.filter((f) => f.rule === rule)).toHaveLength(1);
      expect(flagged.find((f) => f.rule === rule)).toMatchObject({ file: 'bad.sql', severity: RULES[rule]?.severity, suggestion: RULES[rule]?.suggestion });
      const passed = await lintSql(good, 'good.sql');
      expect(passed.filter((f) => f.rule === rule)).toEqual([]);
    });
  }

  it('exempts tables created earlier in the same file', async () => {
    const sql = `-- CreateTable\nCREATE TABLE "Subject" ("id" TEXT NOT NULL, "code" TEXT, CONSTRAINT "Subject_pkey" PRIMARY KEY ("id"));\n\n-- CreateIndex\nCREATE UNIQUE INDEX "Subject_code_key" ON "Subject"("code");\nALTER TABLE "Subject" ALTER COLUMN "code" SET NOT NULL;`;
    expect((await lintSql(sql, 'm.sql')).map((f) => f.rule)).toEqual([]);
  });

  it('reports the line of the statement and honours evolve-ignore with a reason', async () => {
    const sql = `-- AlterTable\nALTER TABLE "User" ADD COLUMN "bio" TEXT;\n\n-- evolve-ignore set-not-null: the table has 12 rows\nALTER TABLE "User" ALTER COLUMN "bio" SET NOT NULL;\nALTER TABLE "Post" ALTER COLUMN "title" SET NOT NULL;`;
    const findings = await lintSql(sql, 'm.sql');
    expect(findings.filter((f) => f.rule === 'set-not-null').map((f) => f.line)).toEqual([6]);
    expect(findings.find((f) => f.rule === 'missing-lock-timeout')?.line).toBe(2);
  });

  it('flags the unique index Prisma writes for every @unique, and accepts it built concurrently', async () => {
    const prismaUnique = `-- CreateIndex\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");`;
    const findings = await lintSql(prismaUnique, 'unique.sql');
    expect(findings).toEqual(expect.arrayContaining([expect.objectContaining({ rule: 'create-index-non-concurrent', severity: 'error', line: 2 })]));
    const concurrent = await lintSql(`CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User"("email");`, 'unique.sql');
    expect(concurrent.filter((f) => f.rule === 'create-index-non-concurrent')).toEqual([]);
  });

  it('reports unparsable SQL as an error with its line', async () => {
    const findings = await lintSql(`ALTER TABLE "User" ADD COLUMN "x" TEXT;\nALTER TABLE "User" ADD COLUM "y" TEXT;`, 'broken.sql');
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse-error', line: 2, severity: 'error' })]);
  });
});
