/**
 * Seed 000's "Database Migration and Optimization Plan" for the timetable platform, with prisma-evolve:
 * 1. `assignment_tables`: teacher_assignments and teacher_availability with the seed's CHECK constraints and
 *    foreign keys (new tables, so nothing existing is locked).
 * 2. `merge_assignments`: the four junction tables merged with the seed's DISTINCT ON rules (earliest row of a
 *    duplicated class assignment wins), reconciled to the row.
 * 3. `availability_from_json`: users.unavailable_days (day names in any spelling) into teacher_availability
 *    rows; documents that name no day go to the dead-letter table, never silently dropped.
 * 4. `performance_indexes`: the seed's indexes, concurrently, each in its own folder.
 * 5. `timetable_summary`: the materialized view with its unique index, refreshed CONCURRENTLY by
 *    `refreshTimetableSummary` when statement-level triggers on the tables it reads have marked it stale,
 *    instead of the seed's per-row trigger that refreshed the whole view on every row written.
 * Every phase rolls back (`pnpm migrate:phase rollback <phase> --config examples/timetable/plan.ts`).
 */
import {
  addCheck,
  addForeignKey,
  createIndex,
  createTable,
  dataStep,
  definePhase,
  definePlan,
  extractJson,
  mapColumns,
  mergeTables,
  rawSql,
  schemaStep,
  step,
  undoExtraction,
  verifyExtractionOn,
  verifySql,
  withClient,
  type ExtractDefinition,
  type ShapeSet,
} from '@prisma-evolve/core';
import { SUMMARY_SOURCES } from './refresh.js';
import { z } from 'zod';

/** Day names as the legacy data spells them, to the seed's day of week (Monday = 1 … Sunday = 7). */
export const SEED_DAYS: Readonly<Record<string, number>> = {
  mon: 1, monday: 1, tue: 2, tues: 2, tuesday: 2, wed: 3, wednesday: 3, thu: 4, thur: 4, thurs: 4, thursday: 4,
  fri: 5, friday: 5, sat: 6, saturday: 6, sun: 7, sunday: 7,
};

const dayName = z.string().transform((value, ctx): number => {
  const day = SEED_DAYS[value.trim().toLowerCase()];
  if (day === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown day "${value}"` });
    return z.NEVER;
  }
  return day;
});

/** `unavailable_days`: a list of day names; each day becomes one all-day UNAVAILABLE row (periods 1–10, as the seed does). */
export const unavailableDayShapes: ShapeSet<number> = {
  'list of day names': z.array(dayName).transform((days) => [...new Set(days)]),
};

const availability: ExtractDefinition<number> = {
  source: { table: 'users', column: 'unavailable_days', where: `t.role in ('TEACHER', 'TRAINER')` },
  target: { table: 'teacher_availability', parentKey: 'teacher_id', idColumn: 'id' },
  shapes: unavailableDayShapes,
  map: mapColumns((day: number) => ({ day_of_week: day, period_start: 1, period_end: 10, availability_type: 'UNAVAILABLE' }), [
    'day_of_week',
    'period_start',
    'period_end',
    'availability_type',
  ]),
};

const ASSIGNMENT_COLUMNS = ['teacher_id', 'school_id', 'class_id', 'subject_id', 'module_id', 'assignment_type', 'hours_per_week', 'created_at'];

/** The seed's phase 2 inserts, as merge sources (rank = the order the seed inserts them in). */
const MERGE_SOURCES = [
  {
    table: 'teacher_subjects',
    select: {
      teacher_id: 't.teacher_id', school_id: '(select u.school_id from users u where u.id = t.teacher_id)', class_id: 'null::uuid', subject_id: 't.subject_id',
      module_id: 'null::uuid', assignment_type: `'SUBJECT'`, hours_per_week: '(select s.periods_per_week from subjects s where s.id = t.subject_id)', created_at: 't.created_at',
    },
  },
  {
    table: 'teacher_class_subjects',
    select: {
      teacher_id: 't.teacher_id', school_id: 't.school_id', class_id: 't.class_id', subject_id: 't.subject_id', module_id: 'null::uuid',
      assignment_type: `'SUBJECT'`, hours_per_week: '(select s.periods_per_week from subjects s where s.id = t.subject_id)', created_at: 't.created_at',
    },
  },
  {
    table: 'trainer_modules',
    select: {
      teacher_id: 't.trainer_id', school_id: '(select u.school_id from users u where u.id = t.trainer_id)', class_id: 'null::uuid', subject_id: 'null::uuid',
      module_id: 't.module_id', assignment_type: `'MODULE'`, hours_per_week: '(select m.total_hours from modules m where m.id = t.module_id)', created_at: 't.created_at',
    },
  },
  {
    table: 'trainer_class_modules',
    select: {
      teacher_id: 't.trainer_id', school_id: 't.school_id', class_id: 't.class_id', subject_id: 'null::uuid', module_id: 't.module_id',
      assignment_type: `'MODULE'`, hours_per_week: '(select m.total_hours from modules m where m.id = t.module_id)', created_at: 't.created_at',
    },
  },
];

const assignmentTables = definePhase({
  name: 'assignment_tables',
  id: '01',
  description: 'teacher_assignments and teacher_availability, with the seed constraints',
  risk: 'low',
  steps: [
    schemaStep(
      'teacher_assignments',
      step(createTable, {
        table: 'teacher_assignments',
        columns: [
          { name: 'id', type: 'UUID', default: 'gen_random_uuid()' },
          { name: 'teacher_id', type: 'UUID', nullable: false },
          { name: 'school_id', type: 'UUID', nullable: false },
          { name: 'class_id', type: 'UUID' },
          { name: 'subject_id', type: 'UUID' },
          { name: 'module_id', type: 'UUID' },
          { name: 'assignment_type', type: 'VARCHAR(20)', nullable: false },
          { name: 'hours_per_week', type: 'INTEGER', default: '0' },
          { name: 'is_primary', type: 'BOOLEAN', default: 'false' },
          { name: 'created_at', type: 'TIMESTAMPTZ', default: 'now()' },
          { name: 'updated_at', type: 'TIMESTAMPTZ', default: 'now()' },
        ],
        primaryKey: ['id'],
      }),
    ),
    schemaStep('assignment_type_check', step(addCheck, { table: 'teacher_assignments', name: 'teacher_assignments_assignment_type_check', expression: `assignment_type IN ('SUBJECT', 'MODULE')` })),
    schemaStep(
      'valid_assignment',
      step(addCheck, {
        table: 'teacher_assignments',
        name: 'valid_assignment',
        expression: `(assignment_type = 'SUBJECT' AND subject_id IS NOT NULL AND module_id IS NULL) OR (assignment_type = 'MODULE' AND module_id IS NOT NULL AND subject_id IS NULL)`,
      }),
    ),
    // The seed's `UNIQUE (teacher_id, class_id, COALESCE(subject_id, module_id))` is not valid PostgreSQL (a
    // constraint cannot hold an expression): it is a unique index, and NULLS NOT DISTINCT makes a class-less
    // assignment unique too.
    schemaStep(
      'unique_teacher_class_assignment',
      step(rawSql, {
        name: 'unique_teacher_class_assignment',
        up: [`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS unique_teacher_class_assignment ON teacher_assignments (teacher_id, class_id, (COALESCE(subject_id, module_id))) NULLS NOT DISTINCT`],
        down: [`DROP INDEX CONCURRENTLY IF EXISTS unique_teacher_class_assignment`],
        transactional: false,
        lock: 'SHARE UPDATE EXCLUSIVE',
        scansData: true,
        verify: `select indisvalid and indisunique from pg_index where indexrelid = 'unique_teacher_class_assignment'::regclass`,
      }),
    ),
    ...(
      [
        ['teacher_id', 'users'],
        ['school_id', 'schools'],
        ['class_id', 'classes'],
        ['subject_id', 'subjects'],
        ['module_id', 'modules'],
      ] as const
    ).map(([column, parent]) =>
      schemaStep(`fk_${column}`, step(addForeignKey, { table: 'teacher_assignments', columns: [column], references: { table: parent, columns: ['id'] }, onDelete: 'CASCADE', index: false })),
    ),
    schemaStep(
      'teacher_availability',
      step(createTable, {
        table: 'teacher_availability',
        columns: [
          { name: 'id', type: 'TEXT' },
          { name: 'teacher_id', type: 'UUID', nullable: false },
          { name: 'day_of_week', type: 'INTEGER', nullable: false },
          { name: 'period_start', type: 'INTEGER', nullable: false },
          { name: 'period_end', type: 'INTEGER', nullable: false },
          { name: 'availability_type', type: 'VARCHAR(20)', nullable: false, default: `'AVAILABLE'` },
          { name: 'created_at', type: 'TIMESTAMPTZ', default: 'now()' },
        ],
        primaryKey: ['id'],
      }),
    ),
    ...(
      [
        ['day_of_week_check', 'day_of_week BETWEEN 1 AND 7'],
        ['period_start_check', 'period_start BETWEEN 1 AND 10'],
        ['period_end_check', 'period_end BETWEEN 1 AND 10'],
        ['availability_type_check', `availability_type IN ('AVAILABLE', 'UNAVAILABLE', 'PREFERRED', 'AVOID')`],
        ['valid_period_range', 'period_end >= period_start'],
      ] as const
    ).map(([name, expression]) => schemaStep(name, step(addCheck, { table: 'teacher_availability', name: name === 'valid_period_range' ? name : `teacher_availability_${name}`, expression }))),
    schemaStep('fk_availability_teacher', step(addForeignKey, { table: 'teacher_availability', columns: ['teacher_id'], references: { table: 'users', columns: ['id'] }, onDelete: 'CASCADE', index: false })),
  ],
});

const mergeAssignments = definePhase({
  name: 'merge_assignments',
  id: '02',
  description: 'four junction tables into teacher_assignments, duplicates collapsed, reconciled',
  risk: 'medium',
  dependsOn: ['assignment_tables'],
  steps: [
    dataStep(
      'merge',
      async (context) => {
        const report = await mergeTables({
          database: context.databaseUrl,
          target: { table: 'teacher_assignments', columns: ASSIGNMENT_COLUMNS },
          sources: MERGE_SOURCES,
          distinctOn: ['teacher_id', 'class_id', 'subject_id', 'module_id'],
          // Seed 000: DISTINCT ON (...) ORDER BY ..., created_at: the earliest of duplicated rows wins.
          orderBy: 'source_rank, created_at',
        });
        if (!report.balanced) throw new Error(`teacher_assignments merge does not balance: ${JSON.stringify(report)}`);
        return { processed: report.written, failed: 0, canceled: false, summary: { ...report } };
      },
      {
        description: 'merge teacher_subjects, teacher_class_subjects, trainer_modules, trainer_class_modules into teacher_assignments',
        down: async (context) => {
          await withClient(context.databaseUrl, (client) => client.query('delete from teacher_assignments'));
        },
      },
    ),
    verifySql(
      'merge_reconciles',
      `with keys as (
         select teacher_id, null::uuid as class_id, subject_id, null::uuid as module_id from teacher_subjects
         union select teacher_id, class_id, subject_id, null from teacher_class_subjects
         union select trainer_id, null, null, module_id from trainer_modules
         union select trainer_id, class_id, null, module_id from trainer_class_modules)
       select (select count(*) from keys) = (select count(*) from teacher_assignments) as ok,
              (select count(*) from teacher_assignments) || ' assignments for ' || (select count(*) from keys) || ' distinct source assignments' as detail`,
    ),
  ],
});

const availabilityFromJson = definePhase({
  name: 'availability_from_json',
  id: '03',
  description: 'users.unavailable_days into teacher_availability rows; unreadable documents recorded as dead letters',
  risk: 'medium',
  dependsOn: ['assignment_tables'],
  steps: [
    dataStep(
      'unavailable_days',
      async (context) => {
        const result = await extractJson<number>({ ...availability, database: context.databaseUrl, name: context.name, tracking: context.tracking, signal: context.signal, ...(context.onProgress ? { onProgress: context.onProgress } : {}) });
        return { processed: result.scanned, failed: result.invalid, canceled: result.status === 'canceled', summary: { children: result.children, invalid: result.invalid } };
      },
      {
        description: 'extract users.unavailable_days into teacher_availability',
        down: async (context) => {
          await undoExtraction({ database: context.databaseUrl, name: context.name, spec: availability, tracking: context.tracking });
        },
      },
    ),
    {
      kind: 'verify',
      name: 'availability_parity',
      async check(client) {
        const report = await verifyExtractionOn(client, availability);
        return [{ name: 'teacher_availability parity with users.unavailable_days', ok: report.ok, detail: `${report.children} rows of ${report.validDocuments} valid documents, ${report.invalidDocuments} invalid (dead letters), ${report.mismatchCount} mismatches` }];
      },
    },
  ],
});

/** Seed 000's "Strategic Indexing Plan" and phase 3 indexes (names as the seed gives them). */
const INDEXES: readonly { name: string; table: string; columns: string[]; where?: string }[] = [
  { name: 'idx_teacher_assignments_teacher', table: 'teacher_assignments', columns: ['teacher_id'] },
  { name: 'idx_teacher_assignments_school', table: 'teacher_assignments', columns: ['school_id'] },
  { name: 'idx_teacher_assignments_class', table: 'teacher_assignments', columns: ['class_id'] },
  { name: 'idx_teacher_assignments_type', table: 'teacher_assignments', columns: ['assignment_type'] },
  { name: 'idx_teacher_availability_teacher', table: 'teacher_availability', columns: ['teacher_id'] },
  { name: 'idx_teacher_availability_day', table: 'teacher_availability', columns: ['day_of_week'] },
  { name: 'idx_teacher_availability_period', table: 'teacher_availability', columns: ['period_start', 'period_end'] },
  { name: 'idx_timetables_school_class_period', table: 'timetables', columns: ['school_id', 'class_id', 'day', 'period'], where: 'school_id IS NOT NULL' },
  { name: 'idx_timetables_teacher_period', table: 'timetables', columns: ['teacher_id', 'day', 'period'] },
  { name: 'idx_users_school_role', table: 'users', columns: ['school_id', 'role'], where: `role IN ('TEACHER', 'TRAINER')` },
  { name: 'idx_time_slots_school_active', table: 'time_slots', columns: ['school_id', 'day', 'period'], where: 'is_active = true' },
  { name: 'idx_classes_school_level', table: 'classes', columns: ['school_id', 'level', 'stream'] },
  { name: 'idx_subjects_school_level', table: 'subjects', columns: ['school_id', 'level'] },
  { name: 'idx_modules_school_category', table: 'modules', columns: ['school_id', 'category', 'trade'] },
];

const performanceIndexes = definePhase({
  name: 'performance_indexes',
  id: '04',
  description: 'the seed indexes, built concurrently',
  risk: 'low',
  dependsOn: ['merge_assignments', 'availability_from_json'],
  steps: INDEXES.map((index) => schemaStep(index.name, step(createIndex, { table: index.table, columns: index.columns, name: index.name, ...(index.where ? { where: index.where } : {}) }))),
});

/** The seed's materialized view (time slots give day and period; only timetables with a school). */
const SUMMARY_SQL = `CREATE MATERIALIZED VIEW school_timetable_summary AS
SELECT t.id, t.school_id, t.class_id, c.name AS class_name, c.level, c.stream, t.teacher_id, u.name AS teacher_name, u.teaching_streams,
  CASE WHEN t.subject_id IS NOT NULL THEN 'SUBJECT' WHEN t.module_id IS NOT NULL THEN 'MODULE' END AS lesson_type,
  COALESCE(s.name, m.name) AS subject_module_name, ts.day, ts.period, ts.start_time, ts.end_time, ts.session
FROM timetables t
JOIN classes c ON t.class_id = c.id
JOIN users u ON t.teacher_id = u.id
LEFT JOIN subjects s ON t.subject_id = s.id
LEFT JOIN modules m ON t.module_id = m.id
JOIN time_slots ts ON t.time_slot_id = ts.id
WHERE t.school_id IS NOT NULL`;

const timetableSummary = definePhase({
  name: 'timetable_summary',
  id: '05',
  description: 'school_timetable_summary, refreshed concurrently when stale (statement-level trigger marks it), never per row',
  risk: 'low',
  dependsOn: ['performance_indexes'],
  steps: [
    // The stale marker first: a write while the view and its indexes are built marks it stale.
    schemaStep(
      'stale_marker',
      step(rawSql, {
        name: 'school_timetable_summary_stale',
        up: [
          `CREATE TABLE school_timetable_summary_state (id boolean PRIMARY KEY DEFAULT true CHECK (id), stale boolean NOT NULL DEFAULT false, changed_at timestamptz, refreshed_at timestamptz)`,
          `INSERT INTO school_timetable_summary_state (stale, refreshed_at) VALUES (false, now())`,
          `CREATE FUNCTION school_timetable_summary_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE school_timetable_summary_state SET stale = true, changed_at = now() WHERE NOT stale;
  RETURN NULL;
END $$`,
          // One cheap UPDATE per statement (and none while already stale), instead of a full refresh per row,
          // on every table the view reads.
          ...SUMMARY_SOURCES.map(
            (table) => `CREATE TRIGGER school_timetable_summary_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION school_timetable_summary_mark_stale()`,
          ),
        ],
        down: [
          ...SUMMARY_SOURCES.map((table) => `DROP TRIGGER IF EXISTS school_timetable_summary_stale ON ${table}`),
          'DROP FUNCTION IF EXISTS school_timetable_summary_mark_stale()',
          'DROP TABLE IF EXISTS school_timetable_summary_state',
        ],
        lock: 'SHARE ROW EXCLUSIVE',
        verify: `select count(*) = ${SUMMARY_SOURCES.length} from pg_trigger where tgname = 'school_timetable_summary_stale' and not tgisinternal`,
      }),
    ),
    schemaStep(
      'view',
      step(rawSql, {
        name: 'school_timetable_summary',
        // Building the view reads timetables (ACCESS SHARE there): writers go on. The view is new.
        up: [SUMMARY_SQL, 'CREATE UNIQUE INDEX school_timetable_summary_id_key ON school_timetable_summary (id)'],
        down: ['DROP MATERIALIZED VIEW IF EXISTS school_timetable_summary'],
        lock: 'ACCESS SHARE',
        scansData: true,
        verify: `select count(*) = 1 from pg_matviews where matviewname = 'school_timetable_summary' and ispopulated`,
      }),
    ),
    ...(['school_id', 'teacher_id', 'class_id'] as const).map((column) =>
      schemaStep(
        `view_${column}_index`,
        step(rawSql, {
          name: `school_timetable_summary_${column}`,
          up: [`CREATE INDEX CONCURRENTLY IF NOT EXISTS school_timetable_summary_${column}_day_period_idx ON school_timetable_summary (${column}, day, period)`],
          down: [`DROP INDEX CONCURRENTLY IF EXISTS school_timetable_summary_${column}_day_period_idx`],
          transactional: false,
          lock: 'SHARE UPDATE EXCLUSIVE',
          scansData: true,
          verify: `select indisvalid from pg_index where indexrelid = 'school_timetable_summary_${column}_day_period_idx'::regclass`,
        }),
      ),
    ),
    verifySql(
      'summary_matches_timetables',
      `select (select count(*) from school_timetable_summary) = (select count(*) from timetables t join time_slots ts on ts.id = t.time_slot_id
               join classes c on c.id = t.class_id join users u on u.id = t.teacher_id where t.school_id is not null) or (select stale from school_timetable_summary_state) as ok,
              (select count(*) from school_timetable_summary) || ' summary rows; stale: ' || (select stale from school_timetable_summary_state) as detail`,
    ),
  ],
});

/** The timetable plan (`pnpm migrate:phase … --config examples/timetable/plan.ts`). */
export const plan = definePlan({
  name: 'timetable',
  migrationsDir: './migrations',
  migrationPrefix: '20260301000000',
  phases: [assignmentTables, mergeAssignments, availabilityFromJson, performanceIndexes, timetableSummary],
});
