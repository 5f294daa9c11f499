import type pg from 'pg';
import { ColumnNotFoundError, NoUsableKeyError, TableNotFoundError } from '../errors.js';
import { quoteQualified } from '../sql.js';

/** Whether relation `name` (quoted `schema.table`, or a bare name on the search path) exists. Read-only. */
export async function relationExists(client: pg.ClientBase, name: string): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(`select to_regclass($1) is not null as found`, [name]);
  return rows[0]?.found === true;
}

/** One column as the catalog describes it. */
export interface ColumnInfo {
  readonly name: string;
  /** `format_type(atttypid, atttypmod)`: usable as a cast target, schema-qualified when needed. */
  readonly type: string;
  readonly notNull: boolean;
}

/** A table's shape as read from `pg_catalog` at one moment. */
export interface TableInfo {
  readonly schema: string;
  readonly name: string;
  readonly oid: number;
  /** `"schema"."name"`, quoted. */
  readonly qualified: string;
  readonly columns: ReadonlyMap<string, ColumnInfo>;
  /** Primary key columns in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
  /** Unique indexes that are valid, not partial, not expressional, over NOT NULL columns only. */
  readonly uniqueKeys: readonly (readonly string[])[];
  /** Planner's row estimate (`pg_class.reltuples`, -1 when never analysed on PG ≥ 14). */
  readonly estimatedRows: number;
}

/** Throws `ColumnNotFoundError` for the first of `columns` that `table` lacks, naming the option `field`. Pure. */
export function requireColumns(table: TableInfo, columns: Iterable<string>, field: string): void {
  for (const column of columns) {
    if (!table.columns.has(column)) throw new ColumnNotFoundError(table.qualified, column, field);
  }
}

/**
 * Reads a table's columns, primary key and usable unique keys. Read-only catalog queries; takes no lock
 * on the table. Throws `TableNotFoundError` naming the schema and table when it does not exist.
 */
export async function readTableInfo(client: pg.ClientBase, schema: string, table: string): Promise<TableInfo> {
  const { rows: relations } = await client.query<{ oid: number; reltuples: number }>(
    `select c.oid::int as oid, c.reltuples::float8 as reltuples from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p')`,
    [schema, table],
  );
  const relation = relations[0];
  if (!relation) throw new TableNotFoundError(schema, table);
  const { rows: columnRows } = await client.query<{ name: string; type: string; not_null: boolean }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null
     from pg_attribute a where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [relation.oid],
  );
  const columns = new Map(columnRows.map((row) => [row.name, { name: row.name, type: row.type, notNull: row.not_null }]));
  const { rows: indexRows } = await client.query<{ primary: boolean; columns: string[] }>(
    `select i.indisprimary as primary,
            array(select a.attname from unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) with ordinality k(attnum, ord)
                  join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord)::text[] as columns
     from pg_index i
     where i.indrelid = $1 and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null
       and 0 <> all (i.indkey::int2[])
     order by i.indisprimary desc, i.indnatts, i.indexrelid`,
    [relation.oid],
  );
  const primaryKey = indexRows.find((row) => row.primary)?.columns ?? [];
  const uniqueKeys = indexRows
    .filter((row) => !row.primary && row.columns.every((column) => columns.get(column)?.notNull === true))
    .map((row) => row.columns);
  return {
    schema,
    name: table,
    oid: relation.oid,
    qualified: quoteQualified(schema, table),
    columns,
    primaryKey,
    uniqueKeys,
    estimatedRows: relation.reltuples,
  };
}

/**
 * The columns to walk `table` by in keyset order: `requested` when given (they must form the primary key or
 * a usable unique key), else the primary key, else the narrowest unique key over NOT NULL columns. Pure.
 * Throws `NoUsableKeyError` naming the table when there is none, because keyset pagination over a
 * non-unique key would skip or repeat rows.
 */
export function chooseWalkKey(table: TableInfo, requested?: readonly string[]): readonly string[] {
  const candidates = table.primaryKey.length > 0 ? [table.primaryKey, ...table.uniqueKeys] : table.uniqueKeys;
  if (requested) {
    const match = candidates.find((key) => key.length === requested.length && key.every((column, i) => column === requested[i]));
    if (!match) {
      throw new NoUsableKeyError(
        table.qualified,
        `key (${requested.map((c) => `"${c}"`).join(', ')}) is not its primary key or a valid, non-partial unique index over NOT NULL columns`,
      );
    }
    return match;
  }
  const chosen = candidates[0];
  if (!chosen) {
    throw new NoUsableKeyError(
      table.qualified,
      'it has no primary key and no valid unique index over NOT NULL columns; add a primary key (an identity column ' +
        'added with the addColumn operation is enough) and run again',
    );
  }
  return chosen;
}
