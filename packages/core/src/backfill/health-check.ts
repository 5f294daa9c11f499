import type pg from 'pg';

/** Replication lag above which batches pause (ms). */
export const DEFAULT_MAX_REPLICATION_LAG_MS = 30_000;
/** How often the health check runs at most (ms); batches in between do not query it. */
export const DEFAULT_HEALTH_INTERVAL_MS = 5_000;
/** How long a worker waits before checking again while the database is unhealthy (ms). */
export const DEFAULT_HEALTH_PAUSE_MS = 5_000;

/** The built-in PostgreSQL health check between batches. */
export interface HealthCheckOptions {
  /** Pause while any standby's write/flush/replay lag (from `pg_stat_replication`) exceeds this. */
  readonly maxReplicationLagMs?: number;
  /** Pause while a vacuum of the backfilled table runs (autovacuum, or any vacuum with `'any'`). Default off. */
  readonly pauseOnVacuum?: false | 'autovacuum' | 'any';
  readonly intervalMs?: number;
  readonly pauseMs?: number;
}

/** What a health check found. */
export type HealthStatus = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Reads replication lag and vacuum activity on `tableOid` (read-only statistics views, no locks). Roles
 * without `pg_read_all_stats` see no lag figures and are never paused for lag.
 */
export async function checkDatabaseHealth(client: pg.ClientBase, tableOid: number, options: HealthCheckOptions): Promise<HealthStatus> {
  const maxLag = options.maxReplicationLagMs ?? DEFAULT_MAX_REPLICATION_LAG_MS;
  const { rows } = await client.query<{ lag_ms: number | null; standby: string | null; vacuum: string | null }>(
    `select (select max(extract(epoch from greatest(write_lag, flush_lag, replay_lag)) * 1000)::float8 from pg_stat_replication) as lag_ms,
            (select application_name from pg_stat_replication
              order by greatest(write_lag, flush_lag, replay_lag) desc nulls last limit 1) as standby,
            (select coalesce(a.backend_type, 'vacuum') from pg_stat_progress_vacuum p
               left join pg_stat_activity a on a.pid = p.pid where p.relid = $1 limit 1) as vacuum`,
    [tableOid],
  );
  const row = rows[0];
  if (row?.lag_ms != null && row.lag_ms > maxLag) {
    return { ok: false, reason: `replication lag ${Math.round(row.lag_ms)} ms on standby "${row.standby ?? '?'}" exceeds ${maxLag} ms` };
  }
  const vacuumMode = options.pauseOnVacuum ?? false;
  if (vacuumMode !== false && row?.vacuum) {
    const isAuto = row.vacuum === 'autovacuum worker';
    if (vacuumMode === 'any' || isAuto) return { ok: false, reason: `${isAuto ? 'autovacuum' : 'vacuum'} is running on the table` };
  }
  return { ok: true };
}
