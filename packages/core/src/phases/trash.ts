import type pg from 'pg';
import { InvalidArgumentError } from '../errors.js';
import { boundedName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Removal } from './down-removals.js';

/** Schema the rollback moves removed tables and columns into (outside Prisma's view). */
export const TRASH_SCHEMA = '_evolve_trash';

/** A foreign key the trash move detached (into or out of a trashed table), kept to re-add on restore. */
export interface DetachedForeignKey {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly definition: string;
}

/** One table or column kept in the trash by a rollback. */
export interface TrashEntry {
  readonly id: number;
  readonly phase: string;
  readonly step: string;
  readonly kind: 'table' | 'column';
  readonly schema: string;
  readonly table: string;
  readonly column: string | null;
  /** The table in {@link TRASH_SCHEMA} holding it (the moved table, or primary key + values of a column). */
  readonly trashTable: string;
  readonly keyColumns: readonly string[];
  /** The column's type (`format_type`), to re-create it on restore. */
  readonly columnType: string | null;
  readonly foreignKeys: readonly DetachedForeignKey[];
  /** Rows of the table, or non-null values of the column, when it was trashed. */
  readonly rows: number;
  readonly trashedAt: Date;
  readonly restoredAt: Date | null;
  readonly purgedAt: Date | null;
}

/** Where a trashed object came from: the rollback, its phase and step. */
export interface TrashOrigin {
  readonly phase: string;
  readonly step: string;
  /** The rollback's time: part of every trash table's name. */
  readonly at: Date;
  readonly stateSchema: string;
}

/** DDL of the trash schema and ledger (`<stateSchema>.trash`); idempotent. */
export function trashDdl(stateSchema: string): string[] {
  return [
    `create schema if not exists ${quoteIdent(TRASH_SCHEMA)}`,
    `create table if not exists ${quoteQualified(stateSchema, 'trash')} (
       id bigserial primary key, phase text not null, step text not null, kind text not null check (kind in ('table', 'column')),
       schema_name text not null, table_name text not null, column_name text, trash_table text not null unique,
       key_columns jsonb not null default '[]', column_type text, foreign_keys jsonb not null default '[]', row_count bigint not null,
       trashed_at timestamptz not null default now(), restored_at timestamptz, purged_at timestamptz)`,
  ];
}

/** Name of the trash table of `removal`: `<phase>_<yyyymmddhhmmss>_<table>[_<column>]`, at most 63 bytes. Pure. */
export function trashTableName(removal: Removal, origin: Pick<TrashOrigin, 'phase' | 'at'>): string {
  const stamp = origin.at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return boundedName([origin.phase, stamp, removal.table, ...(removal.column === undefined ? [] : [removal.column])].join('_'));
}

async function primaryKey(client: pg.ClientBase, qualified: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select a.attname as name from pg_index i join lateral unnest(i.indkey) with ordinality k(attnum, ord) on true
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = $1::regclass and i.indisprimary order by k.ord`,
    [qualified],
  );
  return rows.map((row) => row.name);
}

async function columnType(client: pg.ClientBase, qualified: string, column: string): Promise<string | undefined> {
  const { rows } = await client.query<{ type: string }>(
    `select format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = $1::regclass and attname = $2 and attnum > 0 and not attisdropped`,
    [qualified, column],
  );
  return rows[0]?.type;
}

/**
 * Whether `removal` can be kept in the trash, read before a rollback changes anything: a column needs a
 * primary key on its table to be restored by. Returns the problem, naming the table and column, or
 * `undefined`. Read-only.
 */
export async function trashProblem(client: pg.ClientBase, removal: Removal): Promise<string | undefined> {
  const qualified = quoteQualified(removal.schema, removal.table);
  if (removal.column === undefined) return undefined;
  const { rows } = await client.query<{ found: boolean }>(`select to_regclass($1) is not null as found`, [qualified]);
  if (!rows[0]?.found || (await columnType(client, qualified, removal.column)) === undefined) return undefined;
  if ((await primaryKey(client, qualified)).length > 0) return undefined;
  return `cannot keep the values of "${removal.schema}"."${removal.table}"."${removal.column}" in the trash: "${removal.table}" has no primary key to restore them by`;
}

/**
 * Rows (table) or non-null values (column) that `removal` would remove now; `undefined` when the object is
 * gone already. Read-only (a count; a scan of the table).
 */
export async function countRemoved(client: pg.ClientBase, removal: Removal): Promise<number | undefined> {
  const qualified = quoteQualified(removal.schema, removal.table);
  const { rows: found } = await client.query<{ found: boolean }>(`select to_regclass($1) is not null as found`, [qualified]);
  if (!found[0]?.found) return undefined;
  if (removal.column !== undefined && (await columnType(client, qualified, removal.column)) === undefined) return undefined;
  const where = removal.column === undefined ? '' : ` where ${quoteIdent(removal.column)} is not null`;
  const { rows } = await client.query<{ n: number }>(`select count(*)::float8 as n from ${qualified}${where}`);
  return rows[0]?.n ?? 0;
}

/**
 * Moves `removal` into the trash instead of losing it; runs inside the caller's transaction (the down
 * unit's), so the move, the ledger row and the rest of the unit commit together. Idempotent: an object
 * already gone is skipped.
 * - A table: its foreign keys into and out of it are detached (recorded with their definitions), then it is
 *   renamed and moved to {@link TRASH_SCHEMA} with its indexes, constraints and owned sequences
 *   (ACCESS EXCLUSIVE, no scan; the row count is read before the lock).
 * - A column: the table is locked in SHARE mode (reads go on, writes wait), its primary key and non-null
 *   values are copied to a trash table; the caller's `DROP COLUMN` then removes it.
 * Returns the ledger entry's id, or `undefined` when there was nothing to keep.
 */
export async function moveToTrash(client: pg.ClientBase, removal: Removal, origin: TrashOrigin): Promise<number | undefined> {
  const qualified = quoteQualified(removal.schema, removal.table);
  const count = await countRemoved(client, removal);
  if (count === undefined) return undefined;
  const trashTable = trashTableName(removal, origin);
  let keyColumns: string[] = [];
  let type: string | null = null;
  let foreignKeys: DetachedForeignKey[] = [];
  if (removal.column === undefined) {
    const { rows } = await client.query<DetachedForeignKey>(
      `select n.nspname as schema, c.relname as table, k.conname as name, pg_get_constraintdef(k.oid) as definition
         from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
        where k.contype = 'f' and k.conrelid <> k.confrelid and (k.conrelid = $1::regclass or k.confrelid = $1::regclass)`,
      [qualified],
    );
    foreignKeys = rows;
    for (const fk of foreignKeys) await client.query(`alter table ${quoteQualified(fk.schema, fk.table)} drop constraint ${quoteIdent(fk.name)}`);
    await client.query(`alter table ${qualified} rename to ${quoteIdent(trashTable)}`);
    await client.query(`alter table ${quoteQualified(removal.schema, trashTable)} set schema ${quoteIdent(TRASH_SCHEMA)}`);
  } else {
    keyColumns = await primaryKey(client, qualified);
    if (keyColumns.length === 0) throw new InvalidArgumentError('rollback', (await trashProblem(client, removal)) ?? `"${removal.table}" has no primary key`);
    type = (await columnType(client, qualified, removal.column)) ?? null;
    await client.query(`lock table ${qualified} in share mode`);
    const columns = [...keyColumns, removal.column].map(quoteIdent).join(', ');
    await client.query(`create table ${quoteQualified(TRASH_SCHEMA, trashTable)} as select ${columns} from ${qualified} where ${quoteIdent(removal.column)} is not null`);
  }
  const { rows } = await client.query<{ id: string }>(
    `insert into ${quoteQualified(origin.stateSchema, 'trash')} (phase, step, kind, schema_name, table_name, column_name, trash_table, key_columns, column_type, foreign_keys, row_count, trashed_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id`,
    [
      origin.phase,
      origin.step,
      removal.column === undefined ? 'table' : 'column',
      removal.schema,
      removal.table,
      removal.column ?? null,
      trashTable,
      JSON.stringify(keyColumns),
      type,
      JSON.stringify(foreignKeys),
      count,
      origin.at,
    ],
  );
  return Number(rows[0]?.id);
}
