import { describe, expect, it } from '@jest/globals';
import { catalogOf } from '../operations/fixtures/catalog-fixture.js';
import { createIndex } from '../operations/create-index.js';
import { setNotNull } from '../operations/set-not-null.js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MigrationsDirError } from '../errors.js';
import { MIGRATION_LOCKFILE_CONTENT } from '../prisma/migrations-dir.js';
import { folderName, renderMigrationSql, slug, writeFolders } from './migration-folders.js';

describe('migration folders', () => {
  it('names folders so Prisma sorts them in plan order, with safe slugs', () => {
    expect(folderName('20300101000000', '03', 12, 1, 'soft_deletes_index_User "Weird" Name')).toBe('20300101000000_03_12_01_soft_deletes_index_user_weird_name');
    expect(slug('***')).toBe('step');
    expect(slug('x'.repeat(80))).toHaveLength(48);
  });

  it('renders a concurrent index as a single statement outside a transaction', () => {
    const plan = createIndex.plan(createIndex.spec.parse({ table: 'Booking', columns: ['tutorId', 'scheduledStart'] }), catalogOf({ Booking: ['id', 'tutorId', 'scheduledStart'] }));
    const unit = plan.expand[0];
    if (unit?.kind !== 'sql') throw new Error('expected a sql unit');
    expect(renderMigrationSql(unit, 'phase "p", step "s"')).toBe(
      '-- prisma-evolve: phase "p", step "s"\n' +
        '-- runs outside a transaction (single statement); locks: SHARE UPDATE EXCLUSIVE (scans rows)\n' +
        '-- generated from the plan; do not edit (the runner checks the content before it applies it)\n' +
        'CREATE INDEX CONCURRENTLY "Booking_tutorId_scheduledStart_idx" ON "public"."Booking" ("tutorId", "scheduledStart");\n',
    );
  });

  it('keeps a description inside its comment: control characters become escapes, never a new SQL line', () => {
    const unit = { kind: 'sql' as const, name: 'u', transactional: true, statements: [{ sql: 'SELECT 1', lock: null, scansData: false }] };
    const sql = renderMigrationSql(unit, 'phase "p", step "s": a\nDROP TABLE "User";\r\u0000');
    expect(sql.split('\n')[0]).toBe('-- prisma-evolve: phase "p", step "s": a\\u000aDROP TABLE "User";\\u000d\\u0000');
    expect(sql.split('\n').filter((line) => !line.startsWith('--'))).toEqual([
      "SET LOCAL lock_timeout = '2000ms';",
      "SET LOCAL statement_timeout = '60000ms';",
      'SELECT 1;',
      '',
    ]);
  });

  it('sets lock_timeout (and statement_timeout, none for a scanning unit) in transactional folders only', () => {
    const scan = { kind: 'sql' as const, name: 'v', transactional: true, statements: [{ sql: 'ALTER TABLE "t" VALIDATE CONSTRAINT "c"', lock: 'SHARE UPDATE EXCLUSIVE' as const, scansData: true }] };
    expect(renderMigrationSql(scan, 'd', { lockMs: 750, statementMs: 9000 })).toContain("SET LOCAL lock_timeout = '750ms';\nSET LOCAL statement_timeout = '0ms';\nALTER TABLE");
    // A CONCURRENTLY folder must hold its one statement alone: a SET before it would make Prisma's script a transaction block.
    const concurrent = { kind: 'sql' as const, name: 'i', transactional: false, statements: [{ sql: 'CREATE INDEX CONCURRENTLY "i" ON "t" ("a")', lock: 'SHARE UPDATE EXCLUSIVE' as const, scansData: true }] };
    expect(renderMigrationSql(concurrent, 'd').split('\n').filter((line) => !line.startsWith('--'))).toEqual(['CREATE INDEX CONCURRENTLY "i" ON "t" ("a");', '']);
  });

  it('plans SET NOT NULL as check NOT VALID, VALIDATE, then SET NOT NULL with the check dropped', () => {
    const plan = setNotNull.plan(setNotNull.spec.parse({ table: 'User', column: 'email' }), catalogOf({ User: ['id', 'email'] }));
    expect(plan.expand.map((u) => (u.kind === 'sql' ? u.statements.map((s) => `${s.lock}: ${s.sql}`) : []))).toEqual([
      ['ACCESS EXCLUSIVE: ALTER TABLE "public"."User" ADD CONSTRAINT "_evolve_chk_User_email_nn" CHECK ("email" IS NOT NULL) NOT VALID'],
      ['SHARE UPDATE EXCLUSIVE: ALTER TABLE "public"."User" VALIDATE CONSTRAINT "_evolve_chk_User_email_nn"'],
      ['ACCESS EXCLUSIVE: ALTER TABLE "public"."User" ALTER COLUMN "email" SET NOT NULL', 'ACCESS EXCLUSIVE: ALTER TABLE "public"."User" DROP CONSTRAINT "_evolve_chk_User_email_nn"'],
    ]);
  });
});

describe('writeFolders', () => {
  const unit = { kind: 'sql' as const, name: 'u', transactional: true, statements: [{ sql: 'SELECT 1', lock: null, scansData: false }] };
  const folder = (name: string, sql: string) => ({ name, unit, sql });

  it('writes missing folders and Prisma\'s lockfile, leaves identical ones, and refuses changed ones by path', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-folders-')), 'migrations');
    expect(await writeFolders(dir, [folder('20300101000000_a', 'SELECT 1;\n'), folder('20300101000001_b', 'SELECT 2;\n')])).toEqual(['20300101000000_a', '20300101000001_b']);
    expect(readFileSync(path.join(dir, '20300101000000_a', 'migration.sql'), 'utf8')).toBe('SELECT 1;\n');
    expect(readFileSync(path.join(dir, 'migration_lock.toml'), 'utf8')).toBe(MIGRATION_LOCKFILE_CONTENT);
    expect(await writeFolders(dir, [folder('20300101000000_a', 'SELECT 1;\n')])).toEqual([]);
    writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    expect(await writeFolders(dir, [folder('20300101000002_c', 'SELECT 3;\n')])).toEqual(['20300101000002_c']);
    expect(readFileSync(path.join(dir, 'migration_lock.toml'), 'utf8')).toBe('provider = "postgresql"\n'); // an existing lockfile is kept
    const changed = writeFolders(dir, [folder('20300101000000_a', 'SELECT 99;\n')]);
    await expect(changed).rejects.toThrow(MigrationsDirError);
    await expect(changed).rejects.toThrow(`${path.join(dir, '20300101000000_a', 'migration.sql')}": its SQL differs from what the plan produces now`);
    expect(readFileSync(path.join(dir, '20300101000000_a', 'migration.sql'), 'utf8')).toBe('SELECT 1;\n');
    // An empty folder (a crash between mkdir and the write) is simply written; no temporary file stays.
    mkdirSync(path.join(dir, '20300101000003_d'));
    expect(await writeFolders(dir, [folder('20300101000003_d', 'SELECT 4;\n')])).toEqual(['20300101000003_d']);
    expect(readdirSync(path.join(dir, '20300101000003_d'))).toEqual(['migration.sql']);
  });

  it('renders the header with the unit\'s transactionality and its distinct locks', () => {
    const two = {
      kind: 'sql' as const,
      name: 'two',
      transactional: true,
      statements: [
        { sql: 'ALTER TABLE a ADD COLUMN b int', lock: 'ACCESS EXCLUSIVE' as const, scansData: false },
        { sql: 'ALTER TABLE a VALIDATE CONSTRAINT c', lock: 'SHARE UPDATE EXCLUSIVE' as const, scansData: true },
        { sql: 'ALTER TABLE a ADD COLUMN d int', lock: 'ACCESS EXCLUSIVE' as const, scansData: false },
      ],
    };
    expect(renderMigrationSql(two, 'x').split('\n').slice(1, 2)).toEqual(['-- runs in one transaction; locks: ACCESS EXCLUSIVE, SHARE UPDATE EXCLUSIVE (scans rows)']);
    expect(renderMigrationSql(unit, 'x').split('\n')[1]).toBe('-- runs in one transaction; locks: no lock on existing tables');
    expect(renderMigrationSql(two, 'x').endsWith('ALTER TABLE a VALIDATE CONSTRAINT c;\n\nALTER TABLE a ADD COLUMN d int;\n')).toBe(true);
  });

  it('slugs keep at most 48 characters and never end in an underscore', () => {
    expect(slug('A-B  c')).toBe('a_b_c');
    expect(slug(`${'x'.repeat(47)} y`)).toBe('x'.repeat(47));
    expect(slug('__lead and trail__')).toBe('lead_and_trail');
  });
});
