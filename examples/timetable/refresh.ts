/**
 * The refresh strategy for `school_timetable_summary`: a write to any table the view reads only marks it
 * stale (statement-level triggers, see the plan's `timetable_summary` phase). This function, run by a scheduler
 * or after a batch of timetable edits, refreshes it CONCURRENTLY when it is stale, so readers of the view never
 * block.
 */
import { inBatchTransaction, withClient } from '@prisma-evolve/core';

/** What one call did. */
export type RefreshOutcome = 'refreshed' | 'fresh' | 'busy';

/** The tables `school_timetable_summary` reads; each has the trigger that marks it stale. */
export const SUMMARY_SOURCES = ['timetables', 'classes', 'users', 'subjects', 'modules', 'time_slots'] as const;

/**
 * Refreshes the view when a write marked it stale since the last refresh. Guarantees no change is missed:
 * 1. One refresher at a time (advisory lock); a concurrent call returns `busy` at once.
 * 2. A short transaction takes SHARE locks on the source tables. That waits for the writes in flight to
 *    commit, and holds new writes back for that moment only (under `lock_timeout`, `busy` when it expires).
 *    It clears the stale flag and commits. Every write whose trigger ran before this point is now committed,
 *    so the refresh sees it. Every later write sets the flag again.
 * 3. `REFRESH MATERIALIZED VIEW CONCURRENTLY` (EXCLUSIVE on the view only: reads go on). If it fails, the
 *    flag is set again and the error is thrown.
 */
export async function refreshTimetableSummary(databaseUrl: string, options: { lockTimeoutMs?: number } = {}): Promise<RefreshOutcome> {
  return withClient(databaseUrl, async (client) => {
    const locked = await client.query<{ ok: boolean }>(`select pg_try_advisory_lock(hashtext('school_timetable_summary')) as ok`);
    if (!locked.rows[0]?.ok) return 'busy';
    try {
      try {
        const stale = await inBatchTransaction(client, { lockMs: Math.max(1, Math.floor(options.lockTimeoutMs ?? 2000)), statementMs: 0 }, async () => {
          await client.query(`LOCK TABLE ${SUMMARY_SOURCES.join(', ')} IN SHARE MODE`);
          return client.query(`update school_timetable_summary_state set stale = false, refreshed_at = now() where stale returning 1`);
        });
        if (stale.rowCount === 0) return 'fresh';
      } catch (error) {
        if ((error as { code?: string }).code === '55P03') return 'busy';
        throw error;
      }
      try {
        await client.query('REFRESH MATERIALIZED VIEW CONCURRENTLY school_timetable_summary');
      } catch (error) {
        await client.query(`update school_timetable_summary_state set stale = true`).catch(() => undefined);
        throw error;
      }
      return 'refreshed';
    } finally {
      await client.query(`select pg_advisory_unlock(hashtext('school_timetable_summary'))`).catch(() => undefined);
    }
  });
}
