/**
 * Seed 003's migration of the Scholarly platform, written with prisma-evolve: phases 1 (audit
 * infrastructure), 2 (reference tables), 3 (soft deletes), 4 (extracted models), 5 (unique constraints
 * after dedupe) and 6 (composite indexes), with the seed's dependency graph; phase 7 (new feature models)
 * comes with the end-to-end work. Phase ids are the seed's phase numbers, so folders of deployed phases
 * keep their names when a phase is inserted.
 *
 *   pnpm migrate:phase plan soft_deletes      # SQL, locks and prechecks, nothing changed
 *   pnpm migrate:phase run --all              # writes prisma/migrations/20260301000000_* and applies them
 *
 * Progress is tracked in the `_evolve."DataMigration"` table (seed 003's columns).
 */
import {
  addColumn,
  addForeignKey,
  addSoftDelete,
  addUnique,
  backfillStep,
  createIndex,
  createTable,
  dataStep,
  dedupe,
  definePhase,
  definePlan,
  extractJson,
  extractReferenceRows,
  schemaStep,
  step,
  undoDedupe,
  verifyExtractionOn,
  verifySql,
  type DedupeOptions,
  type ExtractDefinition,
  type VerifyStepDefinition,
} from '@prisma-evolve/core';
import { SUBJECT_CODE, subjectReferenceSources } from './legacy-reference.js';
import { addressMap, availabilityFast, locationShapes, pricingMap, pricingShapes, voteMap, voteShapes } from './legacy-shapes.js';

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
  dependsOn: ['reference_tables'],
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

/** Seed 003 phase 2: Subject rows from the legacy subject strings, and foreign keys to them. */
const referenceTables = definePhase({
  name: 'reference_tables',
  id: '02',
  description: 'Subject reference table from Booking/TutoringSession codes and Content subjects; FK columns backfilled (>= 95%)',
  risk: 'medium',
  dependsOn: ['audit_infrastructure'],
  steps: [
    schemaStep(
      'subject_table',
      step(createTable, {
        table: 'Subject',
        columns: [
          { name: 'id', type: 'TEXT' },
          { name: 'tenantId', type: 'TEXT', nullable: false },
          { name: 'code', type: 'TEXT', nullable: false },
          { name: 'name', type: 'TEXT', nullable: false },
          { name: 'description', type: 'TEXT' },
          { name: 'learningArea', type: 'TEXT' },
          { name: 'isActive', type: 'BOOLEAN', nullable: false, default: 'true' },
          { name: 'createdAt', type: 'TIMESTAMP(3)', nullable: false, default: 'CURRENT_TIMESTAMP' },
          { name: 'updatedAt', type: 'TIMESTAMP(3)', nullable: false },
        ],
        primaryKey: ['id'],
      }),
    ),
    schemaStep('subject_key', step(addUnique, { table: 'Subject', columns: ['tenantId', 'code'], constraint: false })),
    dataStep(
      'subject_rows',
      async (context) => {
        const report = await extractReferenceRows({
          database: context.databaseUrl,
          // A subject no source names takes its code as name (after the rows with a name were preferred).
          target: { table: 'Subject', idColumn: 'id', key: ['tenantId', 'code'], columns: ['name'], defaults: { name: '"code"' }, fixed: { updatedAt: 'now()' } },
          sources: subjectReferenceSources,
        });
        return { processed: report.distinctKeys, failed: 0, canceled: false, summary: report };
      },
      { description: 'Subject rows from the distinct normalised subject strings' },
    ),
    schemaStep('tenant_fk', step(addForeignKey, { table: 'Subject', columns: ['tenantId'], references: { table: 'Tenant', columns: ['id'] }, onDelete: 'CASCADE', index: false })),
    ...(['Booking', 'TutoringSession'] as const).flatMap((table) => [
      schemaStep(`${table}_subject_column`, step(addColumn, { table, column: 'subjectRefId', type: 'TEXT' })),
      backfillStep(`${table}_subject_refs`, {
        table,
        set: { subjectRefId: 's.id' },
        join: [{ table: 'Subject', alias: 's', on: `s."tenantId" = t."tenantId" and s.code = ${SUBJECT_CODE('t."subjectId"')}` }],
        where: `t."subjectRefId" is null and t."subjectId" is not null`,
        // Seed 003: only proceed if more than 95% migrated; the rest is listed with sample keys.
        coverage: { satisfied: `t."subjectId" is null or t."subjectRefId" is not null`, threshold: 0.95 },
      }),
      schemaStep(`${table}_subject_fk`, step(addForeignKey, { table, columns: ['subjectRefId'], references: { table: 'Subject', columns: ['id'] }, onDelete: 'SET NULL' })),
    ]),
  ],
});

/** An extraction as a data step, with its rollback (children removed) and its parity check. */
function extraction<Element>(name: string, definition: ExtractDefinition<Element>): { run: ReturnType<typeof dataStep>; check: VerifyStepDefinition } {
  return {
    run: dataStep(
      name,
      async (context) => {
        const result = await extractJson<Element>({ ...definition, database: context.databaseUrl, name: context.name, tracking: context.tracking, signal: context.signal, ...(context.onProgress ? { onProgress: context.onProgress } : {}) });
        return { processed: result.scanned, failed: result.invalid, canceled: result.status === 'canceled', summary: { children: result.children, invalid: result.invalid } };
      },
      { description: `extract ${definition.source.table}.${definition.source.column} into ${definition.target.table}` },
    ),
    check: {
      kind: 'verify',
      name: `${name}_parity`,
      async check(client) {
        const report = await verifyExtractionOn(client, definition);
        return [{ name: `${definition.target.table} parity with ${definition.source.table}.${definition.source.column}`, ok: report.ok, detail: `${report.children} children of ${report.validDocuments} valid documents, ${report.invalidDocuments} invalid (dead letters), ${report.mismatchCount} mismatches` }];
      },
    },
  };
}

const child = (table: string, columns: { name: string; type: string; nullable?: boolean; default?: string }[]) =>
  schemaStep(
    `${table}_table`,
    step(createTable, {
      table,
      columns: [{ name: 'id', type: 'TEXT' }, ...columns, { name: 'createdAt', type: 'TIMESTAMP(3)', nullable: false, default: 'CURRENT_TIMESTAMP' }, { name: 'updatedAt', type: 'TIMESTAMP(3)', nullable: false, default: 'CURRENT_TIMESTAMP' }],
      primaryKey: ['id'],
    }),
  );

const availability = extraction('availability_slots', {
  source: { table: 'TutorProfile', column: 'availability' },
  target: { table: 'TutorAvailabilitySlot', parentKey: 'profileId', idColumn: 'id' },
  fast: availabilityFast,
});
const pricing = extraction('pricing_tiers', {
  source: { table: 'TutorProfile', column: 'pricing' },
  // One tier per (session type, duration) within a profile, as the unique key requires.
  target: { table: 'TutorPricingTier', parentKey: 'profileId', idColumn: 'id', distinctOn: ['sessionType', 'duration'] },
  shapes: pricingShapes,
  map: pricingMap,
});
const votes = extraction('asset_votes', {
  source: { table: 'LearningAssetRequest', column: 'votes' },
  target: { table: 'LearningAssetVote', parentKey: 'requestId', idColumn: 'id', distinctOn: ['userId'] },
  shapes: voteShapes,
  map: voteMap,
});
const ADDRESS_PARENTS = [['HomeschoolFamily', 'homeschoolFamilyId'], ['MicroSchool', 'microSchoolId'], ['HomeschoolCoop', 'homeschoolCoopId']] as const;
const addresses = ADDRESS_PARENTS.map(([table, parentKey]) =>
  extraction(`addresses_${table}`, {
    source: { table, column: 'location', select: ['tenantId'] },
    target: { table: 'Address', parentKey, idColumn: 'id' },
    shapes: locationShapes,
    map: addressMap,
  }),
);

/** Seed 003 phase 4: availability, pricing, votes and addresses moved out of JSON into tables. */
const extractedModels = definePhase({
  name: 'extracted_models',
  id: '04',
  description: 'JSON documents into child tables; malformed documents kept as dead letters; parity verified',
  risk: 'high',
  dependsOn: ['reference_tables'],
  steps: [
    child('TutorAvailabilitySlot', [
      { name: 'profileId', type: 'TEXT', nullable: false },
      { name: 'dayOfWeek', type: 'INTEGER', nullable: false },
      { name: 'startTime', type: 'TEXT', nullable: false },
      { name: 'endTime', type: 'TEXT', nullable: false },
      { name: 'timezone', type: 'TEXT', nullable: false, default: `'Australia/Sydney'` },
      { name: 'isRecurring', type: 'BOOLEAN', nullable: false, default: 'true' },
    ]),
    child('TutorPricingTier', [
      { name: 'profileId', type: 'TEXT', nullable: false },
      { name: 'sessionType', type: 'TEXT', nullable: false },
      { name: 'duration', type: 'INTEGER', nullable: false },
      { name: 'baseRate', type: 'DOUBLE PRECISION', nullable: false },
      { name: 'currency', type: 'TEXT', nullable: false, default: `'AUD'` },
      { name: 'groupDiscount', type: 'DOUBLE PRECISION', nullable: false, default: '0' },
      { name: 'maxGroupSize', type: 'INTEGER', nullable: false, default: '1' },
    ]),
    child('LearningAssetVote', [
      { name: 'requestId', type: 'TEXT', nullable: false },
      { name: 'userId', type: 'TEXT', nullable: false },
    ]),
    child('Address', [
      { name: 'tenantId', type: 'TEXT', nullable: false },
      { name: 'streetAddress', type: 'TEXT' },
      { name: 'suburb', type: 'TEXT' },
      { name: 'city', type: 'TEXT' },
      { name: 'state', type: 'TEXT' },
      { name: 'postcode', type: 'TEXT' },
      { name: 'country', type: 'TEXT', nullable: false, default: `'Australia'` },
      { name: 'latitude', type: 'DOUBLE PRECISION' },
      { name: 'longitude', type: 'DOUBLE PRECISION' },
      { name: 'homeschoolFamilyId', type: 'TEXT' },
      { name: 'microSchoolId', type: 'TEXT' },
      { name: 'homeschoolCoopId', type: 'TEXT' },
    ]),
    schemaStep('slot_profile_index', step(createIndex, { table: 'TutorAvailabilitySlot', columns: ['profileId', 'dayOfWeek'] })),
    schemaStep('tier_key', step(addUnique, { table: 'TutorPricingTier', columns: ['profileId', 'sessionType', 'duration'], constraint: false })),
    schemaStep('vote_key', step(addUnique, { table: 'LearningAssetVote', columns: ['requestId', 'userId'], constraint: false })),
    ...ADDRESS_PARENTS.map(([, parentKey]) => schemaStep(`address_${parentKey}_key`, step(addUnique, { table: 'Address', columns: [parentKey], constraint: false }))),
    availability.run,
    pricing.run,
    votes.run,
    ...addresses.map((a) => a.run),
    schemaStep('slot_profile_fk', step(addForeignKey, { table: 'TutorAvailabilitySlot', columns: ['profileId'], references: { table: 'TutorProfile', columns: ['id'] }, onDelete: 'CASCADE', index: false })),
    schemaStep('tier_profile_fk', step(addForeignKey, { table: 'TutorPricingTier', columns: ['profileId'], references: { table: 'TutorProfile', columns: ['id'] }, onDelete: 'CASCADE' })),
    schemaStep('vote_request_fk', step(addForeignKey, { table: 'LearningAssetVote', columns: ['requestId'], references: { table: 'LearningAssetRequest', columns: ['id'] }, onDelete: 'CASCADE', index: false })),
    // Votes by users that no longer exist: deleted after a backup (seed 003 had no answer for them).
    schemaStep('vote_user_fk', step(addForeignKey, { table: 'LearningAssetVote', columns: ['userId'], references: { table: 'User', columns: ['id'] }, onDelete: 'CASCADE', orphans: 'delete' })),
    ...ADDRESS_PARENTS.map(([parent, parentKey]) =>
      schemaStep(`address_${parentKey}_fk`, step(addForeignKey, { table: 'Address', columns: [parentKey], references: { table: parent, columns: ['id'] }, onDelete: 'CASCADE', index: false })),
    ),
    availability.check,
    pricing.check,
    ...addresses.map((a) => a.check),
  ],
});

/** A dedupe as a data step whose rollback puts the deleted rows back. */
function dedupeStep(name: string, options: Omit<DedupeOptions, 'database'>): ReturnType<typeof dataStep> {
  return dataStep(
    name,
    async (context) => {
      const result = await dedupe({ ...options, database: context.databaseUrl, signal: context.signal });
      return { processed: result.deleted, failed: 0, canceled: result.canceled, summary: result };
    },
    { description: `dedupe "${options.table}" on (${options.columns.join(', ')})`, down: async (context) => void (await undoDedupe({ ...options, database: context.databaseUrl })) },
  );
}

/** Seed 003 phase 5: duplicates removed (backed up), then the unique indexes built concurrently. */
const uniqueConstraints = definePhase({
  name: 'unique_constraints',
  id: '05',
  description: 'one review per (content, reviewer) keeping the latest, one purchase per (content, buyer) keeping the first; then unique indexes',
  risk: 'medium',
  dependsOn: ['soft_deletes', 'extracted_models'],
  steps: [
    dedupeStep('dedupe_reviews', { table: 'ContentReview', columns: ['contentId', 'reviewerId'], keep: 'latest' }),
    schemaStep('review_key', step(addUnique, { table: 'ContentReview', columns: ['contentId', 'reviewerId'], constraint: false })),
    dedupeStep('dedupe_purchases', { table: 'ContentPurchase', columns: ['contentId', 'buyerId'], keep: 'earliest', orderColumn: 'purchasedAt' }),
    schemaStep('purchase_key', step(addUnique, { table: 'ContentPurchase', columns: ['contentId', 'buyerId'], constraint: false })),
  ],
});

const compositeIndexes = definePhase({
  name: 'composite_indexes',
  id: '06',
  description: 'composite indexes for the hot queries, built concurrently',
  risk: 'low',
  dependsOn: ['unique_constraints'],
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
  phases: [auditInfrastructure, referenceTables, softDeletes, extractedModels, uniqueConstraints, compositeIndexes],
});
