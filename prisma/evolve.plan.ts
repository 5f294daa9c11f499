/**
 * Seed 003's migration of the Scholarly platform, written with prisma-evolve. This file holds phases 1
 * (audit infrastructure), 3 (soft deletes) and 6 (composite indexes); phases 2, 4, 5 and 7 follow with the
 * extraction work. Phase ids are the seed's phase numbers, so folders of deployed phases keep their names
 * when the missing phases are inserted.
 *
 *   pnpm migrate:phase plan soft_deletes      # SQL, locks and prechecks, nothing changed
 *   pnpm migrate:phase run --all              # writes prisma/migrations/20260301000000_* and applies them
 *
 * Progress is tracked in the `_evolve."DataMigration"` table (seed 003's columns).
 */
import {
  addSoftDelete,
  createIndex,
  createTable,
  definePhase,
  definePlan,
  schemaStep,
  step,
  verifySql,
} from '@prisma-evolve/core';

const auditInfrastructure = definePhase({
  name: 'audit_infrastructure',
  id: '01',
  description: 'AuditLog table for compliance tracking, with its indexes',
  risk: 'low',
  steps: [
    schemaStep(
      'audit_log_table',
      step(createTable, {
        table: 'AuditLog',
        columns: [
          { name: 'id', type: 'TEXT' },
          { name: 'tenantId', type: 'TEXT', nullable: false },
          { name: 'userId', type: 'TEXT' },
          { name: 'userEmail', type: 'TEXT' },
          { name: 'userRole', type: 'TEXT' },
          { name: 'action', type: 'TEXT', nullable: false },
          { name: 'entityType', type: 'TEXT', nullable: false },
          { name: 'entityId', type: 'TEXT', nullable: false },
          { name: 'changes', type: 'JSONB' },
          { name: 'metadata', type: 'JSONB' },
          { name: 'ipAddress', type: 'TEXT' },
          { name: 'userAgent', type: 'TEXT' },
          { name: 'requestId', type: 'TEXT' },
          { name: 'sensitivity', type: 'TEXT', nullable: false, default: `'normal'` },
          { name: 'timestamp', type: 'TIMESTAMP(3)', nullable: false, default: 'CURRENT_TIMESTAMP' },
        ],
        primaryKey: ['id'],
      }),
    ),
    schemaStep('audit_tenant_time', step(createIndex, { table: 'AuditLog', columns: ['tenantId', 'timestamp'] })),
    schemaStep('audit_entity', step(createIndex, { table: 'AuditLog', columns: ['tenantId', 'entityType', 'entityId'] })),
    schemaStep('audit_user_time', step(createIndex, { table: 'AuditLog', columns: ['tenantId', 'userId', 'timestamp'] })),
    schemaStep('audit_action_time', step(createIndex, { table: 'AuditLog', columns: ['tenantId', 'action', 'timestamp'] })),
    schemaStep('audit_sensitivity_time', step(createIndex, { table: 'AuditLog', columns: ['sensitivity', 'timestamp'] })),
  ],
});

/** Seed 003 step 3.1: the entities that get a `deletedAt`. */
const SOFT_DELETE_TABLES = ['Tenant', 'User', 'TutorProfile', 'Content', 'HomeschoolFamily', 'HomeschoolCoop', 'MicroSchool', 'ReliefTeacher'] as const;

/** Uniques that must ignore soft-deleted rows, so a deleted user's email can sign up again. */
const PARTIAL_UNIQUES: Partial<Record<(typeof SOFT_DELETE_TABLES)[number], { name: string; columns: string[] }[]>> = {
  Tenant: [{ name: 'Tenant_slug_key', columns: ['slug'] }],
  User: [{ name: 'User_email_key', columns: ['email'] }],
};

const softDeletes = definePhase({
  name: 'soft_deletes',
  id: '03',
  description: 'deletedAt columns (instant) and their indexes (concurrently); uniques become partial',
  risk: 'low',
  dependsOn: ['audit_infrastructure'],
  steps: [
    ...SOFT_DELETE_TABLES.map((table) =>
      schemaStep(`soft_delete_${table}`, step(addSoftDelete, { table, partialUniques: PARTIAL_UNIQUES[table] ?? [] })),
    ),
    verifySql(
      'deleted_at_everywhere',
      `select count(*) = ${SOFT_DELETE_TABLES.length} as ok, count(*) || ' of ${SOFT_DELETE_TABLES.length} tables have "deletedAt"' as detail
       from information_schema.columns where table_schema = 'public' and column_name = 'deletedAt'
         and table_name in (${SOFT_DELETE_TABLES.map((t) => `'${t}'`).join(', ')})`,
    ),
  ],
});

const compositeIndexes = definePhase({
  name: 'composite_indexes',
  id: '06',
  description: 'composite indexes for the hot queries, built concurrently',
  risk: 'low',
  dependsOn: ['soft_deletes'],
  steps: [
    schemaStep('booking_tutor_schedule', step(createIndex, { table: 'Booking', columns: ['tutorId', 'scheduledStart'] })),
    schemaStep('booking_tenant_status', step(createIndex, { table: 'Booking', columns: ['tenantId', 'status', 'scheduledStart'] })),
    schemaStep('session_tutor_schedule', step(createIndex, { table: 'TutoringSession', columns: ['tutorProfileId', 'scheduledStart', 'status'] })),
    schemaStep(
      'content_marketplace',
      step(createIndex, { table: 'Content', columns: ['tenantId', 'status'], name: 'Content_tenantId_status_subjects_idx', where: `"subjects" IS NOT NULL` }),
    ),
    schemaStep('absence_dashboard', step(createIndex, { table: 'TeacherAbsence', columns: ['tenantId', 'date', 'status'] })),
    schemaStep('token_reports', step(createIndex, { table: 'TokenTransaction', columns: ['tenantId', 'type', 'createdAt'] })),
    schemaStep('relief_by_date', step(createIndex, { table: 'ReliefBooking', columns: ['tenantId', 'date'] })),
    verifySql(
      'indexes_valid',
      `select bool_and(i.indisvalid) and count(*) = 7 as ok, count(*) || ' composite indexes, all valid: ' || bool_and(i.indisvalid) as detail
       from pg_index i join pg_class c on c.oid = i.indexrelid
       where c.relname in ('Booking_tutorId_scheduledStart_idx', 'Booking_tenantId_status_scheduledStart_idx',
         'TutoringSession_tutorProfileId_scheduledStart_status_idx', 'Content_tenantId_status_subjects_idx',
         'TeacherAbsence_tenantId_date_status_idx', 'TokenTransaction_tenantId_type_createdAt_idx', 'ReliefBooking_tenantId_date_idx')`,
    ),
  ],
});

/** The plan `pnpm migrate:phase` runs (its default `--config`). */
export const plan = definePlan({
  name: 'scholarly',
  migrationsDir: './migrations',
  migrationPrefix: '20260301000000',
  phases: [auditInfrastructure, softDeletes, compositeIndexes],
});
