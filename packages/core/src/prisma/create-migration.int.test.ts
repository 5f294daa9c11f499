import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { createPrismaMigration, diffPrismaSchemas, InvalidArgumentError, SchemaEngineError } from '../index.js';

const db = useTestDatabase();

const BASE = `datasource db {
  provider = "postgresql"
}

enum Role {
  MEMBER
  ADMIN
}

model Account {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
  role  Role    @default(MEMBER)
}

model Team {
  id    Int    @id @default(autoincrement())
  title String
}
`;

/** Schema changes a user makes, each as an edit of BASE. */
const CASES: ReadonlyArray<{ name: string; edit: (schema: string) => string; expect: RegExp }> = [
  { name: 'add model', edit: (s) => `${s}\nmodel Invoice {\n  id    Int @id @default(autoincrement())\n  total Int\n}\n`, expect: /CREATE TABLE "Invoice"/ },
  { name: 'add required column', edit: (s) => s.replace('  role  Role    @default(MEMBER)\n', '  role  Role    @default(MEMBER)\n  locale String\n'), expect: /ADD COLUMN\s+"locale" TEXT NOT NULL/ },
  { name: 'rename column', edit: (s) => s.replace('  name  String?\n', '  displayName String?\n'), expect: /DROP COLUMN "name",\s*ADD COLUMN\s+"displayName" TEXT/ },
  {
    name: 'new relation',
    edit: (s) => s.replace('  role  Role    @default(MEMBER)\n', '  role  Role    @default(MEMBER)\n  teamId Int?\n  team   Team? @relation(fields: [teamId], references: [id])\n').replace('  title String\n', '  title String\n  members Account[]\n'),
    expect: /FOREIGN KEY \("teamId"\) REFERENCES "Team"\("id"\)/,
  },
  { name: 'new index', edit: (s) => s.replace('  role  Role    @default(MEMBER)\n}', '  role  Role    @default(MEMBER)\n\n  @@index([name])\n}'), expect: /CREATE INDEX "Account_name_idx" ON "Account"\("name"\)/ },
  { name: 'enum value', edit: (s) => s.replace('  ADMIN\n', '  ADMIN\n  AUDITOR\n'), expect: /ALTER TYPE "Role" ADD VALUE 'AUDITOR'/ },
];

/** A new app folder with BASE as schema.prisma and its first migration made by createPrismaMigration. */
async function appWithFirstMigration(): Promise<{ dir: string; schema: string; migrations: string; first: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'evolve-new-'));
  const schema = path.join(dir, 'schema.prisma');
  const migrations = path.join(dir, 'migrations');
  writeFileSync(schema, BASE);
  const first = await createPrismaMigration({ databaseUrl: db.url, migrationsDir: migrations, schemaPath: schema, name: 'init' });
  if (!first) throw new Error('the first migration was empty');
  return { dir, schema, migrations, first: first.folder };
}

describe('createPrismaMigration: prisma migrate dev --create-only through the WebAssembly engine', () => {
  it('writes the first migration of a new directory as Prisma does, with its lockfile', async () => {
    const app = await appWithFirstMigration();
    expect(app.first).toMatch(/^\d{14}_init$/);
    // Prisma's first migration is made against a shadow database that has "public" already, so unlike the
    // diff from an empty database it does not create the schema.
    const fromEmpty = await diffPrismaSchemas(db.url, 'empty', app.schema);
    expect(fromEmpty.startsWith('-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n')).toBe(true);
    expect(readFileSync(path.join(app.migrations, app.first, 'migration.sql'), 'utf8')).toBe(fromEmpty.replace('-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n', ''));
    expect(readFileSync(path.join(app.migrations, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');
    // Replaying it on a shadow database and describing that (pg_catalog "char" columns included) finds nothing left to do.
    expect(await createPrismaMigration({ databaseUrl: db.url, migrationsDir: app.migrations, schemaPath: app.schema, name: 'again' })).toBeNull();
    expect(readdirSync(app.migrations).sort()).toEqual([app.first, 'migration_lock.toml']);
  });

  it.each(CASES)('$name: the folder holds exactly the SQL of Prisma\'s own diff between the two schemas', async ({ name, edit, expect: pattern }) => {
    const app = await appWithFirstMigration();
    const before = path.join(app.dir, 'before.prisma');
    writeFileSync(before, BASE);
    writeFileSync(app.schema, edit(BASE));
    const created = await createPrismaMigration({ databaseUrl: db.url, migrationsDir: app.migrations, schemaPath: app.schema, name });
    expect(created).not.toBeNull();
    expect(created?.folder).toMatch(new RegExp(`^\\d{14}_${name.replace(/ /g, '_')}$`));
    expect(created?.sql).toBe(await diffPrismaSchemas(db.url, before, app.schema));
    expect(created?.sql).toMatch(pattern);
    expect(readFileSync(path.join(app.migrations, created?.folder ?? '', 'migration.sql'), 'utf8')).toBe(created?.sql);
  });

  it('dry run computes without writing; a multi-file schema folder is read whole', async () => {
    const app = await appWithFirstMigration();
    const folder = path.join(app.dir, 'schema');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'main.prisma'), BASE);
    writeFileSync(path.join(folder, 'billing.prisma'), 'model Invoice {\n  id Int @id\n}\n');
    const created = await createPrismaMigration({ databaseUrl: db.url, migrationsDir: app.migrations, schemaPath: folder, name: 'billing', dryRun: true });
    expect(created?.sql).toMatch(/CREATE TABLE "Invoice"/);
    expect(existsSync(created?.path ?? '/')).toBe(false);
  });

  it('refuses a name without letters or digits, and names a migration that fails on the shadow database', async () => {
    const app = await appWithFirstMigration();
    await expect(createPrismaMigration({ databaseUrl: db.url, migrationsDir: app.migrations, schemaPath: app.schema, name: '---' })).rejects.toThrow(InvalidArgumentError);
    mkdirSync(path.join(app.migrations, '20990101000000_broken'));
    writeFileSync(path.join(app.migrations, '20990101000000_broken', 'migration.sql'), 'SELECT no_such_function();\n');
    const failure = createPrismaMigration({ databaseUrl: db.url, migrationsDir: app.migrations, schemaPath: app.schema, name: 'next' });
    await expect(failure).rejects.toThrow(SchemaEngineError);
    await expect(failure).rejects.toThrow(/20990101000000_broken/);
  });
});
