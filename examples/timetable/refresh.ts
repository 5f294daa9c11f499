/**
 * The refresh strategy for `school_timetable_summary`: writes to `timetables` only mark the view stale (one
 * statement-level trigger, see the plan's `timetable_summary` phase); this function, run by a scheduler or
 * after a batch of timetable edits, refreshes it CONCURRENTLY (readers of the view never block) when stale.
 */
import pg from 'pg';

/** What one call did. */
export type RefreshOutcome = 'refreshed' | 'fresh' | 'busy';

/**
 * Refreshes the view if a write marked it stale since the last refresh.
 * - One refresher at a time (transaction-level advisory lock); a concurrent call returns `busy` at once.
 * - The stale flag is cleared in the same transaction as `REFRESH MATERIALIZED VIEW CONCURRENTLY`, so a write
 *   committed during the refresh marks it stale again and the next call picks it up; nothing is lost.
 * - Locks: EXCLUSIVE on the view during the refresh (reads go on; only other refreshes wait).
 */
export async function refreshTimetableSummary(databaseUrl: string): Promise<RefreshOutcome> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    const locked = await client.query<{ ok: boolean }>(`select pg_try_advisory_xact_lock(hashtext('school_timetable_summary')) as ok`);
    if (!locked.rows[0]?.ok) {
      await client.query('ROLLBACK');
      return 'busy';
    }
    const stale = await client.query(`update school_timetable_summary_state set stale = false, refreshed_at = now() where stale returning 1`);
    if (stale.rowCount === 0) {
      await client.query('ROLLBACK');
      return 'fresh';
    }
    await client.query('REFRESH MATERIALIZED VIEW CONCURRENTLY school_timetable_summary');
    await client.query('COMMIT');
    return 'refreshed';
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
