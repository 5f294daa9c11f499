import { describe, expect, it } from '@jest/globals';
import { catalogOf } from '../operations/fixtures/catalog-fixture.js';
import { createIndex } from '../operations/create-index.js';
import { setNotNull } from '../operations/set-not-null.js';
import { folderName, renderMigrationSql, slug } from './migration-folders.js';

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
    expect(sql.split('\n').filter((line) => !line.startsWith('--'))).toEqual(['SELECT 1;', '']);
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
