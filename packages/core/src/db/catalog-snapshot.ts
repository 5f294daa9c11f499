import type pg from 'pg';
import { ColumnNotFoundError, TableNotFoundError } from '../errors.js';
import { quoteQualified } from '../sql.js';

/** A column as the snapshot records it. */
export interface SnapshotColumn {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly default: string | null;
  /** True for identity columns and for columns that own a sequence (serial). */
  readonly generated: boolean;
}

/** A constraint (p, u, f, c, x) with its definition as PostgreSQL prints it. */
export interface SnapshotConstraint {
  readonly name: string;
  readonly type: string;
  readonly definition: string;
  readonly validated: boolean;
  /** Columns of this table the constraint involves (`conkey`), sorted. */
  readonly columns: readonly string[];
  /** For a foreign key: the referenced table as `"schema"."table"`, and its ON DELETE action code (`a`, `r`, `c`, `n`, `d`). */
  readonly referencedTable: string | null;
  readonly deleteAction: string | null;
}

/** An index with its definition and validity. */
export interface SnapshotIndex {
  readonly name: string;
  readonly definition: string;
  readonly valid: boolean;
  readonly unique: boolean;
  /** Key column names (expressions show as null). */
  readonly columns: readonly (string | null)[];
  /** Set when the index backs a constraint. */
  readonly constraint: string | null;
  /** Every column the index references, in keys, expressions or its predicate (`pg_depend`), sorted. */
  readonly references: readonly string[];
}

/**
 * Whether an index covers a foreign key's columns: valid, btree, not partial, and its leading key columns are
 * those columns (in any order). The one definition of "an indexed foreign key" for `addForeignKey` and
 * `analyze` (docs/analyze.md). Pure.
 */
export function indexCoversColumns(index: SnapshotIndex, columns: readonly string[]): boolean {
  if (!index.valid || !/ USING btree /.test(index.definition) || / WHERE \(/.test(index.definition)) return false;
  const leading = index.columns.slice(0, columns.length);
  return leading.length === columns.length && columns.every((c) => leading.includes(c));
}

/** One table in the snapshot. */
export interface SnapshotTable {
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly SnapshotColumn[];
  readonly constraints: readonly SnapshotConstraint[];
  readonly indexes: readonly SnapshotIndex[];
  readonly triggers: readonly string[];
}

/**
 * The schema objects of some schemas at one moment: tables with their columns (in order), constraints,
 * indexes and triggers, plus functions by name. Plain data, sorted, so two snapshots compare with deep
 * equality. Operations plan against it; tests compare it before and after a rollback.
 */
export interface CatalogSnapshot {
  readonly tables: readonly SnapshotTable[];
  readonly functions: readonly string[];
}

/**
 * Reads a {@link CatalogSnapshot} of `schemas`. Read-only catalog queries; no locks on user tables. Columns
 * are sorted by name, not position: PostgreSQL cannot put a re-added column back in place.
 * `pg_catalog` columns of type `name`/`"char"` are cast to text (the describer bug prisma/orm#27403
 * does not apply here).
 */
export async function readCatalogSnapshot(client: pg.ClientBase, schemas: readonly string[]): Promise<CatalogSnapshot> {
  const { rows: columns } = await client.query<{
    schema: string;
    table: string;
    name: string;
    type: string;
    not_null: boolean;
    default: string | null;
    generated: boolean;
  }>(
    `select n.nspname::text as schema, c.relname::text as table, a.attname::text as name,
            format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null, pg_get_expr(d.adbin, d.adrelid) as default,
            (a.attidentity <> '' or exists (select 1 from pg_depend dep where dep.refobjid = c.oid and dep.refobjsubid = a.attnum
               and dep.classid = 'pg_class'::regclass and dep.deptype in ('a', 'i')
               and (select relkind from pg_class s where s.oid = dep.objid) = 'S')) as generated
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
     where n.nspname = any($1) and c.relkind in ('r', 'p')
     order by 1, 2, 3`,
    [schemas],
  );
  const { rows: constraints } = await client.query<{
    schema: string;
    table: string;
    name: string;
    type: string;
    definition: string;
    validated: boolean;
    columns: string[];
    referenced_table: string | null;
    delete_action: string | null;
  }>(
    `select n.nspname::text as schema, c.relname::text as table, k.conname::text as name, k.contype::text as type,
            pg_get_constraintdef(k.oid) as definition, k.convalidated as validated,
            (select '"' || replace(rn.nspname::text, '"', '""') || '"."' || replace(rc.relname::text, '"', '""') || '"' from pg_class rc join pg_namespace rn on rn.oid = rc.relnamespace where rc.oid = k.confrelid) as referenced_table,
            nullif(k.confdeltype::text, ' ') as delete_action,
            array(select a.attname::text from pg_attribute a where a.attrelid = k.conrelid and a.attnum = any(k.conkey) order by 1) as columns
     from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) order by 1, 2, 3`,
    [schemas],
  );
  const { rows: indexes } = await client.query<{
    schema: string;
    table: string;
    name: string;
    definition: string;
    valid: boolean;
    unique: boolean;
    columns: (string | null)[];
    constraint: string | null;
    references: string[];
  }>(
    `select n.nspname::text as schema, c.relname::text as table, ic.relname::text as name, pg_get_indexdef(i.indexrelid) as definition,
            i.indisvalid as valid, i.indisunique as unique,
            array(select a.attname::text from unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) with ordinality k(attnum, ord)
                  left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord) as columns,
            (select k.conname::text from pg_constraint k where k.conindid = i.indexrelid and k.contype in ('p', 'u', 'x') limit 1) as constraint,
            array(select distinct a.attname::text from pg_depend d
                  join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
                  where d.classid = 'pg_class'::regclass and d.objid = i.indexrelid and d.refobjsubid > 0 order by 1) as references
     from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid
     join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) order by 1, 2, 3`,
    [schemas],
  );
  const { rows: triggers } = await client.query<{ schema: string; table: string; name: string }>(
    `select n.nspname::text as schema, c.relname::text as table, t.tgname::text as name
     from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) and not t.tgisinternal order by 1, 2, 3`,
    [schemas],
  );
  const { rows: functions } = await client.query<{ name: string }>(
    `select n.nspname::text || '.' || p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')' as name
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = any($1) order by 1`,
    [schemas],
  );
  const key = (row: { schema: string; table: string }): string => `${row.schema}\u0000${row.table}`;
  const tables = new Map<string, { schema: string; name: string; columns: SnapshotColumn[]; constraints: SnapshotConstraint[]; indexes: SnapshotIndex[]; triggers: string[] }>();
  for (const row of columns) {
    let table = tables.get(key(row));
    if (!table) {
      table = { schema: row.schema, name: row.table, columns: [], constraints: [], indexes: [], triggers: [] };
      tables.set(key(row), table);
    }
    table.columns.push({ name: row.name, type: row.type, notNull: row.not_null, default: row.default, generated: row.generated });
  }
  for (const row of constraints) {
    tables.get(key(row))?.constraints.push({
      name: row.name,
      type: row.type,
      definition: row.definition,
      validated: row.validated,
      columns: row.columns,
      referencedTable: row.referenced_table,
      deleteAction: row.delete_action,
    });
  }
  for (const row of indexes) {
    tables.get(key(row))?.indexes.push({
      name: row.name,
      definition: row.definition,
      valid: row.valid,
      unique: row.unique,
      columns: row.columns,
      constraint: row.constraint,
      references: row.references,
    });
  }
  for (const row of triggers) tables.get(key(row))?.triggers.push(row.name);
  return { tables: [...tables.values()], functions: functions.map((row) => row.name) };
}

/** Looks a table up in a snapshot; throws `TableNotFoundError` naming it when absent. Pure. */
export function requireTable(catalog: CatalogSnapshot, schema: string, table: string): SnapshotTable {
  const found = catalog.tables.find((t) => t.schema === schema && t.name === table);
  if (!found) throw new TableNotFoundError(schema, table);
  return found;
}

/** Looks a column up; throws `ColumnNotFoundError` naming table, column and where it was named. Pure. */
export function requireColumn(table: SnapshotTable, column: string, role: string): SnapshotColumn {
  const found = table.columns.find((c) => c.name === column);
  if (!found) throw new ColumnNotFoundError(quoteQualified(table.schema, table.name), column, role);
  return found;
}

/** Finds a table, or undefined. Pure. */
export function findTable(catalog: CatalogSnapshot, schema: string, table: string): SnapshotTable | undefined {
  return catalog.tables.find((t) => t.schema === schema && t.name === table);
}

/** Finds an index by name in a schema, with its table, or undefined. Pure. */
export function findIndex(catalog: CatalogSnapshot, schema: string, name: string): { table: SnapshotTable; index: SnapshotIndex } | undefined {
  for (const table of catalog.tables) {
    if (table.schema !== schema) continue;
    const index = table.indexes.find((i) => i.name === name);
    if (index) return { table, index };
  }
  return undefined;
}
