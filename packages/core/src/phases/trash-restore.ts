import type pg from 'pg';
import { InvalidArgumentError } from '../errors.js';
import { relationExists } from '../db/table-catalog.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../db/retry-policy.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { TRASH_SCHEMA, type DetachedForeignKey, type TrashEntry } from './trash.js';

interface LedgerRow {
  id: string;
  phase: string;
  step: string;
  kind: 'table' | 'column';
  schema_name: string;
  table_name: string;
  column_name: string | null;
  trash_table: string;
  key_columns: string[];
  column_type: string | null;
  foreign_keys: DetachedForeignKey[];
  row_count: number;
  trashed_at: Date;
  restored_at: Date | null;
  purged_at: Date | null;
}

function entryOf(row: LedgerRow): TrashEntry {
  return {
    id: Number(row.id),
    phase: row.phase,
    step: row.step,
    kind: row.kind,
    schema: row.schema_name,
    table: row.table_name,
    column: row.column_name,
    trashTable: row.trash_table,
    keyColumns: row.key_columns,
    columnType: row.column_type,
    foreignKeys: row.foreign_keys,
    rows: Number(row.row_count),
    trashedAt: row.trashed_at,
    restoredAt: row.restored_at,
    purgedAt: row.purged_at,
  };
}

const SELECT = `select id::text, phase, step, kind, schema_name, table_name, column_name, trash_table, key_columns, column_type, foreign_keys,
  row_count::float8 as row_count, trashed_at, restored_at, purged_at`;

/** Every trash entry (newest first), restored and purged ones included; empty when no rollback kept anything. Read-only. */
export async function listTrash(client: pg.ClientBase, stateSchema: string): Promise<TrashEntry[]> {
  const ledger = quoteQualified(stateSchema, 'trash');
  if (!(await relationExists(client, ledger))) return [];
  const { rows } = await client.query<LedgerRow>(`${SELECT} from ${ledger} order by id desc`);
  return rows.map(entryOf);
}

/** The entry `id` still in the trash (not restored, not purged), locked for the caller's transaction. */
async function heldEntry(client: pg.ClientBase, stateSchema: string, id: number): Promise<TrashEntry> {
  const ledger = quoteQualified(stateSchema, 'trash');
  const { rows } = (await relationExists(client, ledger)) ? await client.query<LedgerRow>(`${SELECT} from ${ledger} where id = $1 for update`, [id]) : { rows: [] };
  const row = rows[0];
  if (!row) throw new InvalidArgumentError('trash id', `there is no trash entry ${id} (prisma-evolve trash list shows them)`);
  const entry = entryOf(row);
  if (entry.restoredAt || entry.purgedAt) {
    throw new InvalidArgumentError('trash id', `trash entry ${id} ("${entry.schema}"."${entry.table}"${entry.column ? `."${entry.column}"` : ''}) was ${entry.restoredAt ? 'restored' : 'purged'} already`);
  }
  return entry;
}

async function columnsOf(client: pg.ClientBase, qualified: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select attname as name from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = '' order by attnum`,
    [qualified],
  );
  return rows.map((row) => row.name);
}

async function heldEntries(client: pg.ClientBase, stateSchema: string, ids: readonly number[]): Promise<TrashEntry[]> {
  const entries: TrashEntry[] = [];
  for (const id of ids) entries.push(await heldEntry(client, stateSchema, id));
  return entries;
}

/**
 * Re-adds the column of a column entry when the table lacks it, in a short transaction of its own (ACCESS
 * EXCLUSIVE briefly, no rewrite), so the values are written back afterwards under row locks only. A crash
 * in between leaves an empty nullable column and the entry held: a rerun fills it. Other entries: nothing.
 */
async function addMissingColumn(client: pg.ClientBase, stateSchema: string, id: number): Promise<void> {
  const entry = (await listTrash(client, stateSchema)).find((candidate) => candidate.id === id);
  if (entry?.kind !== 'column' || entry.restoredAt || entry.purgedAt || entry.column === null) return;
  const live = quoteQualified(entry.schema, entry.table);
  if (!(await relationExists(client, live))) return;
  await client.query('begin');
  try {
    await client.query(`set local lock_timeout = '${DEFAULT_LOCK_TIMEOUT_MS}ms'`);
    await client.query(`alter table ${live} add column if not exists ${quoteIdent(entry.column)} ${entry.columnType ?? 'text'}`);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** What a restore did. */
export interface RestoreResult {
  readonly entry: TrashEntry;
  /** `moved`: the table went back whole; `merged`: rows or values were copied into what exists now. */
  readonly mode: 'moved' | 'merged';
  /** Rows inserted (a merged table) or values written (a column). */
  readonly restored: number;
  /** Foreign keys re-added, and those that could not be (their other table is gone), by name. */
  readonly foreignKeys: { readonly added: readonly string[]; readonly skipped: readonly string[] };
}

/**
 * Puts trash entry `id` back, in one transaction (under `lock_timeout`) that also marks it restored (all or
 * nothing; a rerun of a restored entry is refused by name):
 * - a table whose name is free again moves back whole (ACCESS EXCLUSIVE on it, no scan) and its detached
 *   foreign keys are re-added (`NOT VALID`, then `VALIDATE`, in the same transaction: SHARE ROW EXCLUSIVE
 *   on the other table until commit); when the phase ran again and the table exists, its rows are inserted
 *   into it (common columns, `ON CONFLICT DO NOTHING`: rows the application wrote since win) and the trash
 *   table is dropped;
 * - a column is re-added first if missing (nullable, with its type, in a short transaction of its own), then
 *   its values are written back by primary key only where the live value is NULL (one UPDATE; row locks on
 *   those rows), and the trash table is dropped.
 * Callers should hold the runner lease (the CLI does).
 */
export async function restoreTrash(client: pg.ClientBase, stateSchema: string, id: number): Promise<RestoreResult> {
  await addMissingColumn(client, stateSchema, id);
  await client.query('begin');
  try {
    await client.query(`set local lock_timeout = '${DEFAULT_LOCK_TIMEOUT_MS}ms'`);
    const entry = await heldEntry(client, stateSchema, id);
    const live = quoteQualified(entry.schema, entry.table);
    const trashed = quoteQualified(TRASH_SCHEMA, entry.trashTable);
    if (!(await relationExists(client, trashed))) throw new InvalidArgumentError('trash id', `trash table ${trashed} of entry ${id} is missing`);
    const liveExists = await relationExists(client, live);
    let result: Omit<RestoreResult, 'entry'>;
    if (entry.kind === 'table' && !liveExists) {
      await client.query(`alter table ${trashed} set schema ${quoteIdent(entry.schema)}`);
      await client.query(`alter table ${quoteQualified(entry.schema, entry.trashTable)} rename to ${quoteIdent(entry.table)}`);
      const added: string[] = [];
      const skipped: string[] = [];
      for (const fk of entry.foreignKeys) {
        const owner = quoteQualified(fk.schema, fk.table);
        // The other table of a key may be gone (rolled back too): that key cannot come back now.
        const { rows } = await client.query<{ ok: boolean }>(
          `select to_regclass($1) is not null and not exists (select 1 from pg_constraint where conrelid = to_regclass($1) and conname = $2) as ok`,
          [owner, fk.name],
        );
        if (!rows[0]?.ok) {
          skipped.push(fk.name);
          continue;
        }
        try {
          await client.query('savepoint fk');
          await client.query(`alter table ${owner} add constraint ${quoteIdent(fk.name)} ${fk.definition} not valid`);
          await client.query(`alter table ${owner} validate constraint ${quoteIdent(fk.name)}`);
          await client.query('release savepoint fk');
          added.push(fk.name);
        } catch {
          await client.query('rollback to savepoint fk');
          skipped.push(fk.name);
        }
      }
      result = { mode: 'moved', restored: entry.rows, foreignKeys: { added, skipped } };
    } else if (entry.kind === 'table') {
      const liveColumns = new Set(await columnsOf(client, live));
      const common = (await columnsOf(client, trashed)).filter((c) => liveColumns.has(c)).map(quoteIdent).join(', ');
      const inserted = await client.query(`insert into ${live} (${common}) select ${common} from ${trashed} on conflict do nothing`);
      await client.query(`drop table ${trashed}`);
      result = { mode: 'merged', restored: inserted.rowCount ?? 0, foreignKeys: { added: [], skipped: entry.foreignKeys.map((fk) => fk.name) } };
    } else {
      if (!liveExists) throw new InvalidArgumentError('trash id', `cannot restore column "${entry.column}" of entry ${id}: table ${live} does not exist`);
      const column = quoteIdent(entry.column ?? '');
      const on = entry.keyColumns.map((k) => `t.${quoteIdent(k)} = b.${quoteIdent(k)}`).join(' and ');
      const updated = await client.query(`update ${live} t set ${column} = b.${column} from ${trashed} b where ${on} and t.${column} is null`);
      await client.query(`drop table ${trashed}`);
      result = { mode: 'merged', restored: updated.rowCount ?? 0, foreignKeys: { added: [], skipped: [] } };
    }
    await client.query(`update ${quoteQualified(stateSchema, 'trash')} set restored_at = now() where id = $1`, [id]);
    await client.query('commit');
    return { entry, ...result };
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/**
 * Drops the trash tables of the entries `ids` (or of every entry still held, with `'all'`) for good and
 * marks them purged, in one transaction. An id that was restored or purged already is refused by name.
 * Returns the entries purged.
 */
export async function purgeTrash(client: pg.ClientBase, stateSchema: string, ids: readonly number[] | 'all'): Promise<TrashEntry[]> {
  await client.query('begin');
  try {
    await client.query(`set local lock_timeout = '${DEFAULT_LOCK_TIMEOUT_MS}ms'`);
    const targets =
      ids === 'all'
        ? (await listTrash(client, stateSchema)).filter((entry) => !entry.restoredAt && !entry.purgedAt)
        : await heldEntries(client, stateSchema, ids);
    for (const entry of targets) {
      await client.query(`drop table if exists ${quoteQualified(TRASH_SCHEMA, entry.trashTable)}`);
      await client.query(`update ${quoteQualified(stateSchema, 'trash')} set purged_at = now() where id = $1`, [entry.id]);
    }
    await client.query('commit');
    return targets;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}
