import { createHash } from 'node:crypto';
import type pg from 'pg';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../db/retry-policy.js';
import { readTableInfo, requireColumns } from '../db/table-catalog.js';
import { withClient } from '../db/with-client.js';
import { ColumnNotFoundError, InvalidArgumentError, NoUsableKeyError } from '../errors.js';
import { toolkitName } from '../naming.js';
import { runBatchedStatement } from '../operations/batched-statement.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { DEFAULT_STATE_SCHEMA } from '../tracking/data-migration-store.js';

/** Which row of a duplicate group survives. */
export type KeepRule = 'latest' | 'earliest' | { readonly orderBy: string };

/** Options of {@link reportDuplicates} and {@link dedupe}. */
export interface DedupeOptions {
  readonly database: string;
  readonly schema?: string;
  readonly table: string;
  /** The columns that are about to become unique. Rows with a NULL in them are never duplicates. */
  readonly columns: readonly string[];
  /**
   * `latest`/`earliest` by `orderColumn` (default `createdAt`), ties by primary key; or any SQL order
   * (`{ orderBy: '"rating" DESC, "createdAt" ASC' }`) whose first row is kept.
   */
  readonly keep: KeepRule;
  readonly orderColumn?: string;
  /** Where deleted rows are copied (default `_evolve_bak_<table>_dupes` in the table's schema). */
  readonly backupTable?: string;
  readonly stateSchema?: string;
  readonly signal?: AbortSignal;
}

/** Duplicate groups before anything is deleted. */
export interface DuplicateReport {
  readonly groups: number;
  /** Rows that would be deleted (group sizes minus one each). */
  readonly extraRows: number;
  /** A few groups: key values, size, the key of the row kept and those deleted. */
  readonly samples: readonly { readonly key: readonly unknown[]; readonly size: number; readonly keep: string; readonly remove: readonly string[] }[];
}

interface Resolved {
  readonly qualified: string;
  readonly pk: string;
  readonly order: string;
  readonly partition: string;
  readonly notNull: string;
  readonly backup: string;
  readonly work: string;
}

async function resolve(client: pg.ClientBase, options: DedupeOptions): Promise<Resolved> {
  const schema = options.schema ?? 'public';
  const table = await readTableInfo(client, schema, options.table);
  if (table.primaryKey.length !== 1) throw new NoUsableKeyError(table.qualified, 'dedupe needs a single-column primary key to tell the copies apart');
  const pk = quoteIdent(table.primaryKey[0] as string);
  requireColumns(table, options.columns, '"columns"');
  const orderColumn = options.orderColumn ?? 'createdAt';
  if (typeof options.keep === 'string' && !table.columns.has(orderColumn)) throw new ColumnNotFoundError(table.qualified, orderColumn, '"orderColumn"');
  const rule =
    options.keep === 'latest' ? `${quoteIdent(orderColumn)} desc nulls last` : options.keep === 'earliest' ? `${quoteIdent(orderColumn)} asc nulls last` : options.keep.orderBy;
  const fingerprint = createHash('sha256').update(JSON.stringify([table.qualified, options.columns, rule])).digest('hex').slice(0, 12);
  return {
    qualified: table.qualified,
    pk,
    order: `${rule}, ${pk}`,
    partition: options.columns.map(quoteIdent).join(', '),
    notNull: options.columns.map((c) => `${quoteIdent(c)} is not null`).join(' and '),
    backup: quoteQualified(schema, options.backupTable ?? toolkitName('bak', options.table, 'dupes')),
    work: quoteQualified(options.stateSchema ?? DEFAULT_STATE_SCHEMA, `dedupe_${fingerprint}`),
  };
}


/**
 * Counts duplicate groups of `columns` and shows which row each would keep and lose under `keep`. Run it
 * before `dedupe`, and before a unique constraint. Read-only: one scan under ACCESS SHARE.
 */
export async function reportDuplicates(options: DedupeOptions, samples = 5): Promise<DuplicateReport> {
  return withClient(options.database, async (client) => {
    const r = await resolve(client, options);
    const { rows } = await client.query<{ groups: string; extra: string }>(
      `select count(*)::text as groups, coalesce(sum(n - 1), 0)::text as extra from (
         select count(*) as n from ${r.qualified} where ${r.notNull} group by ${r.partition} having count(*) > 1) g`,
    );
    const { rows: sampled } = await client.query<{ key: unknown[]; size: number; keep: string; remove: string[] }>(
      `select jsonb_build_array(${r.partition}) as key, count(*)::int as size,
              (array_agg(${r.pk}::text order by ${r.order}))[1] as keep,
              (array_agg(${r.pk}::text order by ${r.order}))[2:] as remove
       from ${r.qualified} where ${r.notNull} group by ${r.partition} having count(*) > 1 order by 1 limit ${Math.max(0, Math.floor(samples))}`,
    );
    return { groups: Number(rows[0]?.groups ?? 0), extraRows: Number(rows[0]?.extra ?? 0), samples: sampled };
  });
}

/** What {@link dedupe} deleted. */
export interface DedupeResult {
  /** Rows now in the backup table (deleted by this and earlier runs of the same dedupe). */
  readonly deleted: number;
  readonly backupTable: string;
  readonly canceled: boolean;
}

/**
 * Deletes all but one row of every duplicate group, keeping the row `keep` picks.
 * 1. The keys to delete are computed once into a work table (in the state schema). A resume therefore
 *    continues with the same decisions.
 * 2. They are deleted in batches of 1,000, each batch one short transaction under lock_timeout. Each
 *    batch copies the rows to the backup table before deleting them, and only deletes a row while its
 *    group's survivor (a row that is not itself marked for deletion) still exists.
 * Rows with a NULL in `columns` are never touched. Follow it with `addUnique`; if new duplicates arrive
 * in between, the unique build fails closed and a rerun of `dedupe` (restart) clears them.
 */
export async function dedupe(options: DedupeOptions & { readonly restart?: boolean }): Promise<DedupeResult> {
  const r = await withClient(options.database, async (client) => {
    const resolved = await resolve(client, options);
    await client.query(`create schema if not exists ${quoteIdent(options.stateSchema ?? DEFAULT_STATE_SCHEMA)}`);
    if (options.restart) await client.query(`drop table if exists ${resolved.work}`);
    await client.query(`create table if not exists ${resolved.backup} (like ${resolved.qualified})`);
    await client.query(
      `create table if not exists ${resolved.work} as
       select ${resolved.pk} as victim from (
         select ${resolved.pk}, row_number() over (partition by ${resolved.partition} order by ${resolved.order}) as rn
         from ${resolved.qualified} where ${resolved.notNull}) ranked
       where rn > 1`,
    );
    return resolved;
  });
  const same = options.columns.map((c) => `k.${quoteIdent(c)} = t.${quoteIdent(c)}`).join(' and ');
  const result = await runBatchedStatement(
    options.database,
    `dedupe ${r.qualified}`,
    r.qualified,
    `with batch as (delete from ${r.work} w where w.victim in (select victim from ${r.work} limit 1000) returning w.victim),
          moved as (delete from ${r.qualified} t using batch b where t.${r.pk} = b.victim
                    and exists (select 1 from ${r.qualified} k where ${same} and k.${r.pk} <> t.${r.pk}
                                and not exists (select 1 from ${r.work} w2 where w2.victim = k.${r.pk})) returning t.*),
          saved as (insert into ${r.backup} select * from moved returning 1)
     select victim from batch`,
    { timeouts: { lockMs: DEFAULT_LOCK_TIMEOUT_MS, statementMs: DEFAULT_STATEMENT_TIMEOUT_MS }, ...(options.signal ? { signal: options.signal } : {}) },
  );
  const deleted = await withClient(options.database, async (client) => Number((await client.query<{ n: string }>(`select count(*)::text as n from ${r.backup}`)).rows[0]?.n ?? 0));
  return { deleted, backupTable: r.backup, canceled: result.canceled };
}

/**
 * Puts the rows `dedupe` deleted back and drops the backup, in one transaction. Refuses (changing
 * nothing) when any backed-up row cannot be restored, e.g. while the unique index is still in place.
 */
export async function undoDedupe(options: DedupeOptions): Promise<number> {
  return withClient(options.database, async (client) => {
    const r = await resolve(client, options);
    const { rows } = await client.query<{ found: boolean }>(`select to_regclass($1) is not null as found`, [r.backup]);
    if (!rows[0]?.found) return 0;
    await client.query('begin');
    try {
      const restored = await client.query(`insert into ${r.qualified} select * from ${r.backup} on conflict do nothing`);
      const { rows: backedUp } = await client.query<{ n: string }>(`select count(*)::text as n from ${r.backup}`);
      if ((restored.rowCount ?? 0) !== Number(backedUp[0]?.n ?? 0)) {
        throw new InvalidArgumentError(
          'undoDedupe',
          `only ${restored.rowCount} of ${backedUp[0]?.n} backed-up rows of ${r.qualified} could be put back (a unique index is still in place?); nothing was changed`,
        );
      }
      await client.query(`drop table ${r.backup}`);
      await client.query(`drop table if exists ${r.work}`);
      await client.query('commit');
      return restored.rowCount ?? 0;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  });
}
