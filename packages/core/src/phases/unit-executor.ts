import type pg from 'pg';
import { inBatchTransaction, type BatchTimeouts } from '../backfill/batch-transaction.js';
import { isRetryable, retryDelayMs, sleep, type RetryPolicy } from '../db/retry-policy.js';
import { DatabaseError } from '../errors.js';
import type { SqlUnit } from '../operations/operation.js';
import { quoteQualified } from '../sql.js';

/**
 * The `statement_timeout` for a unit: none for units that scan rows (an index build, a VALIDATE, a guard
 * on a large table may rightly take hours; they hold no lock that blocks writers, and `lock_timeout`
 * still bounds every lock wait), the configured one otherwise. Pure.
 */
export function unitStatementTimeout(unit: SqlUnit, timeouts: BatchTimeouts): number {
  return unit.statements.some((statement) => statement.scansData) ? 0 : Math.round(timeouts.statementMs);
}

/** Whether index `schema.name` exists and whether PostgreSQL marks it valid. Read-only. */
export async function indexState(client: pg.ClientBase, index: { schema: string; name: string }): Promise<'valid' | 'invalid' | 'absent'> {
  const { rows } = await client.query<{ valid: boolean }>(
    `select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relname = $2`,
    [index.schema, index.name],
  );
  if (!rows[0]) return 'absent';
  return rows[0].valid ? 'valid' : 'invalid';
}

/**
 * Drops an INVALID index left by a failed `CREATE INDEX CONCURRENTLY` (with `DROP INDEX CONCURRENTLY`, so
 * writes go on), so that the build can be tried again. A valid index or no index: nothing happens.
 * Returns whether it dropped one.
 */
export async function dropInvalidIndex(client: pg.ClientBase, index: { schema: string; name: string }, timeouts: BatchTimeouts): Promise<boolean> {
  if ((await indexState(client, index)) !== 'invalid') return false;
  await runOutsideTransaction(client, `DROP INDEX CONCURRENTLY IF EXISTS ${quoteQualified(index.schema, index.name)}`, timeouts);
  return true;
}

/** Runs one statement outside a transaction with session-level timeouts, reset afterwards. */
export async function runOutsideTransaction(client: pg.ClientBase, sql: string, timeouts: BatchTimeouts): Promise<void> {
  await client.query(`set lock_timeout = ${Math.round(timeouts.lockMs)}; set statement_timeout = ${Math.round(timeouts.statementMs)}`);
  try {
    await client.query(sql);
  } finally {
    await client.query('reset lock_timeout; reset statement_timeout');
  }
}

/**
 * Runs a SQL unit directly (rollbacks; everything forward goes through Prisma migration folders):
 * - A transactional unit runs in one transaction with `SET LOCAL lock_timeout` and `statement_timeout`.
 * - A single non-transactional statement runs with the same settings at session level, which are reset
 *   afterwards.
 * `beforeStatement`, when given, runs before each statement in the same transaction (a rollback moves what
 * the statement would remove into the trash there) and may replace the statement (`'skip'`); `beforeCommit`
 * runs last in a transactional unit's transaction (a rollback records the unit as done there).
 * Lock timeouts, deadlocks and serialization failures are retried with jittered backoff up to
 * `retry.maxAttempts`, dropping an INVALID index left by a failed concurrent build before each new try.
 * Then it fails closed with a `DatabaseError` carrying the SQLSTATE and SQL.
 */
export async function executeSqlUnit(
  client: pg.ClientBase,
  unit: SqlUnit,
  configured: BatchTimeouts,
  retry: RetryPolicy,
  beforeStatement?: (index: number) => Promise<'run' | 'skip'>,
  beforeCommit?: () => Promise<void>,
): Promise<void> {
  const timeouts = { lockMs: configured.lockMs, statementMs: unitStatementTimeout(unit, configured) };
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (unit.buildsIndex) await dropInvalidIndex(client, unit.buildsIndex, timeouts);
      if (unit.transactional) {
        await inBatchTransaction(client, timeouts, async () => {
          for (const [index, statement] of unit.statements.entries()) {
            if ((await beforeStatement?.(index)) !== 'skip') await client.query(statement.sql);
          }
          await beforeCommit?.();
        });
      } else {
        for (const [index, statement] of unit.statements.entries()) {
          if ((await beforeStatement?.(index)) !== 'skip') await runOutsideTransaction(client, statement.sql, timeouts);
        }
      }
      return;
    } catch (error) {
      if (isRetryable(error) && attempt < retry.maxAttempts) {
        await sleep(retryDelayMs(attempt, retry));
        continue;
      }
      throw new DatabaseError(unit.statements.map((s) => s.sql).join(';\n'), [], error);
    }
  }
}
