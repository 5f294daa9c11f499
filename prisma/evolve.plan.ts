/**
 * Seed 003's migration of the Scholarly platform, written with prisma-evolve: phases 1 (audit
 * infrastructure), 2 (reference tables), 3 (soft deletes), 4 (extracted models), 5 (unique constraints
 * after dedupe), 6 (composite indexes) and 7 (new feature models), with the seed's dependency graph. Phase ids are the seed's phase numbers, so folders of deployed phases
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
import { addressMap, availabilityMap, availabilityShapes, locationShapes, pricingMap, pricingShapes, voteMap, voteShapes } from './legacy-shapes.js';

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
  shapes: availabilityShapes,
  map: availabilityMap,
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
  description: 'one review per (content, reviewer) keeping the latest, one purchase per (content, buyer) keeping the first, one asset request per (tenant, requester, title) with the votes merged; then unique indexes',
  risk: 'medium',
  dependsOn: ['soft_deletes', 'extracted_models'],
  steps: [
    dedupeStep('dedupe_reviews', { table: 'ContentReview', columns: ['contentId', 'reviewerId'], keep: 'latest' }),
    schemaStep('review_key', step(addUnique, { table: 'ContentReview', columns: ['contentId', 'reviewerId'], constraint: false })),
    dedupeStep('dedupe_purchases', { table: 'ContentPurchase', columns: ['contentId', 'buyerId'], keep: 'earliest', orderColumn: 'purchasedAt' }),
    schemaStep('purchase_key', step(addUnique, { table: 'ContentPurchase', columns: ['contentId', 'buyerId'], constraint: false })),
    // "For learning asset requests, merge duplicates": the first request is kept and the copies' votes move to
    // it (a user who voted on two copies keeps one vote), instead of cascading away with the copies.
    dedupeStep('dedupe_asset_requests', { table: 'LearningAssetRequest', columns: ['tenantId', 'requesterId', 'title'], keep: 'earliest', children: 'repoint' }),
    schemaStep('asset_request_key', step(addUnique, { table: 'LearningAssetRequest', columns: ['tenantId', 'requesterId', 'title'], constraint: false })),
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

/**
 * A column of a new table: `TYPE!` is NOT NULL; the third element is the default (SQL). Pure.
 */
type NewColumn = readonly [name: string, type: string, defaultSql?: string];
function newTable(table: string, columns: readonly NewColumn[]): ReturnType<typeof step> {
  return step(createTable, {
    table,
    columns: columns.map(([name, type, defaultSql]) => ({
      name,
      type: type.replace(/!$/, ''),
      nullable: !type.endsWith('!'),
      ...(defaultSql === undefined ? {} : { default: defaultSql }),
    })),
    primaryKey: ['id'],
  });
}

const CREATED: NewColumn = ['createdAt', 'TIMESTAMP(3)!', 'CURRENT_TIMESTAMP'];
const UPDATED: NewColumn = ['updatedAt', 'TIMESTAMP(3)!'];
const TEXT_ARRAY = `ARRAY[]::TEXT[]`;

/** Seed 003 step 7.1–7.4: the new feature models (tables, their indexes and foreign keys), with nothing in them yet. */
const NEW_TABLES: Record<string, readonly NewColumn[]> = {
  EduScrumTeam: [
    ['id', 'TEXT!'], ['tenantId', 'TEXT!'], ['name', 'TEXT!'], ['description', 'TEXT'], ['scrumMasterId', 'TEXT!'], ['productOwnerId', 'TEXT'],
    ['memberIds', 'TEXT[]', TEXT_ARRAY], ['velocity', 'DOUBLE PRECISION!', '0'], ['maturityLevel', 'TEXT!', `'forming'`], ['healthScore', 'DOUBLE PRECISION!', '0'],
    ['sprintDuration', 'INTEGER!', '14'], ['standupSchedule', 'JSONB'], ['status', 'TEXT!', `'active'`], CREATED, UPDATED,
  ],
  EduScrumSprint: [
    ['id', 'TEXT!'], ['tenantId', 'TEXT!'], ['teamId', 'TEXT!'], ['name', 'TEXT!'], ['goal', 'TEXT!'], ['sprintNumber', 'INTEGER!'],
    ['startDate', 'TIMESTAMP(3)!'], ['endDate', 'TIMESTAMP(3)!'], ['backlogItems', 'JSONB!', `'[]'`], ['totalStoryPoints', 'INTEGER!', '0'],
    ['completedPoints', 'INTEGER!', '0'], ['standups', 'JSONB!', `'[]'`], ['burndownData', 'JSONB!', `'[]'`], ['aiInsights', 'JSONB'],
    ['status', 'TEXT!', `'planning'`], CREATED, UPDATED,
  ],
  EduScrumRetrospective: [
    ['id', 'TEXT!'], ['tenantId', 'TEXT!'], ['teamId', 'TEXT!'], ['sprintId', 'TEXT'], ['wentWell', 'JSONB!', `'[]'`], ['toImprove', 'JSONB!', `'[]'`],
    ['actionItems', 'JSONB!', `'[]'`], ['participantIds', 'TEXT[]', TEXT_ARRAY], ['facilitatorId', 'TEXT!'], ['aiSummary', 'TEXT'],
    ['aiRecommendations', 'JSONB!', `'[]'`], ['teamDynamicsScore', 'DOUBLE PRECISION'], ['conductedAt', 'TIMESTAMP(3)!', 'CURRENT_TIMESTAMP'], CREATED,
  ],
  Notification: [
    ['id', 'TEXT!'], ['tenantId', 'TEXT!'], ['userId', 'TEXT!'], ['type', 'TEXT!'], ['title', 'TEXT!'], ['body', 'TEXT!'], ['data', 'JSONB'],
    ['channels', 'TEXT[]', `ARRAY['in_app']::TEXT[]`], ['priority', 'TEXT!', `'normal'`], ['inAppStatus', 'TEXT!', `'unread'`], ['emailStatus', 'TEXT'],
    ['smsStatus', 'TEXT'], ['pushStatus', 'TEXT'], ['scheduledFor', 'TIMESTAMP(3)'], ['sentAt', 'TIMESTAMP(3)'], ['readAt', 'TIMESTAMP(3)'],
    ['groupKey', 'TEXT'], CREATED,
  ],
  NotificationPreference: [
    ['id', 'TEXT!'], ['tenantId', 'TEXT!'], ['userId', 'TEXT!'], ['emailEnabled', 'BOOLEAN!', 'true'], ['smsEnabled', 'BOOLEAN!', 'false'],
    ['pushEnabled', 'BOOLEAN!', 'true'], ['inAppEnabled', 'BOOLEAN!', 'true'], ['categoryPreferences', 'JSONB!', `'{}'`],
    ['quietHoursEnabled', 'BOOLEAN!', 'false'], ['quietHoursStart', 'TEXT'], ['quietHoursEnd', 'TEXT'], ['timezone', 'TEXT!', `'Australia/Sydney'`],
    ['digestEnabled', 'BOOLEAN!', 'false'], ['digestFrequency', 'TEXT'], ['digestTime', 'TEXT'], CREATED, UPDATED,
  ],
  AnalyticsEvent: [
    ['id', 'TEXT!'], ['tenantId', 'TEXT!'], ['eventType', 'TEXT!'], ['eventName', 'TEXT!'], ['userId', 'TEXT'], ['sessionId', 'TEXT'],
    ['entityType', 'TEXT'], ['entityId', 'TEXT'], ['properties', 'JSONB!', `'{}'`], ['deviceType', 'TEXT'], ['browser', 'TEXT'], ['os', 'TEXT'],
    ['country', 'TEXT'], ['region', 'TEXT'], ['timestamp', 'TIMESTAMP(3)!', 'CURRENT_TIMESTAMP'],
  ],
  FeatureFlag: [
    ['id', 'TEXT!'], ['key', 'TEXT!'], ['name', 'TEXT!'], ['description', 'TEXT'], ['isEnabled', 'BOOLEAN!', 'false'], ['rules', 'JSONB!', `'[]'`],
    ['rolloutPercentage', 'INTEGER!', '0'], ['category', 'TEXT'], ['owner', 'TEXT'], CREATED, UPDATED,
  ],
  TenantConfiguration: [
    ['id', 'TEXT!'], ['tenantId', 'TEXT!'], ['branding', 'JSONB!', `'{}'`], ['enabledFeatures', 'TEXT[]', TEXT_ARRAY], ['disabledFeatures', 'TEXT[]', TEXT_ARRAY],
    ['limits', 'JSONB!', `'{}'`], ['integrations', 'JSONB!', `'{}'`], ['dataRetentionDays', 'INTEGER!', '2555'], ['gdprEnabled', 'BOOLEAN!', 'true'],
    ['billingPlan', 'TEXT!', `'free'`], ['billingCycle', 'TEXT!', `'monthly'`], CREATED, UPDATED,
  ],
};

/** The new models' indexes as the seed names them (Prisma's names); `unique` ones are the seed's unique indexes. */
const NEW_INDEXES: readonly { table: string; columns: string[]; unique?: true }[] = [
  { table: 'EduScrumTeam', columns: ['tenantId'] },
  { table: 'EduScrumTeam', columns: ['tenantId', 'status'] },
  { table: 'EduScrumSprint', columns: ['teamId', 'sprintNumber'], unique: true },
  { table: 'EduScrumSprint', columns: ['tenantId'] },
  { table: 'EduScrumSprint', columns: ['teamId'] },
  { table: 'EduScrumRetrospective', columns: ['tenantId'] },
  { table: 'EduScrumRetrospective', columns: ['teamId'] },
  { table: 'Notification', columns: ['tenantId', 'userId'] },
  { table: 'Notification', columns: ['userId', 'inAppStatus'] },
  { table: 'Notification', columns: ['userId', 'createdAt'] },
  { table: 'Notification', columns: ['type'] },
  { table: 'Notification', columns: ['scheduledFor'] },
  { table: 'NotificationPreference', columns: ['tenantId', 'userId'], unique: true },
  { table: 'AnalyticsEvent', columns: ['tenantId', 'timestamp'] },
  { table: 'AnalyticsEvent', columns: ['tenantId', 'eventType', 'timestamp'] },
  { table: 'AnalyticsEvent', columns: ['tenantId', 'userId', 'timestamp'] },
  { table: 'AnalyticsEvent', columns: ['entityType', 'entityId'] },
  { table: 'FeatureFlag', columns: ['key'], unique: true },
  { table: 'FeatureFlag', columns: ['isEnabled'] },
  { table: 'FeatureFlag', columns: ['category'] },
  { table: 'TenantConfiguration', columns: ['tenantId'], unique: true },
  { table: 'TenantConfiguration', columns: ['billingPlan'] },
];

/** The seed's step names for the dashboard: which tables each of 7.1–7.4 adds. */
const NEW_FEATURE_GROUPS = {
  eduscrum_models: ['EduScrumTeam', 'EduScrumSprint', 'EduScrumRetrospective'],
  notification_models: ['Notification', 'NotificationPreference'],
  analytics_models: ['AnalyticsEvent'],
  feature_flags: ['FeatureFlag', 'TenantConfiguration'],
} as const;

const newFeatureModels = definePhase({
  name: 'new_feature_models',
  id: '07',
  description: 'EduScrum, notifications, analytics and feature flags: new tables only, so nothing existing is locked',
  risk: 'low',
  dependsOn: ['composite_indexes'],
  steps: [
    ...Object.entries(NEW_TABLES).map(([table, columns]) => schemaStep(`table_${table}`, newTable(table, columns))),
    ...NEW_INDEXES.map((index) =>
      schemaStep(`index_${index.table}_${index.columns.join('_')}`, step(createIndex, { table: index.table, columns: index.columns, unique: index.unique ?? false })),
    ),
    ...(['EduScrumSprint', 'EduScrumRetrospective'] as const).map((table) =>
      schemaStep(
        `fk_${table}_team`,
        step(addForeignKey, { table, columns: ['teamId'], references: { table: 'EduScrumTeam', columns: ['id'] }, onDelete: 'CASCADE', onUpdate: 'CASCADE', index: false }),
      ),
    ),
    ...Object.entries(NEW_FEATURE_GROUPS).map(([group, tables]) =>
      verifySql(
        group,
        `select count(*) = ${tables.length} as ok, count(*) || ' of ${tables.length} tables (${tables.join(', ')})' as detail
         from information_schema.tables where table_schema = 'public' and table_name in (${tables.map((t) => `'${t}'`).join(', ')})`,
      ),
    ),
    verifySql(
      'new_indexes_valid',
      `select count(*) = ${NEW_INDEXES.length} and bool_and(i.indisvalid) as ok, count(*) || ' of ${NEW_INDEXES.length} indexes of the new models, all valid: ' || coalesce(bool_and(i.indisvalid), false) as detail
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_class t on t.oid = i.indrelid
       where t.relname in (${Object.keys(NEW_TABLES).map((t) => `'${t}'`).join(', ')}) and not i.indisprimary`,
    ),
  ],
});

/** The plan `pnpm migrate:phase` runs (its default `--config`). */
export const plan = definePlan({
  name: 'scholarly',
  migrationsDir: './migrations',
  migrationPrefix: '20260301000000',
  phases: [auditInfrastructure, referenceTables, softDeletes, extractedModels, uniqueConstraints, compositeIndexes, newFeatureModels],
});
