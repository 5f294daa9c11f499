import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../sql.js';
import type { EntryPlan } from './copy-planner.js';
import { COPY_SCHEMA, readTableState } from './copy-store.js';

/**
 * The second pass of deferred references (`ref(entry, column, { deferred: true })`): rows were inserted with
 * the column NULL and its old key in `_evolve.copy_deferred`; once the row's entry and the referenced entry are
 * both copied, the column is set to the new id from the id map and the resolved keys leave the list. Keys the
 * map does not hold stay listed, and validation names them.
 */

/** A deferred reference still waiting: the column and how many rows, with a few old keys. */
export interface PendingDeferred {
  readonly column: string;
  readonly rows: number;
  readonly sample: readonly string[];
}

/** Rows of a deferred column set per transaction by the second pass. */
export const DEFERRED_BATCH = 10_000;

/**
 * Sets the entry's deferred references whose referenced entry is copied: per column, in batches of
 * {@link DEFERRED_BATCH} rows in `row_id` order, each in its own target transaction that updates the rows (row
 * locks on them) and removes their resolved keys from the list. Idempotent and resumable: a resolved key is
 * gone from the list, so a rerun (or the next batch after a crash) changes nothing twice. Keys the id map does
 * not hold stay listed. Stops between batches when `signal` is aborted. Returns the rows set per column.
 */
export async function resolveDeferred(target: pg.ClientBase, plan: EntryPlan, signal?: AbortSignal): Promise<Record<string, number>> {
  const table = plan.table;
  const set: Record<string, number> = {};
  if (table.id === false) return set;
  if ((await readTableState(target, plan.copy, table.entry))?.status !== 'done') return set;
  for (const column of plan.columns.filter((c) => c.deferred)) {
    if ((await readTableState(target, plan.copy, column.refEntry as string))?.status !== 'done') continue;
    let count = 0;
    for (let after = ''; !signal?.aborted; ) {
      await target.query('begin');
      try {
        const { rows } = await target.query<{ row_id: string }>(
          `with batch as (
             select d.row_id, m.new_id from ${COPY_SCHEMA}.copy_deferred d
             join ${COPY_SCHEMA}.id_map m on m.copy = d.copy and m.entry = ${quoteLiteral(column.refEntry as string)} and m.old_key = d.old_key
             where d.copy = $1 and d.entry = $2 and d."column" = $3 and d.row_id > $4 order by d.row_id limit ${DEFERRED_BATCH}),
           updated as (update ${plan.targetQualified} t set ${quoteIdent(column.target)} = b.new_id::${column.baseType} from batch b where t.${quoteIdent(table.id.column)} = b.row_id::${plan.idType}),
           gone as (delete from ${COPY_SCHEMA}.copy_deferred x using batch b where x.copy = $1 and x.entry = $2 and x."column" = $3 and x.row_id = b.row_id)
           select row_id from batch order by row_id`,
          [plan.copy, table.entry, column.target, after],
        );
        await target.query('commit');
        count += rows.length;
        if (rows.length < DEFERRED_BATCH) break;
        after = rows.at(-1)?.row_id as string;
      } catch (error) {
        await target.query('rollback').catch(() => undefined);
        throw error;
      }
    }
    set[column.target] = count;
  }
  return set;
}

/** The entry's deferred references still waiting, per column. Read-only. */
export async function pendingDeferred(target: pg.ClientBase, plan: EntryPlan): Promise<PendingDeferred[]> {
  const pending: PendingDeferred[] = [];
  for (const column of plan.columns.filter((c) => c.deferred)) {
    const { rows } = await target.query<{ n: string; sample: string[] | null }>(
      `select count(*) as n, (array_agg(old_key order by old_key))[1:3] as sample from ${COPY_SCHEMA}.copy_deferred where copy = $1 and entry = $2 and "column" = $3`,
      [plan.copy, plan.table.entry, column.target],
    );
    pending.push({ column: column.target, rows: Number(rows[0]?.n ?? 0), sample: rows[0]?.sample ?? [] });
  }
  return pending;
}
