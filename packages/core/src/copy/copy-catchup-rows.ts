import type pg from 'pg';
import { boundedName } from '../naming.js';
import { quoteIdent, quoteLiteral } from '../sql.js';
import type { StagedDeadLetter } from './copy-batch.js';
import { rejectionMessage, underSavepoint } from './copy-insert.js';
import type { EntryPlan, StagedColumn } from './copy-planner.js';
import { COPY_SCHEMA } from './copy-store.js';

/**
 * Catch-up's handling of the source rows it staged that were met before: dead letters are tried again,
 * rows copied before (and duplicates that collapsed) move to a second table of "known" rows, which update their
 * target row after the new rows are in. A known row that cannot be applied (it no longer passes `where`, a
 * reference nobody has, a value the table rejects, its target row gone) is recorded in `_evolve.copy_conflict`
 * with the reason, and its target row is kept as it was. Everything runs in the caller's range transaction.
 */

/** The table of known rows beside the staging table (same columns, emptied at commit). */
export function knownTable(plan: EntryPlan): string {
  return quoteIdent(boundedName(`${plan.stage}_known`));
}

/** DDL of the known-rows table; idempotent. */
export function knownTableDdl(plan: EntryPlan): string {
  return `create temp table if not exists ${knownTable(plan)} (like ${quoteIdent(plan.stage)}) on commit delete rows`;
}

/** Integer and uuid keys are matched by value only when the text is one (a bad key was a dead letter, never copied). */
const KEY_SHAPES: Record<string, string> = {
  smallint: '^-?[0-9]{1,5}$',
  integer: '^-?[0-9]{1,10}$',
  bigint: '^-?[0-9]{1,19}$',
  uuid: '^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$',
};

/**
 * SQL over a key expression: true when this entry copied (or collapsed) the source row of that key before. With
 * an id map, the map says so; with kept ids and no map, a target row with that id (the key cast only when its
 * text has the type's shape). Binds $1 (copy) and $2 (entry). Pure.
 */
export function copiedSql(plan: EntryPlan, key: string): string {
  const table = plan.table;
  if (plan.idMap) return `exists (select 1 from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = ${key})`;
  if (table.id === false) return 'false';
  const id = quoteIdent(table.id.column);
  const type = plan.idType ?? 'text';
  const shape = KEY_SHAPES[type];
  const match = `exists (select 1 from ${plan.targetQualified} t where t.${id} = (${key})::${type})`;
  return `($1::text is not null and $2::text is not null and ${shape ? `case when (${key}) ~ ${quoteLiteral(shape)} then ${match} else false end` : /char|text/.test(type) ? match : `exists (select 1 from ${plan.targetQualified} t where t.${id}::text = ${key})`})`;
}

/** The target id of a copied row's key (through the id map, or the key itself), as SQL over `k.__key`. Binds $1, $2. Pure. */
function targetIdSql(plan: EntryPlan): string {
  return plan.idMap ? `(select m.new_id from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = k.__key)` : 'k.__key';
}

/** Records known rows matching `where` (over `k`) as conflicts with `reason` (SQL over the row `st`), and drops them from the known table. */
async function conflict(target: pg.ClientBase, plan: EntryPlan, where: string, reason: string): Promise<number> {
  const { rowCount } = await target.query(
    `with gone as (delete from ${knownTable(plan)} k where ($1::text is not null and $2::text is not null) and ${where} returning k.*)
     insert into ${COPY_SCHEMA}.copy_conflict (copy, entry, source_key, reason, row) select $1, $2, st.__key, ${reason}, ${plan.deadRowSql} from gone st
     on conflict (copy, entry, source_key) do update set reason = excluded.reason, row = excluded.row, at = now()`,
    [plan.copy, plan.table.entry],
  );
  return rowCount ?? 0;
}

/** What the classification of the staged rows found. */
export interface Classified {
  /** Dead letters whose rows came again (their dead letters removed: they go through the copy again). */
  readonly retried: number;
  /** Rows copied or collapsed before (moved to the known table). */
  readonly known: number;
  /** Rows the map threw on: dead letters before (still), new ones, and copied ones (now conflicts). */
  readonly mapped: { readonly stillDead: number; readonly newDead: number; readonly known: number };
}

/**
 * Sorts the staged rows: removes the dead letters of the staged keys (those rows are copied again), moves rows
 * this entry copied or collapsed before into the known table (duplicates flagged `__dup`), clears their old
 * conflicts, and records the map's dead letters (a copied row the map now throws on is a conflict).
 */
export async function classifyStaged(target: pg.ClientBase, plan: EntryPlan, mapped: readonly StagedDeadLetter[]): Promise<Classified> {
  const stage = quoteIdent(plan.stage);
  const params = [plan.copy, plan.table.entry];
  const dead = await target.query<{ key: string }>(
    `delete from ${COPY_SCHEMA}.copy_dead_letter d using ${stage} st where d.copy = $1 and d.entry = $2 and d.source_key = st.__key returning d.source_key as key`,
    params,
  );
  const retried = dead.rows.map((r) => r.key);
  if (plan.idMap) await target.query(`update ${stage} st set __dup = true from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = st.__key and m.dup`, params);
  const moved = await target.query(
    `with moved as (delete from ${stage} st where not (st.__key = any($3::text[])) and ${copiedSql(plan, 'st.__key')} returning st.*)
     insert into ${knownTable(plan)} select * from moved`,
    [...params, retried],
  );
  await target.query(`delete from ${COPY_SCHEMA}.copy_conflict c using ${knownTable(plan)} k where c.copy = $1 and c.entry = $2 and c.source_key = k.__key`, params);
  if (mapped.length === 0) return { retried: retried.length, known: moved.rowCount ?? 0, mapped: { stillDead: 0, newDead: 0, known: 0 } };
  const { rows } = await target.query<{ key: string; dead: boolean; copied: boolean }>(
    `select k as key, exists (select 1 from ${COPY_SCHEMA}.copy_dead_letter d where d.copy = $1 and d.entry = $2 and d.source_key = k) as dead, ${copiedSql(plan, 'k')} as copied
     from unnest($3::text[]) k`,
    [...params, mapped.map((d) => d.key)],
  );
  const copied = new Set(rows.filter((r) => r.copied).map((r) => r.key));
  const write = (into: string, list: readonly StagedDeadLetter[]): Promise<unknown> =>
    target.query(
      `insert into ${COPY_SCHEMA}.${into} (copy, entry, source_key, reason, row) select $1, $2, k, r, w from unnest($3::text[], $4::text[], $5::jsonb[]) as d(k, r, w)
       on conflict (copy, entry, source_key) do update set reason = excluded.reason, row = excluded.row, at = now()`,
      [...params, list.map((d) => d.key), list.map((d) => d.reason), list.map((d) => d.row)],
    );
  // A copied row (not a collapsed duplicate: the survivor's values stand) the map now throws on is a conflict.
  const dups = plan.idMap ? new Set((await target.query<{ key: string }>(`select old_key as key from ${COPY_SCHEMA}.id_map where copy = $1 and entry = $2 and dup and old_key = any($3::text[])`, [...params, [...copied]])).rows.map((r) => r.key)) : new Set<string>();
  await write('copy_conflict', mapped.filter((d) => copied.has(d.key) && !dups.has(d.key)));
  await write('copy_dead_letter', mapped.filter((d) => !copied.has(d.key)));
  const stillDead = rows.filter((r) => r.dead && !r.copied).length;
  return { retried: retried.length, known: (moved.rowCount ?? 0) + copied.size, mapped: { stillDead, newDead: mapped.length - copied.size - stillDead, known: copied.size } };
}

/** The value a column takes from known row `k`, cast to `type` (references through the id map). Pure. */
function valueSql(c: StagedColumn, type: string): string {
  if (!c.refEntry) return `k.${c.stage}::${type}`;
  return `(select r.new_id from ${COPY_SCHEMA}.id_map r where r.copy = $1 and r.entry = ${quoteLiteral(c.refEntry)} and r.old_key = k.${c.stage})::${type}`;
}

/**
 * The UPDATE of the known rows of `__seq` in [$3, $4] (binds $1 copy, $2 entry) where a column differs, or
 * undefined when the entry has no column to set. Pure.
 */
function updateSql(plan: EntryPlan): string | undefined {
  const table = plan.table;
  if (table.id === false || plan.columns.length === 0) return undefined;
  const id = quoteIdent(table.id.column);
  const plain = plan.columns.filter((c) => !c.deferred);
  const deferred = plan.columns.filter((c) => c.deferred);
  // A deferred column keeps its value until the second pass sets the new one; a NULL key clears it now.
  const sets = [...plain.map((c) => `${quoteIdent(c.target)} = ${valueSql(c, c.baseType)}`), ...deferred.map((c) => `${quoteIdent(c.target)} = case when k.${c.stage} is null then null else t.${quoteIdent(c.target)} end`)];
  // Compared in the column's full type (its modifier applied), as validation compares.
  const differs = [...plain.map((c) => `t.${quoteIdent(c.target)}::text is distinct from (${valueSql(c, c.type)})::text`), ...deferred.map((c) => `(k.${c.stage} is null and t.${quoteIdent(c.target)} is not null)`)];
  return `update ${plan.targetQualified} t set ${sets.join(', ')} from ${knownTable(plan)} k
    where ($1::text is not null and $2::text is not null) and t.${id} = (${targetIdSql(plan)})::${plan.idType} and not k.__dup and k.__seq between $3 and $4 and (${differs.join(' or ')})`;
}

/** Runs `sql` (see {@link updateSql}) on the known rows of `__seq` in [lo, hi] under a savepoint, halving on a rejected row, which becomes a conflict. */
async function updateSpan(target: pg.ClientBase, plan: EntryPlan, sql: string, lo: number, hi: number): Promise<number> {
  const attempt = await underSavepoint(target, () => target.query(sql, [plan.copy, plan.table.entry, lo, hi]));
  if ('value' in attempt) return attempt.value.rowCount ?? 0;
  if (lo === hi) {
    await conflict(target, plan, `k.__seq = ${lo}`, quoteLiteral(`rejected by ${plan.targetQualified}: ${rejectionMessage(attempt.rejected)}`));
    return 0;
  }
  const mid = Math.floor((lo + hi) / 2);
  return (await updateSpan(target, plan, sql, lo, mid)) + (await updateSpan(target, plan, sql, mid + 1, hi));
}

/**
 * Applies the known rows to the rows they were copied to (after the range's new rows are in, so a reference to
 * one resolves): rows that no longer pass `where`, whose reference nobody has, or whose target row is gone
 * become conflicts; a changed deferred reference is queued for the second pass; the rest update their target
 * row where a column differs (in its full type), a row the table rejects becoming a conflict with its message.
 * Collapsed duplicates change nothing. Returns the rows updated.
 */
export async function applyKnown(target: pg.ClientBase, plan: EntryPlan): Promise<number> {
  const table = plan.table;
  if (table.id === false) return 0;
  const id = quoteIdent(table.id.column);
  if (table.where) await conflict(target, plan, 'not k.__dup and not k.__keep', quoteLiteral(`no longer passes where (${table.where}): its copied row is kept as it was`));
  for (const c of plan.columns.filter((column) => column.refEntry && !column.deferred)) {
    const missing = `not k.__dup and k.${c.stage} is not null and not exists (select 1 from ${COPY_SCHEMA}.id_map r where r.copy = $1 and r.entry = ${quoteLiteral(c.refEntry as string)} and r.old_key = k.${c.stage})`;
    await conflict(target, plan, missing, `format('%s = %s: no "%s" row with that key was copied', ${quoteLiteral(c.target)}, st.${c.stage}, ${quoteLiteral(c.refEntry as string)})`);
  }
  await conflict(target, plan, `not k.__dup and not exists (select 1 from ${plan.targetQualified} t where t.${id} = (${targetIdSql(plan)})::${plan.idType})`, quoteLiteral('its target row is gone (deleted after the copy)'));
  for (const c of plan.columns.filter((column) => column.deferred)) {
    await target.query(
      `insert into ${COPY_SCHEMA}.copy_deferred (copy, entry, "column", row_id, old_key)
       select $1, $2, ${quoteLiteral(c.target)}, ${targetIdSql(plan)}, k.${c.stage} from ${knownTable(plan)} k join ${plan.targetQualified} t on t.${id} = (${targetIdSql(plan)})::${plan.idType}
       where not k.__dup and k.${c.stage} is not null
         and t.${quoteIdent(c.target)}::text is distinct from (select r.new_id from ${COPY_SCHEMA}.id_map r where r.copy = $1 and r.entry = ${quoteLiteral(c.refEntry as string)} and r.old_key = k.${c.stage})
       on conflict (copy, entry, "column", row_id) do update set old_key = excluded.old_key`,
      [plan.copy, table.entry],
    );
  }
  const sql = updateSql(plan);
  const { rows } = await target.query<{ lo: string | null; hi: string | null }>(`select min(__seq)::text as lo, max(__seq)::text as hi from ${knownTable(plan)} where not __dup`);
  if (sql === undefined || rows[0]?.lo == null || rows[0].hi == null) return 0;
  return updateSpan(target, plan, sql, Number(rows[0].lo), Number(rows[0].hi));
}
