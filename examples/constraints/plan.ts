/**
 * Seed 002 (StrellerMinds): foreign keys, CHECK constraints and partial/GIN indexes added to a live LMS
 * whose data breaks them. Every defect is reported first (the operations' prechecks) and handled by a
 * choice written here, never silently:
 * - orphans: modules of deleted courses and progress of deleted users are deleted (backed up first);
 *   courses of deleted instructors keep existing with no instructor (nulled, backed up);
 * - negative prices become 0 and ratings above 5 become 5, each change backed up and undone by rollback;
 * - malformed emails are not rewritten: the email CHECK is enforced for new and updated rows only
 *   (NOT VALID), and the existing offenders are listed by a verify step for a human to fix.
 */
import {
  addCheck,
  addForeignKey,
  createIndex,
  dataStep,
  definePhase,
  definePlan,
  inBatchTransaction,
  quoteIdent,
  quoteQualified,
  rawSql,
  schemaStep,
  sqlExpression,
  step,
  verifySql,
  withClient,
  type DataStepDefinition,
} from '@prisma-evolve/core';
import type pg from 'pg';

/** Seed 002's email pattern. */
export const EMAIL_PATTERN = `'^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$'`;

/**
 * A data repair chosen for rows that violate a coming CHECK: `column` of the rows matching `violating` is set
 * to `fix`, after copying key, old and new value to `_evolve."repair_<table>_<column>"` (outside Prisma's
 * schema, so no drift). One transaction (small sets of rows; use a backfillStep for millions).
 * - Idempotent: a re-run fixes only what is still violating; a key already backed up keeps its first old value.
 * - Rollback writes an old value back only where the column still holds the value the repair wrote, so a later
 *   correction by a user is never overwritten; then it drops the backup.
 * Give the CHECK's step `requires: [<this step's name>]`: its folder then refuses to deploy while violations remain.
 */
export function repairStep(name: string, options: { table: string; column: string; violating: string; fix: string }): DataStepDefinition {
  const table = quoteIdent(options.table);
  const column = quoteIdent(options.column);
  const backup = quoteQualified('_evolve', `repair_${options.table}_${options.column}`);
  // lock_timeout 2 s, no statement timeout.
  const inTransaction = (databaseUrl: string, work: (client: pg.Client) => Promise<number>): Promise<number> =>
    withClient(databaseUrl, (client) => inBatchTransaction(client, { lockMs: 2000, statementMs: 0 }, () => work(client)));
  return dataStep(
    name,
    async (context) => {
      const fixed = await inTransaction(context.databaseUrl, async (client) => {
        await client.query('CREATE SCHEMA IF NOT EXISTS _evolve');
        const exists = await client.query<{ ok: boolean }>(`select to_regclass($1) is not null as ok`, [backup]);
        if (!exists.rows[0]?.ok) {
          await client.query(`CREATE TABLE ${backup} AS SELECT id, ${column} AS old_value, ${column} AS new_value FROM ${table} WITH NO DATA`);
          await client.query(`ALTER TABLE ${backup} ADD PRIMARY KEY (id)`);
        }
        await client.query(`INSERT INTO ${backup} (id, old_value, new_value) SELECT id, ${column}, ${options.fix} FROM ${table} WHERE ${options.violating} ON CONFLICT (id) DO UPDATE SET new_value = EXCLUDED.new_value`);
        return (await client.query(`UPDATE ${table} SET ${column} = ${options.fix} WHERE ${options.violating}`)).rowCount ?? 0;
      });
      return { processed: fixed, failed: 0, canceled: false, summary: { repaired: fixed, backup } };
    },
    {
      description: `set ${options.table}.${options.column} = ${options.fix} where ${options.violating} (old values backed up)`,
      remaining: `EXISTS (SELECT 1 FROM ${table} WHERE ${options.violating})`,
      down: async (context) => {
        await inTransaction(context.databaseUrl, async (client) => {
          const exists = await client.query<{ ok: boolean }>(`select to_regclass($1) is not null as ok`, [backup]);
          if (!exists.rows[0]?.ok) return 0;
          const restored = await client.query(`UPDATE ${table} t SET ${column} = b.old_value FROM ${backup} b WHERE b.id = t.id AND t.${column} IS NOT DISTINCT FROM b.new_value`);
          await client.query(`DROP TABLE ${backup}`);
          return restored.rowCount ?? 0;
        });
      },
    },
  );
}

const foreignKeys = definePhase({
  name: 'foreign_keys',
  id: '01',
  description: 'foreign keys with CASCADE and SET NULL; orphans handled as chosen (backed up first)',
  risk: 'medium',
  steps: [
    schemaStep(
      'courses_instructor',
      step(addForeignKey, {
        table: 'courses', columns: ['instructorId'], references: { table: 'users', columns: ['id'] }, name: 'fk_courses_instructor',
        // Deleting an instructor keeps the courses (someone else takes them over); existing orphans likewise.
        onDelete: 'SET NULL', onUpdate: 'CASCADE', orphans: 'set-null',
      }),
    ),
    schemaStep(
      'course_modules_course',
      step(addForeignKey, {
        table: 'course_modules', columns: ['courseId'], references: { table: 'courses', columns: ['id'] }, name: 'fk_course_modules_course',
        onDelete: 'CASCADE', onUpdate: 'CASCADE', orphans: 'delete',
      }),
    ),
    schemaStep(
      'user_progress_user',
      step(addForeignKey, {
        table: 'user_progress', columns: ['userId'], references: { table: 'users', columns: ['id'] }, name: 'fk_user_progress_user',
        onDelete: 'CASCADE', onUpdate: 'CASCADE', orphans: 'delete',
      }),
    ),
  ],
});

const checkConstraints = definePhase({
  name: 'check_constraints',
  id: '02',
  description: 'price >= 0 and rating 0-5 after explicit repairs; email format for new rows, offenders listed',
  risk: 'medium',
  dependsOn: ['foreign_keys'],
  steps: [
    repairStep('repair_negative_prices', { table: 'courses', column: 'price', violating: 'price < 0', fix: '0' }),
    schemaStep('price_positive', step(addCheck, { table: 'courses', name: 'chk_courses_price_positive', expression: 'price >= 0' }), { requires: ['repair_negative_prices'] }),
    repairStep('repair_ratings', { table: 'courses', column: 'averageRating', violating: `NOT ("averageRating" >= 0 AND "averageRating" <= 5)`, fix: 'LEAST(GREATEST("averageRating", 0), 5)' }),
    schemaStep('rating_range', step(addCheck, { table: 'courses', name: 'chk_courses_rating_range', expression: `"averageRating" >= 0 AND "averageRating" <= 5` }), {
      requires: ['repair_ratings'],
    }),
    schemaStep(
      'email_format_new_rows',
      step(rawSql, {
        name: 'chk_users_email_format',
        // NOT VALID on purpose: enforced for every insert and update from now on; the existing offenders are
        // people's addresses, which a migration must not invent. The verify step below lists them.
        up: [`ALTER TABLE users ADD CONSTRAINT chk_users_email_format CHECK (email ~* ${EMAIL_PATTERN}) NOT VALID`],
        down: ['ALTER TABLE users DROP CONSTRAINT IF EXISTS chk_users_email_format'],
        lock: 'ACCESS EXCLUSIVE',
        verify: `select count(*) = 1 from pg_constraint where conname = 'chk_users_email_format' and conrelid = 'users'::regclass`,
      }),
    ),
    verifySql(
      'email_offenders_listed',
      `select true as ok, count(*) || ' existing users with a malformed email, left for review (not validated): ' || coalesce(string_agg(id, ', ' order by id) filter (where rn <= 5), 'none') as detail
         from (select id, row_number() over (order by id) as rn from users where email !~* ${EMAIL_PATTERN}) x`,
    ),
  ],
});

const indexes = definePhase({
  name: 'indexes',
  id: '03',
  description: 'the seed indexes, partial and GIN included, built concurrently',
  risk: 'low',
  dependsOn: ['check_constraints'],
  // ANALYZE the tables it indexed: the GIN index's expression has no statistics until then.
  optimize: true,
  steps: [
    schemaStep('users_email', step(createIndex, { table: 'users', columns: ['email'], name: 'idx_users_email' })),
    schemaStep('users_role_status', step(createIndex, { table: 'users', columns: ['role', 'status'], name: 'idx_users_role_status' })),
    schemaStep('users_instructor_active', step(createIndex, { table: 'users', columns: ['isInstructor', 'status'], name: 'idx_users_instructor_active', where: `"isInstructor" = true AND status = 'ACTIVE'` })),
    schemaStep(
      'courses_popular',
      step(createIndex, { table: 'courses', columns: ['averageRating', 'enrollmentCount', 'status'], name: 'idx_courses_popular', where: `status = 'PUBLISHED' AND "averageRating" >= 4.0` }),
    ),
    schemaStep('user_progress_tracking', step(createIndex, { table: 'user_progress', columns: ['userId', 'courseId', 'isCompleted', 'updatedAt'], name: 'idx_user_progress_tracking' })),
    schemaStep(
      'courses_search_text',
      step(rawSql, {
        name: 'idx_courses_search_text',
        // An expression index (full-text search) is beyond createIndex's column list: the same safe form by hand.
        up: [`CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_courses_search_text ON courses USING gin (to_tsvector('english', title || ' ' || description))`],
        down: ['DROP INDEX CONCURRENTLY IF EXISTS idx_courses_search_text'],
        transactional: false,
        lock: 'SHARE UPDATE EXCLUSIVE',
        scansData: true,
        verify: `select indisvalid from pg_index where indexrelid = 'idx_courses_search_text'::regclass`,
      }),
    ),
  ],
});

/**
 * Seed 002's hot queries, one per index it adds: `run` captures their plans before and after every phase
 * (`prisma-evolve plans`), and `measure-indexes.ts` times them.
 */
export const WATCH_QUERIES = {
  userByEmail: { sql: sqlExpression('SELECT id FROM users WHERE email = $1'), params: ['user1234@example.com'] },
  usersByRoleStatus: { sql: sqlExpression('SELECT id FROM users WHERE role = $1 AND status = $2'), params: ['INSTRUCTOR', 'SUSPENDED'] },
  activeInstructors: { sql: sqlExpression(`SELECT id FROM users WHERE "isInstructor" = true AND status = 'ACTIVE'`) },
  popularCourses: {
    sql: sqlExpression(`SELECT id FROM courses WHERE status = 'PUBLISHED' AND "averageRating" >= 4.0 ORDER BY "averageRating" DESC, "enrollmentCount" DESC LIMIT 20`),
  },
  courseSearch: { sql: sqlExpression(`SELECT id FROM courses WHERE to_tsvector('english', title || ' ' || description) @@ plainto_tsquery('english', $1)`), params: ['topic 1234'] },
  progressOfUser: { sql: sqlExpression('SELECT "courseId", "isCompleted" FROM user_progress WHERE "userId" = $1 ORDER BY "updatedAt" DESC'), params: ['u777'] },
};

/** The constraints plan (`pnpm migrate:phase … --config examples/constraints/plan.ts`). */
export const plan = definePlan({
  name: 'strellerminds',
  migrationsDir: './migrations',
  migrationPrefix: '20260301000000',
  watchQueries: WATCH_QUERIES,
  phases: [foreignKeys, checkConstraints, indexes],
});
