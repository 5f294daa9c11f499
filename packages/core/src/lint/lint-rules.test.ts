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
  'enum-value-rename': {
    bad: `ALTER TYPE "Role" RENAME VALUE 'ADMIN' TO 'OWNER';`,
    good: `ALTER TYPE "Role" ADD VALUE 'OWNER';`,
  },
  'add-column-rewrite': {
    bad: `ALTER TABLE "Booking" ADD COLUMN "position" SERIAL NOT NULL;`,
    good: `ALTER TABLE "Booking" ADD COLUMN "position" INTEGER;`,
  },
  'exclusion-constraint': {
    bad: `ALTER TABLE "Booking" ADD CONSTRAINT "no_overlap" EXCLUDE USING gist ("room" WITH =, "during" WITH &&);`,
    good: `CREATE TABLE "Slot" ("id" TEXT NOT NULL, "during" TSRANGE, CONSTRAINT "no_overlap" EXCLUDE USING gist ("during" WITH &&));`,
  },
  'detach-partition-non-concurrent': {
    bad: `ALTER TABLE "Event" DETACH PARTITION "Event_2024";`,
    good: `ALTER TABLE "Event" DETACH PARTITION "Event_2024" CONCURRENTLY;`,
  },
  'reindex-non-concurrent': { bad: `REINDEX INDEX "Booking_tutorId_idx";`, good: `REINDEX INDEX CONCURRENTLY "Booking_tutorId_idx";` },
  'domain-constraint': {
    bad: `ALTER DOMAIN "positive_int" ADD CONSTRAINT "positive" CHECK (VALUE > 0);`,
    good: `ALTER DOMAIN "positive_int" ADD CONSTRAINT "positive" CHECK (VALUE > 0) NOT VALID;`,
  },
  'create-domain-with-constraint': { bad: `CREATE DOMAIN "positive_int" AS INTEGER CHECK (VALUE > 0);`, good: `CREATE DOMAIN "email" AS TEXT;` },
  truncate: { bad: `TRUNCATE "LegacyNote" CASCADE;`, good: `DELETE FROM "LegacyNote" WHERE "id" = '1';` },
  'drop-database': { bad: `DROP DATABASE "staging";`, good: `DROP INDEX CONCURRENTLY "x";` },
  'drop-schema-cascade': { bad: `DROP SCHEMA "legacy" CASCADE;`, good: `DROP SCHEMA "legacy";` },
  'rename-schema': { bad: `ALTER SCHEMA "legacy" RENAME TO "archive";`, good: `CREATE SCHEMA "archive";` },
  'drop-foreign-key': {
    bad: `-- DropForeignKey\nALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";`,
    good: `ALTER TABLE "Post" DROP CONSTRAINT "Post_title_check";`,
  },
  'unbatched-data-change': {
    bad: `ALTER TABLE "User" ADD COLUMN "locale" TEXT;\nUPDATE "User" SET "locale" = 'en';`,
    good: `UPDATE "User" SET "locale" = 'en';`,
  },
  'transaction-control': {
    bad: `BEGIN;\nALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
    good: `ALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
  },
  'lock-timeout-without-statement-timeout': {
    bad: `SET lock_timeout = '2s';\nALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
    good: `SET lock_timeout = '2s';\nSET statement_timeout = '60s';\nALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
  },
  'unique-index-on-duplicates': {
    bad: `CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User"("email");`,
    good: `CREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");`,
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

  it('catches constraints written inside ADD COLUMN, and calls SERIAL NOT NULL a rewrite, not a missing default', async () => {
    const rules = async (sql: string) => (await lintSql(sql, 'm.sql')).map((f) => f.rule).filter((r) => r !== 'missing-lock-timeout');
    expect(await rules(`ALTER TABLE "Post" ADD COLUMN "editorId" INTEGER REFERENCES "User"("id");`)).toEqual(['foreign-key-validating']);
    expect(await rules(`ALTER TABLE "User" ADD COLUMN "handle" TEXT UNIQUE;`)).toEqual(['unique-without-index']);
    expect(await rules(`ALTER TABLE "User" ADD COLUMN "handle" TEXT CONSTRAINT "User_handle_key" UNIQUE;`)).toEqual(['unique-without-index']);
    expect(await rules(`ALTER TABLE "Legacy" ADD COLUMN "id" BIGSERIAL PRIMARY KEY;`)).toEqual(['add-column-rewrite', 'unique-without-index']);
    expect(await rules(`ALTER TABLE "Booking" ADD COLUMN "position" SERIAL NOT NULL;`)).toEqual(['add-column-rewrite']);
    expect(await rules(`ALTER TABLE "Order" ADD COLUMN "total" INTEGER GENERATED ALWAYS AS ("qty" * "price") STORED;`)).toEqual(['add-column-rewrite']);
    expect(await rules(`TRUNCATE "LegacyNote";`)).toEqual(['truncate']);
  });

  it('accepts the safe patterns the peers accept: a proven NOT NULL, a rename with a view, a coercible type change without a database', async () => {
    const proven = `ALTER TABLE "User" ADD CONSTRAINT "User_email_nn" CHECK ("email" IS NOT NULL) NOT VALID;\n-- evolve-ignore validate-in-same-transaction: small table\nALTER TABLE "User" VALIDATE CONSTRAINT "User_email_nn";\nALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;`;
    expect((await lintSql(proven, 'm.sql')).filter((f) => f.rule === 'set-not-null')).toEqual([]);
    const view = `ALTER TABLE "users" RENAME TO "customers";\nCREATE VIEW "users" AS SELECT * FROM "customers";`;
    expect((await lintSql(view, 'm.sql')).filter((f) => f.rule === 'rename-table')).toEqual([]);
    const toText = (await lintSql(`ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE TEXT;`, 'm.sql')).find((f) => f.rule === 'change-column-type');
    expect(toText).toMatchObject({ severity: 'warning', message: expect.stringMatching(/no rewrite if the old type is varchar.*--database-url/) });
    const toBigint = (await lintSql(`ALTER TABLE "User" ALTER COLUMN "age" SET DATA TYPE BIGINT;`, 'm.sql')).find((f) => f.rule === 'change-column-type');
    expect(toBigint?.severity).toBe('error');
  });

  it('names SQL in its messages, not parser nodes, and an unnamed primary key is not ""', async () => {
    const findings = await lintSql(`ALTER TABLE "User" ADD PRIMARY KEY ("id");`, 'm.sql');
    expect(findings.find((f) => f.rule === 'missing-lock-timeout')?.message).toMatch(/^ALTER TABLE … without lock_timeout/);
    expect(findings.find((f) => f.rule === 'unique-without-index')?.message).toMatch(/^primary key on "User"/);
    expect((await lintSql(`ALTER TYPE "Role" RENAME VALUE 'ADMIN' TO 'OWNER';`, 'm.sql')).find((f) => f.rule === 'enum-value-rename')?.message).toMatch(/breaks the running code/);
  });

  it('reports unparsable SQL as an error with its line', async () => {
    const findings = await lintSql(`ALTER TABLE "User" ADD COLUMN "x" TEXT;\nALTER TABLE "User" ADD COLUM "y" TEXT;`, 'broken.sql');
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse-error', line: 2, severity: 'error' })]);
  });
});

describe('style rules and configuration', () => {
  const prismaTable = `CREATE TABLE "Invoice" ("id" SERIAL NOT NULL, "code" CHAR(8), "title" VARCHAR(120), "issuedAt" TIMESTAMP(3) NOT NULL, CONSTRAINT "Invoice_pkey" PRIMARY KEY ("id"));`;

  it('are off by default (Prisma writes SERIAL and TIMESTAMP(3) itself), and on with style: true', async () => {
    const { STYLE_RULES } = await import('./lint-style.js');
    expect((await lintSql(prismaTable, 'm.sql')).filter((f) => f.rule in STYLE_RULES)).toEqual([]);
    const styled = await lintSql(prismaTable, 'm.sql', undefined, { style: true, rules: {} });
    expect(styled.map((f) => f.rule).sort()).toEqual(['no-char', 'prefer-bigint-key', 'prefer-identity', 'prefer-text', 'prefer-timestamptz']);
    const long = `CREATE INDEX CONCURRENTLY "${'x'.repeat(70)}" ON "Invoice"("title");`;
    expect((await lintSql(long, 'm.sql', undefined, { style: true, rules: {} })).map((f) => f.rule)).toContain('identifier-length');
  });

  it('sets a severity per rule, turns rules off, and enables one style rule by name; bad configurations are named', async () => {
    const { parseLintConfig } = await import('./lint-style.js');
    const config = { style: false, rules: { 'prefer-timestamptz': 'error' as const, 'missing-lock-timeout': 'off' as const, 'drop-column': 'warning' as const } };
    const findings = await lintSql(`${prismaTable}\nALTER TABLE "User" DROP COLUMN "bio";`, 'm.sql', undefined, config);
    expect(findings.map((f) => `${f.rule}:${f.severity}`).sort()).toEqual(['drop-column:warning', 'prefer-timestamptz:error']);
    const known = new Set(Object.keys(RULES));
    expect(() => parseLintConfig({ rules: { 'no-such-rule': 'off' } }, 'evolve.lint.json', known)).toThrow(/evolve\.lint\.json: rules.*"no-such-rule"/);
    expect(() => parseLintConfig({ rules: { 'drop-column': 'loud' } }, 'evolve.lint.json', known)).toThrow(/evolve\.lint\.json: rules\.drop-column/);
  });
});
