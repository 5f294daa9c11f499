import { withClient } from '../db/with-client.js';

/**
 * `health`: the state of a running database, each check with documented OK / WARN / CRIT thresholds
 * (docs/analyze.md#health): connections, long and idle-in-transaction sessions, blocked locks, replication slots,
 * transaction-id wraparound, vacuum and analyze age, cache hit ratio, sizes. Read-only (statistics views and
 * the catalog; no lock beyond reading them).
 */

/** A health check's result. */
export interface HealthCheck {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'crit';
  /** The measured value, in the check's unit. */
  readonly value: number;
  readonly detail: string;
}

/** The status of `value` against WARN and CRIT thresholds (above them is worse). Pure. */
export function grade(value: number, warn: number, crit: number): HealthCheck['status'] {
  return value >= crit ? 'crit' : value >= warn ? 'warn' : 'ok';
}

/** Thresholds, documented in docs/analyze.md. */
export const HEALTH_THRESHOLDS = {
  connectionsPercent: { warn: 75, crit: 90 },
  longQuerySeconds: { warn: 60, crit: 600 },
  idleInTransactionSeconds: { warn: 30, crit: 300 },
  blockedSessions: { warn: 1, crit: 10 },
  inactiveSlotBytes: { warn: 1024 ** 3, crit: 10 * 1024 ** 3 },
  wraparoundPercent: { warn: 50, crit: 80 },
  daysSinceAnalyze: { warn: 7, crit: 30 },
  cacheMissPercent: { warn: 5, crit: 20 },
} as const;

/** Thresholds by check: WARN and CRIT. */
export type HealthThresholds = { readonly [K in keyof typeof HEALTH_THRESHOLDS]: { readonly warn: number; readonly crit: number } };

/** Runs every health check against the database, with `thresholds` overriding the documented ones. Read-only. */
export async function checkHealth(databaseUrl: string, thresholds: Partial<HealthThresholds> = {}): Promise<HealthCheck[]> {
  const t: HealthThresholds = { ...HEALTH_THRESHOLDS, ...thresholds };
  return withClient(databaseUrl, async (client) => {
    // Never wait on a lock of the database being watched: a check that would wait fails fast instead.
    await client.query(`set lock_timeout = '1s'; set statement_timeout = '30s'`);
    const one = async <T extends Record<string, unknown>>(sql: string): Promise<T> => (await client.query<T>(sql)).rows[0] as T;
    const checks: HealthCheck[] = [];
    const conn = await one<{ used: number; max: number; active: number; idle: number; idle_tx: number }>(
      `select count(*)::int as used, current_setting('max_connections')::int as max, count(*) filter (where state = 'active')::int as active,
              count(*) filter (where state = 'idle')::int as idle, count(*) filter (where state like 'idle in transaction%')::int as idle_tx
       from pg_stat_activity where backend_type = 'client backend'`,
    );
    const percent = Math.round((conn.used / conn.max) * 1000) / 10;
    checks.push({ name: 'connections', status: grade(percent, t.connectionsPercent.warn, t.connectionsPercent.crit), value: percent, detail: `${conn.used} of ${conn.max} (${percent} %): ${conn.active} active, ${conn.idle} idle, ${conn.idle_tx} idle in transaction` });
    const longest = await one<{ seconds: number | null; pid: number | null; query: string | null }>(
      `select extract(epoch from now() - query_start)::float8 as seconds, pid, left(query, 120) as query from pg_stat_activity
       where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid() order by query_start limit 1`,
    );
    const longSeconds = Math.round(longest?.seconds ?? 0);
    checks.push({ name: 'longest query', status: grade(longSeconds, t.longQuerySeconds.warn, t.longQuerySeconds.crit), value: longSeconds, detail: longest?.pid ? `${longSeconds} s (pid ${longest.pid}: ${longest.query})` : 'no other query running' });
    const idleTx = await one<{ seconds: number | null; pid: number | null }>(
      `select extract(epoch from now() - state_change)::float8 as seconds, pid from pg_stat_activity where state like 'idle in transaction%' order by state_change limit 1`,
    );
    const idleSeconds = Math.round(idleTx?.seconds ?? 0);
    checks.push({ name: 'idle in transaction', status: grade(idleSeconds, t.idleInTransactionSeconds.warn, t.idleInTransactionSeconds.crit), value: idleSeconds, detail: idleTx?.pid ? `${idleSeconds} s (pid ${idleTx.pid}): it holds its locks and keeps vacuum from cleaning up` : 'none' });
    const blocked = await one<{ n: number; sample: string | null }>(
      `select count(*)::int as n, min(format('pid %s waits for %s', pid, pg_blocking_pids(pid)::text)) as sample from pg_stat_activity where cardinality(pg_blocking_pids(pid)) > 0`,
    );
    checks.push({ name: 'blocked sessions', status: grade(blocked.n, t.blockedSessions.warn, t.blockedSessions.crit), value: blocked.n, detail: blocked.n ? `${blocked.n} waiting on locks (${blocked.sample})` : 'none' });
    const slots = await one<{ bytes: string | null; name: string | null; n: number }>(
      `select max(pg_wal_lsn_diff(case when pg_is_in_recovery() then pg_last_wal_receive_lsn() else pg_current_wal_lsn() end, restart_lsn))::text as bytes, min(slot_name::text) filter (where not active) as name, count(*) filter (where not active)::int as n from pg_replication_slots`,
    );
    const slotBytes = Number(slots.bytes ?? 0);
    checks.push({ name: 'replication slots', status: slots.n ? grade(slotBytes, t.inactiveSlotBytes.warn, t.inactiveSlotBytes.crit) : 'ok', value: slotBytes, detail: slots.n ? `${slots.n} inactive (${slots.name}), retaining up to ${Math.round(slotBytes / 1024 ** 2)} MB of WAL` : 'no inactive slot' });
    const xid = await one<{ age: number; datname: string }>(`select age(datfrozenxid)::int as age, datname::text from pg_database order by age(datfrozenxid) desc limit 1`);
    const wrap = Math.round((xid.age / 2_147_483_647) * 1000) / 10;
    checks.push({ name: 'transaction id wraparound', status: grade(wrap, t.wraparoundPercent.warn, t.wraparoundPercent.crit), value: wrap, detail: `oldest unfrozen transaction id in "${xid.datname}" is ${xid.age} old (${wrap} % of the way to wraparound)` });
    const stale = await one<{ days: number | null; rel: string | null; never: number }>(
      `select max(extract(epoch from now() - greatest(last_analyze, last_autoanalyze)) / 86400)::float8 as days,
              (array_agg(schemaname || '.' || relname order by greatest(last_analyze, last_autoanalyze)) filter (where greatest(last_analyze, last_autoanalyze) is not null))[1] as rel,
              count(*) filter (where last_analyze is null and last_autoanalyze is null and n_live_tup > 0)::int as never
       from pg_stat_user_tables where schemaname not like '\\_evolve%'`,
    );
    const days = Math.round((stale.days ?? 0) * 10) / 10;
    const staleStatus = stale.never > 0 ? 'warn' : grade(days, t.daysSinceAnalyze.warn, t.daysSinceAnalyze.crit);
    checks.push({ name: 'analyze age', status: staleStatus, value: days, detail: `${stale.never} table(s) holding rows never analyzed; the stalest analyzed ${days} day(s) ago${stale.rel ? ` (${stale.rel})` : ''}` });
    const cache = await one<{ hit: string; read: string }>(`select coalesce(sum(heap_blks_hit), 0)::text as hit, coalesce(sum(heap_blks_read), 0)::text as read from pg_statio_user_tables`);
    const reads = Number(cache.hit) + Number(cache.read);
    const miss = reads === 0 ? 0 : Math.round((Number(cache.read) / reads) * 1000) / 10;
    checks.push({ name: 'cache misses', status: reads < 10_000 ? 'ok' : grade(miss, t.cacheMissPercent.warn, t.cacheMissPercent.crit), value: miss, detail: `${miss} % of table block reads missed shared buffers (${reads} reads${reads < 10_000 ? '; too few to judge' : ''})` });
    // Sizes from the catalog's page counts (as of the last vacuum or analyze): size functions would wait behind a
    // lock on the table, and health must never wait on the database it watches.
    const size = await one<{ db: string; largest: string | null; largest_size: string | null }>(
      `select pg_database_size(current_database())::text as db,
              (select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema') order by c.relpages desc limit 1) as largest,
              (select (c.relpages::bigint * current_setting('block_size')::bigint)::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema') order by c.relpages desc limit 1) as largest_size`,
    );
    checks.push({ name: 'sizes', status: 'ok', value: Number(size.db), detail: `database ${Math.round(Number(size.db) / 1024 ** 2)} MB; largest table ${size.largest ?? 'none'} about ${Math.round(Number(size.largest_size ?? 0) / 1024 ** 2)} MB (pages at its last vacuum or analyze)` });
    return checks;
  });
}
