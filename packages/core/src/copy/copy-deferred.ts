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

/**
 * Sets the entry's deferred references whose referenced entry is copied: per column, one target transaction
 * updating the rows (row locks on them) and removing the resolved keys from the list. Idempotent: a resolved
 * key is gone from the list, so a rerun changes nothing. Returns the rows set per column.
 */
export async function resolveDeferred(target: pg.ClientBase, plan: EntryPlan): Promise<Record<string, number>> {
  const table = plan.table;
  const set: Record<string, number> = {};
  if (table.id === false) return set;
  if ((await readTableState(target, plan.copy, table.entry))?.status !== 'done') return set;
  for (const column of plan.columns.filter((c) => c.deferred)) {
    if ((await readTableState(target, plan.copy, column.refEntry as string))?.status !== 'done') continue;
    const resolved = `${COPY_SCHEMA}.copy_deferred d join ${COPY_SCHEMA}.id_map m on m.copy = d.copy and m.entry = ${quoteLiteral(column.refEntry as string)} and m.old_key = d.old_key`;
    const where = `d.copy = $1 and d.entry = $2 and d."column" = $3`;
    await target.query('begin');
    try {
      const { rowCount } = await target.query(
        `update ${plan.targetQualified} t set ${quoteIdent(column.target)} = m.new_id::${column.baseType} from ${resolved}
         where ${where} and t.${quoteIdent(table.id.column)} = d.row_id::${plan.idType}`,
        [plan.copy, table.entry, column.target],
      );
      await target.query(`delete from ${COPY_SCHEMA}.copy_deferred x using ${resolved} where ${where} and x.copy = d.copy and x.entry = d.entry and x."column" = d."column" and x.row_id = d.row_id`, [plan.copy, table.entry, column.target]);
      await target.query('commit');
      set[column.target] = rowCount ?? 0;
    } catch (error) {
      await target.query('rollback').catch(() => undefined);
      throw error;
    }
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
