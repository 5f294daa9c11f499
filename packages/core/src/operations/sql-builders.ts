import type pg from 'pg';
import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';
import { identifierSchema, quoteIdent, quoteQualified, quoteTable } from '../sql.js';
import type { SnapshotTable } from '../db/catalog-snapshot.js';
import { relationExists } from '../db/table-catalog.js';
import type { Check, PlannedStatement, SqlUnit } from './operation.js';

/** Schema field of every spec: explicit, defaulting to `public` in one visible place. */
export const schemaField = identifierSchema.default('public');
/** An identifier field (table, column, index name): {@link identifierSchema}. */
export const identifier = identifierSchema;
/** A name that labels a step or unit (folder names, tracking rows), not a SQL identifier: any length, no control characters. */
export const labelField = z.string().min(1, 'must not be empty').regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');
/** A non-empty SQL fragment. */
export const sqlFragment = z.string().trim().min(1, 'must be a non-empty SQL fragment');

/** `"a", "b"`. Pure. */
export function columnList(columns: readonly string[]): string {
  return columns.map(quoteIdent).join(', ');
}

/** `ALTER TABLE "s"."t" <action>` as a statement. Pure. */
export function alterTable(schema: string | undefined, table: string, action: string, lock: PlannedStatement['lock'], scansData = false): PlannedStatement {
  return { sql: `ALTER TABLE ${quoteTable(schema, table)} ${action}`, lock, scansData };
}

/** The unit building an index with `CREATE [UNIQUE] INDEX CONCURRENTLY` (its own folder, no transaction). Pure. */
export function createIndexConcurrentlyUnit(
  unitName: string,
  index: { schema: string; table: string; name: string; columns: readonly string[]; unique?: boolean; using?: string; where?: string },
): SqlUnit {
  const method = index.using ? ` USING ${index.using}` : '';
  const where = index.where ? ` WHERE ${index.where}` : '';
  return {
    kind: 'sql',
    name: unitName,
    transactional: false,
    buildsIndex: { schema: index.schema, name: index.name },
    statements: [
      {
        sql: `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${quoteIdent(index.name)} ON ${quoteQualified(index.schema, index.table)}${method} (${columnList(index.columns)})${where}`,
        lock: 'SHARE UPDATE EXCLUSIVE',
        scansData: true,
      },
    ],
  };
}

/** The unit dropping an index with `DROP INDEX CONCURRENTLY IF EXISTS` (its own folder). Pure. */
export function dropIndexConcurrentlyUnit(unitName: string, schema: string, name: string): SqlUnit {
  return {
    kind: 'sql',
    name: unitName,
    transactional: false,
    statements: [{ sql: `DROP INDEX CONCURRENTLY IF EXISTS ${quoteQualified(schema, name)}`, lock: 'SHARE UPDATE EXCLUSIVE', scansData: false }],
  };
}

/**
 * Turns an index definition as `pg_get_indexdef` prints it (`CREATE [UNIQUE] INDEX name ON …`) into its
 * `CONCURRENTLY` form (with `ifNotExists`, a no-op when it is there), so a dropped index can be rebuilt
 * without blocking writes. Pure.
 */
export function concurrentIndexDefinition(definition: string, options: { ifNotExists?: boolean } = {}): string {
  for (const prefix of ['CREATE UNIQUE INDEX ', 'CREATE INDEX ']) {
    if (definition.startsWith(prefix)) return `${prefix}CONCURRENTLY ${options.ifNotExists ? 'IF NOT EXISTS ' : ''}${definition.slice(prefix.length)}`;
  }
  throw new InvalidArgumentError('index definition', `unexpected form "${definition}"`);
}

/** Reads whether an index exists and is valid; one check named after it. Read-only. */
export async function checkIndex(client: pg.ClientBase, schema: string, name: string, expectUnique = false): Promise<Check> {
  const { rows } = await client.query<{ valid: boolean; unique: boolean }>(
    `select i.indisvalid as valid, i.indisunique as unique from pg_index i join pg_class c on c.oid = i.indexrelid
     join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
    [schema, name],
  );
  const row = rows[0];
  const ok = row !== undefined && row.valid && (!expectUnique || row.unique);
  return { name: `index "${name}" valid`, ok, detail: row ? `valid=${row.valid} unique=${row.unique}` : 'missing' };
}

/** Reads a column's presence, type and nullability; one check. Read-only. */
export async function checkColumn(
  client: pg.ClientBase,
  schema: string,
  table: string,
  column: string,
  expect: { present: boolean; notNull?: boolean },
): Promise<Check> {
  const { rows } = await client.query<{ type: string; not_null: boolean }>(
    `select format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null from pg_attribute a
     join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relname = $2 and a.attname = $3 and a.attnum > 0 and not a.attisdropped`,
    [schema, table, column],
  );
  const row = rows[0];
  const ok = expect.present ? row !== undefined && (expect.notNull === undefined || row.not_null === expect.notNull) : row === undefined;
  const detail = row ? `${row.type}${row.not_null ? ' not null' : ''}` : 'absent';
  return { name: `column "${table}"."${column}" ${expect.present ? 'present' : 'absent'}${expect.notNull ? ' and not null' : ''}`, ok, detail };
}

/** Reads a constraint's presence and validation; one check. Read-only. */
export async function checkConstraint(client: pg.ClientBase, schema: string, table: string, name: string, present = true): Promise<Check> {
  const { rows } = await client.query<{ validated: boolean }>(
    `select k.convalidated as validated from pg_constraint k join pg_class c on c.oid = k.conrelid
     join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2 and k.conname = $3`,
    [schema, table, name],
  );
  const row = rows[0];
  const ok = present ? row?.validated === true : row === undefined;
  return { name: `constraint "${name}" ${present ? 'present and validated' : 'absent'}`, ok, detail: row ? `validated=${row.validated}` : 'absent' };
}

/** Whether a table exists; one check. Read-only. */
export async function checkTable(client: pg.ClientBase, schema: string, table: string, present = true): Promise<Check> {
  const found = await relationExists(client, quoteQualified(schema, table));
  return { name: `table "${schema}"."${table}" ${present ? 'present' : 'absent'}`, ok: found === present, detail: found ? 'present' : 'absent' };
}

/** Counts rows matching `predicate` (alias `t`) and lists up to `limit` primary-key samples. Read-only scan. */
export async function countWithSamples(
  client: pg.ClientBase,
  schema: string,
  table: string,
  predicate: string,
  sampleColumns: readonly string[],
  limit = 5,
): Promise<{ count: number; samples: string[] }> {
  const qualified = quoteQualified(schema, table);
  const { rows } = await client.query<{ n: string }>(`select count(*)::text as n from ${qualified} t where ${predicate}`);
  const count = Number(rows[0]?.n ?? 0);
  if (count === 0 || sampleColumns.length === 0) return { count, samples: [] };
  const { rows: samples } = await client.query<{ s: string }>(
    `select (${sampleColumns.map((c) => `coalesce(t.${quoteIdent(c)}::text, 'null')`).join(` || ', ' || `)}) as s from ${qualified} t where ${predicate} limit ${limit}`,
  );
  return { count, samples: samples.map((row) => `(${row.s})`) };
}

/** The primary key columns of a snapshot table (empty when it has none). Pure. */
export function primaryKeyOf(table: SnapshotTable): readonly string[] {
  const constraint = table.constraints.find((c) => c.type === 'p');
  const index = constraint ? table.indexes.find((i) => i.constraint === constraint.name) : undefined;
  return (index?.columns ?? []).filter((c): c is string => c !== null);
}


/** The comment on the view `renameTable` leaves under a table's old name, so other operations know it for the toolkit's. */
export const RENAME_TABLE_VIEW_COMMENT = 'prisma-evolve: renameTable keeps the old name working until contract';

/**
 * The views, materialized views and rules that read `column` of `schema.table` (from `pg_depend` through
 * `pg_rewrite`), as `"schema"."name"`: a column they depend on cannot be dropped or swapped without them.
 * The view `renameTable` leaves under a table's old name is not counted: its contract drops it first.
 * Read-only.
 */
export async function dependentViews(client: pg.ClientBase, schema: string, table: string, column: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select distinct '"' || replace(vn.nspname::text, '"', '""') || '"."' || replace(v.relname::text, '"', '""') || '"' as name
       from pg_depend d join pg_rewrite r on r.oid = d.objid join pg_class v on v.oid = r.ev_class join pg_namespace vn on vn.oid = v.relnamespace
       join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
      where d.classid = 'pg_rewrite'::regclass and d.refobjid = $1::regclass and a.attname = $2 and v.oid <> d.refobjid
        and obj_description(v.oid, 'pg_class') is distinct from $3
      order by 1`,
    [quoteQualified(schema, table), column, RENAME_TABLE_VIEW_COMMENT],
  );
  return rows.map((row) => row.name);
}

/** The precheck of an operation that swaps or drops `column`: no view or rule reads it (named when one does). Read-only. */
export async function checkNoDependentViews(client: pg.ClientBase, schema: string, table: string, column: string): Promise<Check> {
  const views = await dependentViews(client, schema, table, column);
  return {
    name: `no view reads "${table}"."${column}"`,
    ok: views.length === 0,
    detail: views.length === 0 ? 'none' : `${views.join(', ')} read${views.length === 1 ? 's' : ''} it; drop or change ${views.length === 1 ? 'it' : 'them'} first and recreate after the contract`,
  };
}
