import type pg from 'pg';
import { ColumnNotFoundError, InvalidArgumentError, TableNotFoundError } from '../errors.js';
import { boundedName } from '../naming.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { needsIdMap, type CopyPlan, type CopyTable } from './copy-spec.js';
import { COPY_SCHEMA } from './copy-store.js';

/**
 * The pure planner of a copy: for each entry, the source query of a key range (run in the source under
 * `COPY … TO STDOUT`), the staging table it lands in (in the target, all text, one per worker session), and
 * the statements that turn staged rows into target rows (dead letters, dedupe, new ids, insert, id map).
 * SQL is built from quoted names and the caller's raw expressions (SqlExpression), never from spliced text.
 */

/**
 * A target table's columns: the full type (`format_type` with its modifier: `varchar(20)`, `timestamp(3)`) and the
 * base type (without it). Inserts cast to the base type and let the assignment to the column apply the modifier,
 * which rejects a too-long value (an explicit cast to `varchar(20)` would cut it silently).
 */
export type TargetColumns = ReadonlyMap<string, { readonly type: string; readonly baseType: string; readonly notNull?: boolean }>;

/** One column of the staging table and where it goes. */
export interface StagedColumn {
  /** Staging column name (`c0`, `r0`). */
  readonly stage: string;
  readonly target: string;
  readonly type: string;
  /** The type without its modifier: what inserts cast to (see {@link TargetColumns}). */
  readonly baseType: string;
  /** For a reference: the entry whose id map resolves it. */
  readonly refEntry?: string;
  /** A deferred reference: NULL on insert, set by the second pass (see `ref`). */
  readonly deferred?: boolean;
}

/** What one entry's batches run. */
export interface EntryPlan {
  readonly copy: string;
  readonly table: CopyTable;
  readonly targetQualified: string;
  readonly stage: string;
  readonly stageDdl: string;
  /** Columns `COPY stage (…) FROM STDIN` fills, in the source query's order. */
  readonly copyColumns: readonly string[];
  readonly columns: readonly StagedColumn[];
  readonly idType: string | undefined;
  readonly idMap: boolean;
  /**
   * `COPY (<this>) TO STDOUT` for the range (lo, hi]; null bounds are open. With `filter` (an SQL predicate over
   * the source row `s`, built by catch-up), only the rows it holds for.
   */
  sourceQuery(lo: string | null, hi: string | null, filter?: string): string;
  /** For an entry with `map`: the range's rows (`__key`, `__dedupe`, `__keep`, then `s.*`) for the transform; `filter` as above. */
  mapQuery(lo: string | null, hi: string | null, filter?: string): string;
  /** The source key over `s` (`s."id"`). */
  readonly keySql: string;
  /** Source query, in one sorted pass, of the row count, NULL and repeated keys, and the range upper bounds for batches of `size` rows. */
  readonly boundsQuery: (size: number) => string;
  /** Source query of the row count. */
  readonly countQuery: string;
  /**
   * For an entry with nothing to resolve in SQL (no dedupe, filter or id map of its own; references only to
   * other entries): the source query of the range giving the source key, then the target columns (old keys for
   * references), for `COPY <directTarget> FROM STDIN` straight into the table, references rewritten on the way.
   */
  readonly directQuery: ((lo: string | null, hi: string | null) => string) | undefined;
  readonly directTarget: string;
  /** Whether the key (first field of the direct query) is also the first target column (a kept id). */
  readonly directKeyIsColumn: boolean;
  /** Fields of the direct query holding old keys to rewrite: position, target column, referenced entry. */
  readonly directRefs: readonly { readonly index: number; readonly column: string; readonly entry: string }[];
  /** Target column names of the direct query's fields after the key (for a dead letter's row). */
  readonly directColumns: readonly string[];
  /** SQL over the staged row `st`: its source values as JSON, by source key and target column name (a dead letter's row). */
  readonly deadRowSql: string;
  /** INSERT of the staged rows that survive, without parameters (`and st.__seq = $1` appended for one row). */
  readonly insertSql: string;
  /** After the insert: the old keys of the inserted rows' deferred references, into `_evolve.copy_deferred` ($1 copy, $2 entry). */
  readonly deferredSql: readonly string[];
}

/** The source relation as SQL: a (schema-qualified) table name is quoted; anything else is the caller's query. Pure. */
export function sourceRelation(from: string): string {
  const parts = /^([A-Za-z_][A-Za-z0-9_$]*)(?:\.([A-Za-z_][A-Za-z0-9_$]*))?$/.exec(from.trim());
  if (!parts) return `(${from})`;
  return parts[2] ? quoteQualified(parts[1] as string, parts[2]) : quoteIdent(parts[1] as string);
}

/** Reads the target tables' columns and types; a missing table or column is named. Read-only. */
export async function readTargetColumns(client: pg.ClientBase, plan: CopyPlan): Promise<Map<string, TargetColumns>> {
  const byTable = new Map<string, TargetColumns>();
  for (const table of plan.tables) {
    const key = `${table.schema}.${table.targetTable}`;
    if (!byTable.has(key)) {
      const { rows } = await client.query<{ name: string; type: string; base_type: string; not_null: boolean }>(
        `select a.attname::text as name, format_type(a.atttypid, a.atttypmod) as type, format_type(a.atttypid, null) as base_type, a.attnotnull as not_null
         from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped`,
        [table.schema, table.targetTable],
      );
      if (rows.length === 0) throw new TableNotFoundError(table.schema, table.targetTable);
      byTable.set(key, new Map(rows.map((r) => [r.name, { type: r.type, baseType: r.base_type, notNull: r.not_null }])));
    }
    const columns = byTable.get(key) as TargetColumns;
    const named = [...Object.keys(table.resolvedColumns), ...(table.id === false ? [] : [table.id.column])];
    for (const name of named) if (!columns.has(name)) throw new ColumnNotFoundError(quoteQualified(table.schema, table.targetTable), name, `copy entry "${table.entry}"`);
    for (const [name, value] of Object.entries(table.resolvedColumns)) {
      if (value.kind === 'ref' && value.deferred && columns.get(name)?.notNull) {
        throw new InvalidArgumentError(`tables.${table.entry}.columns.${name}`, `is a deferred reference, and ${quoteQualified(table.schema, table.targetTable)}.${quoteIdent(name)} is NOT NULL: the second pass needs the column to allow NULL until it runs`);
      }
    }
  }
  return byTable;
}

/** Plans one entry against the target's columns. Pure. */
export function planEntry(plan: CopyPlan, table: CopyTable, targetColumns: TargetColumns): EntryPlan {
  const targetQualified = quoteQualified(table.schema, table.targetTable);
  const stage = boundedName(`_evolve_stage_${plan.name}_${table.entry}`);
  let exprs = 0;
  let refs = 0;
  const columns: StagedColumn[] = Object.entries(table.resolvedColumns).map(([target, value]) => ({
    stage: value.kind === 'ref' ? `r${refs++}` : `c${exprs++}`,
    target,
    type: targetColumns.get(target)?.type as string,
    baseType: targetColumns.get(target)?.baseType as string,
    ...(value.kind === 'ref' ? { refEntry: value.entry, ...(value.deferred ? { deferred: true } : {}) } : {}),
  }));
  const idType = table.id === false ? undefined : targetColumns.get(table.id.column)?.type;
  const idBaseType = table.id === false ? undefined : targetColumns.get(table.id.column)?.baseType;
  const dedupe = table.dedupe?.by ?? [];
  // NULL never equals NULL: a row with a NULL in its dedupe key is nobody's duplicate.
  const dedupeSql = dedupe.length ? `case when ${dedupe.map((e) => `(${e}) is null`).join(' or ')} then null else jsonb_build_array(${dedupe.map((e) => `(${e})`).join(', ')})::text end` : 'null::text';
  const key = `s.${quoteIdent(table.key)}`;
  const relation = sourceRelation(table.from);
  const selectList = [`(${key})::text`, dedupeSql, table.where ? `coalesce((${table.where}), false)` : 'true', ...columns.map((c) => `(${table.resolvedColumns[c.target]?.sql})`)];
  const copyColumns = ['__key', '__dedupe', '__keep', ...columns.map((c) => c.stage)];
  const stageDdl = `create temp table if not exists ${quoteIdent(stage)} (
    __seq bigint generated always as identity, __key text not null, __dedupe text, __keep boolean not null,
    ${columns.map((c) => `${c.stage} text`).join(', ')}${columns.length ? ', ' : ''}__dup boolean not null default false, __inserted boolean not null default false, __new text) on commit delete rows`;
  const joins = columns
    .filter((c) => c.refEntry)
    .map((c) => `left join ${COPY_SCHEMA}.id_map m_${c.stage} on m_${c.stage}.copy = ${quoteLiteral(plan.name)} and m_${c.stage}.entry = ${quoteLiteral(c.refEntry as string)} and m_${c.stage}.old_key = st.${c.stage}`);
  const targetList = [...(table.id === false ? [] : [quoteIdent(table.id.column)]), ...columns.map((c) => quoteIdent(c.target))];
  // A reference to the entry itself (a tree) may point at a row of the same range: its id is in the staging table.
  const refValue = (c: StagedColumn): string =>
    c.refEntry === table.entry ? `coalesce(m_${c.stage}.new_id, (select coalesce(o.__new, o.__key) from ${quoteIdent(stage)} o where o.__key = st.${c.stage} limit 1))` : `m_${c.stage}.new_id`;
  // Kept ids without dedupe are the source key itself: no id column to fill in the staging table first.
  const idValue = table.id !== false && table.id.generate === 'keep' && !table.dedupe ? 'st.__key' : 'st.__new';
  const valueList = [
    ...(table.id === false ? [] : [`${idValue}::${idBaseType}`]),
    ...columns.map((c) => (c.deferred ? `null::${c.baseType}` : c.refEntry ? `${refValue(c)}::${c.baseType}` : `st.${c.stage}::${c.baseType}`)),
  ];
  const rangeWhere = (lo: string | null, hi: string | null, filter?: string): string => {
    const terms = [...(lo === null ? [] : [`${key} > ${quoteLiteral(lo)}`]), ...(hi === null ? [] : [`${key} <= ${quoteLiteral(hi)}`]), ...(filter === undefined ? [] : [`(${filter})`])];
    return terms.length ? ` where ${terms.join(' and ')}` : '';
  };
  // Nothing to resolve in the target (no reference, dedupe, filter or id map): rows can stream straight into the table.
  const direct = !table.map && !table.where && !table.dedupe && !needsIdMap(plan, table) && columns.every((c) => c.refEntry !== table.entry && !c.deferred) && (table.id === false || table.id.generate === 'keep');
  const keyIsColumn = table.id !== false;
  return {
    copy: plan.name,
    table,
    targetQualified,
    stage,
    stageDdl,
    copyColumns,
    columns,
    idType,
    idMap: needsIdMap(plan, table),
    sourceQuery: (lo, hi, filter) => `select ${selectList.join(', ')} from ${relation} s${rangeWhere(lo, hi, filter)} order by ${key}`,
    mapQuery: (lo, hi, filter) => `select ${selectList.slice(0, 3).map((e, i) => `${e} as ${['__key', '__dedupe', '__keep'][i]}`).join(', ')}, s.* from ${relation} s${rangeWhere(lo, hi, filter)} order by ${key}`,
    keySql: key,
    boundsQuery: (size) =>
      `select count(*) as rows, count(*) filter (where k is null) as null_keys, count(*) filter (where k = prev) as duplicate_keys,
              coalesce(array_agg(k::text order by n) filter (where n % ${Math.trunc(size)} = 0), '{}') as bounds
       from (select ${key} as k, lag(${key}) over (order by ${key}) as prev, row_number() over (order by ${key}) as n from ${relation} s) t`,
    countQuery: `select count(*) as rows from ${relation} s`,
    directQuery: direct ? (lo, hi) => `select ${[`(${key})`, ...columns.map((c) => `(${table.resolvedColumns[c.target]?.sql})`)].join(', ')} from ${relation} s${rangeWhere(lo, hi)} order by ${key}` : undefined,
    directTarget: `${targetQualified} (${targetList.join(', ')})`,
    directKeyIsColumn: keyIsColumn,
    directRefs: columns.flatMap((c, i) => (c.refEntry ? [{ index: i + 1, column: c.target, entry: c.refEntry }] : [])),
    directColumns: columns.map((c) => c.target),
    deadRowSql: `jsonb_build_object(${[`${quoteLiteral(table.key)}, st.__key`, ...columns.map((c) => `${quoteLiteral(c.target)}, st.${c.stage}`)].join(', ')})`,
    insertSql: `insert into ${targetQualified} (${targetList.join(', ')}) select ${valueList.join(', ')} from ${quoteIdent(stage)} st ${joins.join(' ')} where not st.__dup and not st.__inserted`,
    deferredSql: columns
      .filter((c) => c.deferred)
      .map(
        (c) => `insert into ${COPY_SCHEMA}.copy_deferred (copy, entry, "column", row_id, old_key) select $1, $2, ${quoteLiteral(c.target)}, ${idValue}, st.${c.stage}
          from ${quoteIdent(stage)} st where not st.__dup and st.${c.stage} is not null on conflict do nothing`,
      ),
  };
}
