import { createHash } from 'node:crypto';
import type pg from 'pg';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../db/retry-policy.js';
import { readTableInfo, relationExists, requireColumns } from '../db/table-catalog.js';
import { withClient } from '../db/with-client.js';
import { ColumnNotFoundError, InvalidArgumentError, NoUsableKeyError } from '../errors.js';
import { backupTable } from '../naming.js';
import { runBatchedStatement } from '../operations/batched-statement.js';
import { referencingKeys, type ReferencingKey } from './referencing-keys.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { DEFAULT_STATE_SCHEMA } from '../tracking/data-migration-store.js';

/** Which row of a duplicate group survives. */
export type KeepRule = 'latest' | 'earliest' | { readonly orderBy: string };

/** Options of {@link reportDuplicates} and {@link dedupe}. */
export interface DedupeOptions {
  readonly database: string;
  readonly schema?: string;
  readonly table: string;
  /** The columns that are about to become unique. Rows with a NULL in them are never duplicates. */
  readonly columns: readonly string[];
  /**
   * SQL expressions over the table's columns that are part of the key too, as a unique index on expressions
   * has them (`sqlExpression('lower(email)')`). Raw SQL written by the caller: it is used as written.
   */
  readonly expressions?: readonly SqlExpression[];
  /**
   * `latest`/`earliest` by `orderColumn` (default `createdAt`), ties by primary key; or any SQL order
   * (`{ orderBy: '"rating" DESC, "createdAt" ASC' }`) whose first row is kept.
   */
  readonly keep: KeepRule;
  readonly orderColumn?: string;
  /** Where deleted rows are copied, in the table's schema (default `_evolve_bak_<table>_dupes` in the state schema, outside Prisma's view). */
  readonly backupTable?: string;
  /**
   * What happens to rows of other tables that reference a duplicate through a foreign key:
   * - `'refuse'` (default): refuse before anything is deleted while a foreign key into the table would
   *   cascade, set null or set default (those children could not be brought back by `undoDedupe`);
   * - `'repoint'`: in the same transaction as each batch's delete, move the children of every deleted row to
   *   its group's survivor (their old references are logged, and `undoDedupe` points them back).
   *   Needs the table's key to be what the foreign keys reference, and a primary key on each child table.
   * - `'backup'`: in the same transaction as each batch's delete, copy the children that a cascading or
   *   set-null key would delete or change into a backup table per key (in the state schema); `undoDedupe`
   *   puts them back. Refused for SET DEFAULT keys, and when a cascading child has children of its own that
   *   would cascade further (name the grandchild; use `'repoint'`).
   */
  readonly children?: 'refuse' | 'repoint' | 'backup';
  readonly stateSchema?: string;
  readonly signal?: AbortSignal;
}

/** Duplicate groups before anything is deleted. */
export interface DuplicateReport {
  readonly groups: number;
  /** Rows that would be deleted (group sizes minus one each). */
  readonly extraRows: number;
  /** A few groups: key values, size, the key of the row kept and those deleted. */
  readonly samples: readonly { readonly key: readonly unknown[]; readonly size: number; readonly keep: string; readonly remove: readonly string[] }[];
}

/** A SQL expression a caller passes on purpose (raw: used as written, never quoted). */
export type SqlExpression = string & { readonly __sqlExpression: true };

/** Marks `text` as a raw SQL expression over a table's columns (`lower(email)`); refuses an empty one. Pure. */
export function sqlExpression(text: string): SqlExpression {
  if (text.trim().length === 0) throw new InvalidArgumentError('sqlExpression', 'must be a non-empty SQL expression');
  return text as SqlExpression;
}

interface Resolved {
  readonly children: readonly ReferencingKey[];
  readonly childMode: 'refuse' | 'repoint' | 'backup';
  /**
   * Backup table (in the state schema) of the children of each key, by constraint name: every child a
   * cascade or set-null would change (`'backup'`), or the children `'repoint'` merged into the survivor's.
   */
  readonly childBackups: ReadonlyMap<string, string>;
  /** `'repoint'`: per key, the other columns of each unique index of the child that holds the key's column. */
  readonly mergeKeys: ReadonlyMap<string, readonly (readonly string[])[]>;
  /** Where repointed references are logged (in the state schema). */
  readonly repointLog: string;
  /** The primary key's type, as a cast target. */
  readonly pkType: string;
  readonly qualified: string;
  readonly pk: string;
  readonly order: string;
  readonly partition: string;
  readonly notNull: string;
  readonly backup: string;
  readonly work: string;
  /** SQL: rows `a` and `b` agree on every dedupe column. */
  sameAs(a: string, b: string): string;
}

async function resolve(client: pg.ClientBase, options: DedupeOptions, forDelete = false): Promise<Resolved> {
  const schema = options.schema ?? 'public';
  const table = await readTableInfo(client, schema, options.table);
  if (table.primaryKey.length !== 1) throw new NoUsableKeyError(table.qualified, 'dedupe needs a single-column primary key to tell the copies apart');
  const pk = quoteIdent(table.primaryKey[0] as string);
  requireColumns(table, options.columns, '"columns"');
  const expressions = options.expressions ?? [];
  if (options.columns.length + expressions.length === 0) throw new InvalidArgumentError('dedupe.columns', 'give at least one column or expression');
  const orderColumn = options.orderColumn ?? 'createdAt';
  if (typeof options.keep === 'string' && !table.columns.has(orderColumn)) throw new ColumnNotFoundError(table.qualified, orderColumn, '"orderColumn"');
  const rule =
    options.keep === 'latest' ? `${quoteIdent(orderColumn)} desc nulls last` : options.keep === 'earliest' ? `${quoteIdent(orderColumn)} asc nulls last` : options.keep.orderBy;
  const fingerprint = createHash('sha256').update(JSON.stringify([table.qualified, options.columns, expressions, rule])).digest('hex').slice(0, 12);
  const childMode = options.children ?? 'refuse';
  const children = forDelete || childMode !== 'refuse' ? await checkedChildren(client, table.qualified, table.primaryKey[0] as string, childMode) : [];
  const stateSchema = options.stateSchema ?? DEFAULT_STATE_SCHEMA;
  const keyParts = [...options.columns.map(quoteIdent), ...expressions.map((e) => `(${e})`)];
  const mergeKeys = new Map<string, (readonly string[])[]>();
  if (childMode === 'repoint') {
    for (const key of children) {
      const sets = await uniqueSetsWith(client, key);
      mergeKeys.set(key.name, sets);
      if (sets.length === 0) continue;
      // Merged children are deleted (kept in a backup): their own children must not cascade away unseen.
      const deeper = (await referencingKeys(client, quoteQualified(key.schema, key.table))).find((k) => ['CASCADE', 'SET NULL', 'SET DEFAULT'].includes(k.onDelete));
      if (deeper) {
        throw new InvalidArgumentError(
          'dedupe.children',
          `"${deeper.schema}"."${deeper.table}" (${deeper.columns.join(', ')}) references "${key.schema}"."${key.table}" ON DELETE ${deeper.onDelete} (constraint "${deeper.name}"): merging duplicate children of "${key.table}" would change those rows too, which undoDedupe could not bring back`,
        );
      }
    }
  }
  // An expression names the table's columns unqualified: evaluated for a row alias through a one-row subquery.
  const partOf = (alias: string) => [...options.columns.map((c) => `${alias}.${quoteIdent(c)}`), ...expressions.map((e) => `(select ${e} from (select ${alias}.*) as evolve_row)`)];
  return {
    children,
    childMode,
    childBackups: new Map(
      children.filter((key) => childMode === 'backup' || (mergeKeys.get(key.name)?.length ?? 0) > 0).map((key) => [key.name, quoteQualified(stateSchema, backupTable(schema, options.table, 'dupes', key.name).table)]),
    ),
    mergeKeys,
    repointLog: quoteQualified(stateSchema, `dedupe_${fingerprint}_repointed`),
    pkType: table.columns.get(table.primaryKey[0] as string)?.type ?? 'text',
    qualified: table.qualified,
    pk,
    order: `${rule}, ${pk}`,
    partition: keyParts.join(', '),
    notNull: keyParts.map((part) => `${part} is not null`).join(' and '),
    backup: options.backupTable ? quoteQualified(schema, options.backupTable) : quoteQualified(stateSchema, backupTable(schema, options.table, 'dupes').table),
    work: quoteQualified(stateSchema, `dedupe_${fingerprint}`),
    sameAs: (a, b) => {
      const right = partOf(b);
      return partOf(a).map((part, i) => `${part} = ${right[i]}`).join(' and ');
    },
  };
}

/**
 * The foreign keys into the table that `dedupe` must deal with, checked against the `children` choice:
 * - `'refuse'`: a cascading, set-null or set-default key is refused by name; none is returned;
 * - `'repoint'`: every key must reference the primary key `pk` alone and its child table have a primary key;
 * - `'backup'`: the cascading and set-null keys are returned; a set-default key, a set-null child without a
 *   primary key, and a cascading child whose own children would cascade further are refused by name.
 * Read-only.
 */
async function checkedChildren(client: pg.ClientBase, qualified: string, pk: string, mode: 'refuse' | 'repoint' | 'backup'): Promise<readonly ReferencingKey[]> {
  const keys = await referencingKeys(client, qualified);
  const changing = (key: ReferencingKey) => ['CASCADE', 'SET NULL', 'SET DEFAULT'].includes(key.onDelete);
  for (const key of keys) {
    const child = `"${key.schema}"."${key.table}" (${key.columns.join(', ')})`;
    if (mode === 'refuse' && changing(key)) {
      throw new InvalidArgumentError(
        'dedupe.children',
        `${child} references ${qualified} ON DELETE ${key.onDelete} (constraint "${key.name}"): deleting duplicates would ${key.onDelete === 'CASCADE' ? 'delete' : 'change'} their children, which undoDedupe could not bring back; pass children: 'repoint' to move them to each group's survivor first, or children: 'backup' to copy them aside`,
      );
    }
    if (mode === 'repoint' && (key.referenced.length !== 1 || key.referenced[0] !== pk || key.columns.length !== 1)) {
      throw new InvalidArgumentError('dedupe.children', `${child} (constraint "${key.name}") references (${key.referenced.join(', ')}), not the primary key "${pk}" alone: children: 'repoint' cannot move it`);
    }
    if (mode === 'repoint' && key.childKey.length !== 1) {
      throw new InvalidArgumentError('dedupe.children', `"${key.schema}"."${key.table}" has no single-column primary key to log its repointed rows by (constraint "${key.name}")`);
    }
    if (mode === 'backup' && key.onDelete === 'SET DEFAULT') {
      throw new InvalidArgumentError('dedupe.children', `${child} references ${qualified} ON DELETE SET DEFAULT (constraint "${key.name}"): children: 'backup' cannot tell a default it set from one the application wrote; use children: 'repoint'`);
    }
    if (mode === 'backup' && key.onDelete === 'SET NULL' && key.childKey.length === 0) {
      throw new InvalidArgumentError('dedupe.children', `"${key.schema}"."${key.table}" has no primary key to put its references back by (constraint "${key.name}", ON DELETE SET NULL)`);
    }
    if (mode === 'backup' && key.onDelete === 'CASCADE') {
      const deeper = (await referencingKeys(client, quoteQualified(key.schema, key.table))).find(changing);
      if (deeper) {
        throw new InvalidArgumentError(
          'dedupe.children',
          `"${deeper.schema}"."${deeper.table}" (${deeper.columns.join(', ')}) references ${child.split(' (')[0]} ON DELETE ${deeper.onDelete} (constraint "${deeper.name}"): the cascade would go two levels deep, beyond what children: 'backup' keeps; use children: 'repoint'`,
        );
      }
    }
  }
  if (mode === 'repoint') return keys;
  return mode === 'backup' ? keys.filter((key) => key.onDelete === 'CASCADE' || key.onDelete === 'SET NULL') : [];
}

/**
 * For a child key moved by `'repoint'`: the other columns of every unique index (or constraint) of the child
 * table that contains the key's column. A moved child equal to one of the survivor's on those would break
 * the index; such children are merged (the survivor's is kept). Read-only.
 */
async function uniqueSetsWith(client: pg.ClientBase, key: ReferencingKey): Promise<string[][]> {
  const column = key.columns[0] as string;
  const { rows } = await client.query<{ columns: string[] }>(
    `select array_agg(a.attname::text order by k.i) as columns
       from pg_index x cross join unnest(x.indkey) with ordinality k(attnum, i) join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
      where x.indrelid = $1::regclass and x.indisunique and x.indexprs is null and x.indpred is null
      group by x.indexrelid`,
    [quoteQualified(key.schema, key.table)],
  );
  return rows.filter((row) => row.columns.includes(column)).map((row) => row.columns.filter((c) => c !== column));
}

/**
 * Counts duplicate groups of `columns` and shows which row each would keep and lose under `keep`. Run it
 * before `dedupe`, and before a unique constraint. Read-only: one scan under ACCESS SHARE.
 */
export async function reportDuplicates(options: DedupeOptions, samples = 5): Promise<DuplicateReport> {
  return withClient(options.database, async (client) => {
    const r = await resolve(client, options);
    const { rows } = await client.query<{ groups: string; extra: string }>(
      `select count(*)::text as groups, coalesce(sum(n - 1), 0)::text as extra from (
         select count(*) as n from ${r.qualified} where ${r.notNull} group by ${r.partition} having count(*) > 1) g`,
    );
    const { rows: sampled } = await client.query<{ key: unknown[]; size: number; keep: string; remove: string[] }>(
      `select jsonb_build_array(${r.partition}) as key, count(*)::int as size,
              (array_agg(${r.pk}::text order by ${r.order}))[1] as keep,
              (array_agg(${r.pk}::text order by ${r.order}))[2:] as remove
       from ${r.qualified} where ${r.notNull} group by ${r.partition} having count(*) > 1 order by 1 limit ${Math.max(0, Math.floor(samples))}`,
    );
    return { groups: Number(rows[0]?.groups ?? 0), extraRows: Number(rows[0]?.extra ?? 0), samples: sampled };
  });
}

/** What {@link dedupe} deleted. */
export interface DedupeResult {
  /** Rows now in the backup table (deleted by this and earlier runs of the same dedupe). */
  readonly deleted: number;
  readonly backupTable: string;
  readonly canceled: boolean;
}

/**
 * Deletes all but one row of every duplicate group, keeping the row `keep` picks.
 * 1. The keys to delete are computed once into a work table (in the state schema). A resume therefore
 *    continues with the same decisions.
 * 2. They are deleted in batches of 1,000, each batch one short transaction under lock_timeout. Each
 *    batch copies the rows to the backup table before deleting them, and only deletes a row while its
 *    group's survivor (a row that is not itself marked for deletion) still exists.
 * Rows with a NULL in `columns` are never touched. Follow it with `addUnique`; if new duplicates arrive
 * in between, the unique build fails closed and a rerun of `dedupe` (restart) clears them.
 *
 * Foreign keys into the table: by default a key that would cascade, set null or set default is refused
 * before anything is deleted (`InvalidArgumentError` naming it). With `children: 'repoint'`, each batch first
 * moves the children of its victims to their survivor, logging the old references, in the batch's own
 * transaction; a victim whose survivor the application deleted meanwhile is kept.
 */
export async function dedupe(options: DedupeOptions & { readonly restart?: boolean }): Promise<DedupeResult> {
  const r = await withClient(options.database, async (client) => {
    const resolved = await resolve(client, options, true);
    await client.query(`create schema if not exists ${quoteIdent(options.stateSchema ?? DEFAULT_STATE_SCHEMA)}`);
    if (options.restart) await client.query(`drop table if exists ${resolved.work}`);
    await client.query(`create table if not exists ${resolved.backup} (like ${resolved.qualified})`);
    await client.query(
      `create table if not exists ${resolved.work} as
       select ${resolved.pk} as victim, survivor from (
         select ${resolved.pk}, row_number() over (partition by ${resolved.partition} order by ${resolved.order}) as rn,
                first_value(${resolved.pk}) over (partition by ${resolved.partition} order by ${resolved.order}) as survivor
         from ${resolved.qualified} where ${resolved.notNull}) ranked
       where rn > 1`,
    );
    if (resolved.childMode === 'repoint' && resolved.children.length > 0) {
      await client.query(`create table if not exists ${resolved.repointLog} (constraint_name text not null, child_key text not null, victim text not null, survivor text not null)`);
    }
    for (const key of resolved.children) {
      const backup = resolved.childBackups.get(key.name);
      if (backup) await client.query(`create table if not exists ${backup} (like ${quoteQualified(key.schema, key.table)})`);
    }
    return resolved;
  });
  const result = await runBatchedStatement(options.database, `dedupe ${r.qualified}`, r.qualified, r.children.length > 0 ? childBatch(r) : [deletingBatch(r)], {
    timeouts: { lockMs: DEFAULT_LOCK_TIMEOUT_MS, statementMs: DEFAULT_STATEMENT_TIMEOUT_MS },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const deleted = await withClient(options.database, async (client) => Number((await client.query<{ n: string }>(`select count(*)::text as n from ${r.backup}`)).rows[0]?.n ?? 0));
  return { deleted, backupTable: r.backup, canceled: result.canceled };
}

/** One batch without children to move: up to 1,000 victims deleted (copied first) while their group keeps a survivor. */
function deletingBatch(r: Resolved): string {
  const same = r.sameAs('k', 't');
  return `with batch as (delete from ${r.work} w where w.victim in (select victim from ${r.work} limit 1000) returning w.victim),
          moved as (delete from ${r.qualified} t using batch b where t.${r.pk} = b.victim
                    and exists (select 1 from ${r.qualified} k where ${same} and k.${r.pk} <> t.${r.pk}
                                and not exists (select 1 from ${r.work} w2 where w2.victim = k.${r.pk})) returning t.*),
          saved as (insert into ${r.backup} select * from moved returning 1)
     select victim from batch`;
}

/**
 * One batch with children, as statements of one transaction: up to 1,000 victims whose survivor still
 * exists are taken from the work table (victims whose survivor the application deleted are kept and dropped
 * from the work); each foreign key's children of those victims are repointed to the survivor and logged
 * (`'repoint'`) or copied to the key's backup table (`'backup'`); then the victims are copied to the backup
 * and deleted. The last statement counts the batch.
 */
function childBatch(r: Resolved): string[] {
  const batch = 'pg_temp.evolve_dedupe_batch';
  return [
    `create temp table if not exists evolve_dedupe_batch (victim text primary key, survivor text not null) on commit delete rows`,
    // Victims are locked: a child the application inserts for one meanwhile waits, then fails its foreign
    // key check, instead of being cascaded away unseen. Only victims still equal to their survivor go.
    `with taken as (delete from ${r.work} w where w.victim in (select victim from ${r.work} limit 1000) returning w.victim, w.survivor)
     insert into ${batch} select t.victim::text, t.survivor::text from taken t
     join ${r.qualified} v on v.${r.pk} = t.victim
     join ${r.qualified} k on k.${r.pk} = t.survivor and ${r.sameAs('v', 'k')}
     for update of v`,
    ...r.children.map((key): string[] => {
      const child = quoteQualified(key.schema, key.table);
      const backup = r.childBackups.get(key.name);
      if (backup && r.childMode === 'backup') {
        const on = key.columns.map((c, i) => `c.${quoteIdent(c)} = v.${quoteIdent(key.referenced[i] as string)}`).join(' and ');
        return [`insert into ${backup} select c.* from ${child} c join ${r.qualified} v on ${on} join ${batch} b on v.${r.pk} = b.victim::${r.pkType}`];
      }
      const column = quoteIdent(key.columns[0] as string);
      const childPk = quoteIdent(key.childKey[0] as string);
      return [...mergeStatement(r, key, batch), `with moved as (update ${child} c set ${column} = b.survivor::${r.pkType} from ${batch} b where c.${column} = b.victim::${r.pkType} returning c.${childPk}::text as child_key, b.victim, b.survivor)
              insert into ${r.repointLog} select ${quoteLiteral(key.name)}, child_key, victim, survivor from moved`];
    }).flat(),
    `with moved as (delete from ${r.qualified} t using ${batch} b where t.${r.pk} = b.victim::${r.pkType} returning t.*),
          saved as (insert into ${r.backup} select * from moved returning 1)
     select victim from ${batch} union all select null from (select 1) one where exists (select 1 from ${r.work}) and not exists (select 1 from ${batch})`,
  ];
}

/**
 * Puts the rows `dedupe` deleted back and drops the backup, in one transaction; children it repointed
 * (`children: 'repoint'`) point at them again where they still reference the survivor. Refuses (changing
 * nothing) when any backed-up row cannot be restored, e.g. while the unique index is still in place.
 */
export async function undoDedupe(options: DedupeOptions): Promise<number> {
  return withClient(options.database, async (client) => {
    const r = await resolve(client, options);
    if (!(await relationExists(client, r.backup))) return 0;
    await client.query('begin');
    try {
      const restored = await client.query(`insert into ${r.qualified} select * from ${r.backup} on conflict do nothing`);
      const { rows: backedUp } = await client.query<{ n: string }>(`select count(*)::text as n from ${r.backup}`);
      if ((restored.rowCount ?? 0) !== Number(backedUp[0]?.n ?? 0)) {
        throw new InvalidArgumentError(
          'undoDedupe',
          `only ${restored.rowCount} of ${backedUp[0]?.n} backed-up rows of ${r.qualified} could be put back (a unique index is still in place?); nothing was changed`,
        );
      }
      await pointChildrenBack(client, r);
      await restoreChildren(client, r);
      await client.query(`drop table ${r.backup}`);
      await client.query(`drop table if exists ${r.work}`);
      await client.query('commit');
      return restored.rowCount ?? 0;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  });
}

/**
 * `'repoint'` with a unique index on the child that holds the key's column: the victims' children that
 * would duplicate one of the survivor's (or one of another victim's of the same group, lowest key kept) are
 * moved to the key's backup table instead of being repointed (merged: the survivor's is kept), in the
 * batch's transaction. No statement when the child has no such index.
 */
function mergeStatement(r: Resolved, key: ReferencingKey, batch: string): string[] {
  const sets = r.mergeKeys.get(key.name) ?? [];
  const backup = r.childBackups.get(key.name);
  if (sets.length === 0 || !backup) return [];
  const child = quoteQualified(key.schema, key.table);
  const column = quoteIdent(key.columns[0] as string);
  const childPk = quoteIdent(key.childKey[0] as string);
  const equal = (others: readonly string[]) => others.map((c) => `c2.${quoteIdent(c)} = c.${quoteIdent(c)}`).join(' and ') || 'true';
  const collides = sets.map(
    (others) => `exists (select 1 from ${child} c2 where c2.${column} = b.survivor::${r.pkType} and ${equal(others)})
      or exists (select 1 from ${child} c2 join ${batch} b2 on c2.${column} = b2.victim::${r.pkType} where b2.survivor = b.survivor and c2.${childPk} < c.${childPk} and ${equal(others)})`,
  );
  return [
    `with merged as (delete from ${child} c using ${batch} b where c.${column} = b.victim::${r.pkType} and (${collides.join(' or ')}) returning c.*)
     insert into ${backup} select * from merged`,
  ];
}

/**
 * Puts back the children `children: 'backup'` copied aside: rows a cascade deleted are inserted again
 * (`ON CONFLICT DO NOTHING`), references a set-null key cleared are written back where they are still NULL
 * (a reference the application wrote since wins). Then drops the backups. Runs in the caller's transaction,
 * after the parents are back.
 */
async function restoreChildren(client: pg.ClientBase, r: Resolved): Promise<void> {
  for (const key of r.children) {
    const backup = r.childBackups.get(key.name);
    if (!backup || !(await relationExists(client, backup))) continue;
    const child = quoteQualified(key.schema, key.table);
    // Rows a cascade deleted, or children 'repoint' merged into the survivor's: inserted again.
    if (key.onDelete === 'CASCADE' || r.childMode === 'repoint') {
      await client.query(`insert into ${child} select * from ${backup} on conflict do nothing`);
    } else {
      const set = key.columns.map((c) => `${quoteIdent(c)} = b.${quoteIdent(c)}`).join(', ');
      const byKey = key.childKey.map((c) => `c.${quoteIdent(c)} = b.${quoteIdent(c)}`).join(' and ');
      const stillNull = key.columns.map((c) => `c.${quoteIdent(c)} is null`).join(' and ');
      await client.query(`update ${child} c set ${set} from ${backup} b where ${byKey} and ${stillNull}`);
    }
    await client.query(`drop table ${backup}`);
  }
}

/**
 * Points the children `dedupe` repointed back at the rows it put back: only those that still reference the
 * survivor they were moved to (a child the application moved since keeps its new reference). Then drops the
 * log. Runs in the caller's transaction.
 */
async function pointChildrenBack(client: pg.ClientBase, r: Resolved): Promise<void> {
  if (!(await relationExists(client, r.repointLog))) return;
  for (const key of await referencingKeys(client, r.qualified)) {
    if (key.columns.length !== 1 || key.childKey.length !== 1) continue;
    const column = quoteIdent(key.columns[0] as string);
    await client.query(
      `update ${quoteQualified(key.schema, key.table)} c set ${column} = l.victim::${r.pkType} from ${r.repointLog} l
       where l.constraint_name = $1 and c.${quoteIdent(key.childKey[0] as string)}::text = l.child_key and c.${column} = l.survivor::${r.pkType}`,
      [key.name],
    );
  }
  await client.query(`drop table ${r.repointLog}`);
}
