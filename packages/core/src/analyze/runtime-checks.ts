import { quoteQualified } from '../sql.js';
import { literal, schemaField, stepName, tableAt, USER_TABLES } from './check-support.js';
import type { AnalyzeFinding, CheckContext, StaticCheck } from './static-checks.js';

/**
 * The runtime checks of `analyze`: they read the statistics the server has gathered since its counters were last
 * reset (`pg_stat_database.stats_reset`, else the server's start). Every finding states that window, and nothing
 * is called unused before the window is `minStatsDays` long: a week without a scan says little about an index a
 * monthly report uses.
 */

/** The statistics window: since when, and how many days. Read-only. */
async function statsWindow(context: CheckContext): Promise<{ since: string; days: number }> {
  const { rows } = await context.client.query<{ since: string; days: number }>(
    `select to_char(coalesce(d.stats_reset, pg_postmaster_start_time()) at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') as since,
            extract(epoch from now() - coalesce(d.stats_reset, pg_postmaster_start_time()))::float8 / 86400 as days
     from pg_stat_database d where d.datname = current_database()`,
  );
  return { since: rows[0]?.since ?? 'unknown', days: rows[0]?.days ?? 0 };
}

const windowText = (window: { since: string; days: number }): string => `statistics since ${window.since} (${window.days.toFixed(1)} days)`;

/**
 * An index no scan has used in the statistics window, that enforces nothing (not unique, backs no constraint).
 * With a window shorter than `minDays`, no index is judged (nothing is reported: a short window proves nothing).
 */
export function unusedIndex(minDays: number): StaticCheck {
  return {
    id: 'unused-index',
    severity: 'info',
    async run(context) {
      const window = await statsWindow(context);
      if (window.days < minDays) return [];
      const { rows } = await context.client.query<{ schema: string; table: string; name: string; bytes: string }>(
        `select n.nspname::text as schema, c.relname::text as table, s.indexrelname::text as name, pg_relation_size(s.indexrelid)::text as bytes
         from pg_stat_user_indexes s join pg_index i on i.indexrelid = s.indexrelid join pg_class c on c.oid = s.relid join pg_namespace n on n.oid = c.relnamespace
         where s.idx_scan = 0 and i.indisvalid and not i.indisunique and not exists (select 1 from pg_constraint k where k.conindid = s.indexrelid) and ${USER_TABLES}
         order by 1, 2, 3`,
      );
      return rows.map((r) => ({
        check: 'unused-index',
        kind: 'runtime',
        severity: 'info',
        object: `${r.schema}.${r.name}`,
        prisma: tableAt(context, r.schema, r.table),
        message: `index "${r.name}" on "${r.table}" (${Math.round(Number(r.bytes) / 1024)} kB) has not been scanned once in the ${windowText(window)}: every write maintains it`,
        fix: { prisma: `remove the @@index that declares "${r.name}" if nothing periodic needs it`, steps: [`schemaStep(${stepName(`drop_${r.name}`)}, step(dropIndex, { ${schemaField(r.schema)}name: ${literal(r.name)} }))`] },
      }));
    },
  };
}

/** A table of 10,000 rows or more read by sequential scans ten times as often as through indexes, in the window. */
export const seqScanHeavy: StaticCheck = {
  id: 'seq-scan-heavy',
  severity: 'info',
  async run(context) {
    const window = await statsWindow(context);
    const { rows } = await context.client.query<{ schema: string; table: string; seq: string; idx: string; live: string }>(
      `select s.schemaname::text as schema, s.relname::text as table, s.seq_scan::text as seq, coalesce(s.idx_scan, 0)::text as idx, s.n_live_tup::text as live
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and s.n_live_tup >= 10000 and s.seq_scan >= 10 and s.seq_scan > 10 * coalesce(s.idx_scan, 0)
       order by s.seq_scan * s.n_live_tup desc`,
    );
    return rows.map((r) => ({
      check: 'seq-scan-heavy',
      kind: 'runtime',
      severity: 'info',
      object: `${r.schema}.${r.table}`,
      prisma: tableAt(context, r.schema, r.table),
      message: `"${r.table}" (${r.live} rows) was read by ${r.seq} sequential scans and ${r.idx} index scans in the ${windowText(window)}: a query filters it on columns no index covers (EXPLAIN the frequent ones)`,
      fix: null,
    }));
  },
};

/** A table of 10,000 rows or more whose dead rows are a fifth or more of its rows: bloat that vacuum has not reclaimed. */
export const deadRows: StaticCheck = {
  id: 'table-bloat',
  severity: 'info',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; live: string; dead: string; vacuumed: string | null }>(
      `select s.schemaname::text as schema, s.relname::text as table, s.n_live_tup::text as live, s.n_dead_tup::text as dead,
              to_char(greatest(s.last_vacuum, s.last_autovacuum) at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') as vacuumed
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and s.n_live_tup + s.n_dead_tup >= 10000 and s.n_dead_tup >= 0.2 * (s.n_live_tup + s.n_dead_tup)
       order by s.n_dead_tup desc`,
    );
    return rows.map((r) => ({
      check: 'table-bloat',
      kind: 'runtime',
      severity: 'info',
      object: `${r.schema}.${r.table}`,
      prisma: tableAt(context, r.schema, r.table),
      message: `"${r.table}" holds ${r.dead} dead rows beside ${r.live} live ones (${Math.round((Number(r.dead) / (Number(r.dead) + Number(r.live))) * 100)} %), last vacuumed ${r.vacuumed ?? 'never'}: scans read them too`,
      fix: { prisma: null, steps: [`// VACUUM "${r.schema}"."${r.table}" (no lock on reads or writes), and check autovacuum keeps up with its writes`] },
    }));
  },
};

/**
 * A table holding rows that was never analyzed in the statistics window (the planner guesses its row counts and
 * value spreads), or holding dead rows that was never vacuumed in it. Read-only: one statistics query.
 */
export const neverAnalyzed: StaticCheck = {
  id: 'never-analyzed-or-vacuumed',
  severity: 'info',
  async run(context) {
    const window = await statsWindow(context);
    const { rows } = await context.client.query<{ schema: string; table: string; live: string; dead: string; analyzed: boolean; vacuumed: boolean }>(
      `select s.schemaname::text as schema, s.relname::text as table, s.n_live_tup::text as live, s.n_dead_tup::text as dead,
              coalesce(s.last_analyze, s.last_autoanalyze) is not null as analyzed, coalesce(s.last_vacuum, s.last_autovacuum) is not null as vacuumed
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and c.relkind = 'r'
         and ((s.n_live_tup > 0 and s.last_analyze is null and s.last_autoanalyze is null)
           or (s.n_dead_tup > 0 and s.last_vacuum is null and s.last_autovacuum is null))
       order by 1, 2`,
    );
    return rows.map((r) => {
      const analyze = !r.analyzed && Number(r.live) > 0;
      const vacuum = !r.vacuumed && Number(r.dead) > 0;
      const never = [...(analyze ? ['analyzed'] : []), ...(vacuum ? ['vacuumed'] : [])].join(' or ');
      const command = analyze && vacuum ? 'VACUUM (ANALYZE)' : analyze ? 'ANALYZE' : 'VACUUM';
      return {
        check: 'never-analyzed-or-vacuumed',
        kind: 'runtime',
        severity: 'info',
        object: `${r.schema}.${r.table}`,
        prisma: tableAt(context, r.schema, r.table),
        message: `"${r.table}" (${r.live} rows, ${r.dead} dead) was never ${never} in the ${windowText(window)}: ${analyze ? 'the planner guesses its row counts and value spreads' : 'its dead rows stay until a vacuum'}`,
        fix: { prisma: null, steps: [`// ${command} ${quoteQualified(r.schema, r.table)} (no lock on reads or writes), or prisma-evolve optimize`] },
      } satisfies AnalyzeFinding;
    });
  },
};
