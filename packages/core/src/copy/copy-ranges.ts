import type pg from 'pg';
import { CopyFailedError } from '../errors.js';
import { quoteIdent } from '../sql.js';
import { sourceRelation, type EntryPlan } from './copy-planner.js';
import { readTableState, registerRanges } from './copy-store.js';

/**
 * Range cutting, once per entry and copy, in the source snapshot. A source table whose key is an integer
 * column with a unique index and NOT NULL is cut by value from its minimum and maximum (an index lookup and a
 * count); anything else (a query, a text key) in one sorted pass that also proves the key unique and never NULL.
 */

/** True when the source is a table whose key column is an integer, NOT NULL and unique by itself. Read-only. */
async function provenIntegerKey(plan: EntryPlan, source: pg.ClientBase): Promise<boolean> {
  const relation = sourceRelation(plan.table.from);
  if (relation.startsWith('(')) return false;
  const { rows } = await source.query<{ ok: boolean }>(
    `select a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) and a.attnotnull
            and exists (select 1 from pg_index i where i.indrelid = a.attrelid and i.indisunique and i.indisvalid and i.indpred is null and i.indnkeyatts = 1 and i.indkey[0] = a.attnum) as ok
     from pg_attribute a where a.attrelid = to_regclass($1) and a.attname = $2 and not a.attisdropped`,
    [relation, plan.table.key],
  );
  return rows[0]?.ok === true;
}

/** Upper bounds of equal-width value ranges holding about `batchSize` rows each. Pure. */
export function integerBounds(min: bigint, max: bigint, rows: number, batchSize: number): string[] {
  const ranges = BigInt(Math.max(1, Math.ceil(rows / batchSize)));
  const width = (max - min + 1n + ranges - 1n) / ranges;
  const bounds: string[] = [];
  for (let bound = min - 1n + width; bound < max; bound += width) bounds.push(bound.toString());
  return bounds;
}

/** Cuts the entry's ranges (once per copy): refuses a key that is NULL or repeats, naming the entry. */
export async function ensureRanges(plan: EntryPlan, coordinator: pg.ClientBase, target: pg.ClientBase, batchSize: number): Promise<void> {
  if (await readTableState(target, plan.copy, plan.table.entry)) return;
  if (await provenIntegerKey(plan, coordinator)) {
    const key = quoteIdent(plan.table.key);
    const { rows } = await coordinator.query<{ rows: string; min: string | null; max: string | null }>(`select count(*) as rows, min(${key})::text as min, max(${key})::text as max from ${sourceRelation(plan.table.from)}`);
    const row = rows[0];
    const count = Number(row?.rows ?? 0);
    const bounds = row?.min == null || row.max == null ? [] : integerBounds(BigInt(row.min), BigInt(row.max), count, batchSize);
    await registerRanges(target, plan.copy, plan.table.entry, bounds, count);
    return;
  }
  const { rows: scanned } = await coordinator.query<{ rows: string; null_keys: string; duplicate_keys: string; bounds: string[] }>(plan.boundsQuery(batchSize));
  const count = scanned[0];
  const rows = Number(count?.rows ?? 0);
  if (Number(count?.null_keys ?? 0) > 0) throw new CopyFailedError(plan.copy, plan.table.entry, `${count?.null_keys} source rows have a NULL key "${plan.table.key}"; the key must identify every row`);
  if (Number(count?.duplicate_keys ?? 0) > 0) throw new CopyFailedError(plan.copy, plan.table.entry, `the source key "${plan.table.key}" is not unique (${count?.duplicate_keys} of ${rows} rows repeat a key); choose a unique key or build one in the source query`);
  // The last range is open above: it also takes rows added since the ranges were cut.
  await registerRanges(target, plan.copy, plan.table.entry, count?.bounds ?? [], rows);
}
