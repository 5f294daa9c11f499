import type pg from 'pg';
import { batchHistoryDdl } from '../monitor/batch-history.js';

/**
 * The tracker of legacy copies, in the target's `_evolve` schema: per entry its state and source row count,
 * its key ranges (each marked done in the transaction that inserted its rows, with its counts), the id map
 * (old key → new id), the dedupe survivors, and the dead letters (rows not copied, with the reason and the row).
 */
export const COPY_SCHEMA = '_evolve';

/** DDL of the copy tracker; idempotent (`if not exists`). */
export const COPY_DDL: readonly string[] = [
  `create schema if not exists ${COPY_SCHEMA}`,
  `create table if not exists ${COPY_SCHEMA}.copy_table (
     copy text not null, entry text not null, status text not null default 'pending' check (status in ('pending', 'running', 'done')),
     source_rows bigint, ranges int, started_at timestamptz, finished_at timestamptz, primary key (copy, entry))`,
  `create table if not exists ${COPY_SCHEMA}.copy_range (
     copy text not null, entry text not null, range_no int not null, lo text, hi text,
     status text not null default 'pending' check (status in ('pending', 'done')),
     inserted bigint not null default 0, dead bigint not null default 0, collapsed bigint not null default 0, done_at timestamptz,
     primary key (copy, entry, range_no))`,
  // When the rows of a range were read (see SnapshotTime): catch-up looks for source rows changed since.
  `alter table ${COPY_SCHEMA}.copy_range add column if not exists snapshot_at timestamptz`,
  `create table if not exists ${COPY_SCHEMA}.id_map (copy text not null, entry text not null, old_key text not null, new_id text not null, primary key (copy, entry, old_key))`,
  // A duplicate that collapsed onto its survivor (its new id is the survivor's): catch-up leaves it alone.
  `alter table ${COPY_SCHEMA}.id_map add column if not exists dup boolean not null default false`,
  `create table if not exists ${COPY_SCHEMA}.copy_survivor (copy text not null, entry text not null, dedupe_key text not null, old_key text not null, primary key (copy, entry, dedupe_key))`,
  `create table if not exists ${COPY_SCHEMA}.copy_dead_letter (
     copy text not null, entry text not null, source_key text not null, reason text not null, row jsonb, at timestamptz not null default now(),
     primary key (copy, entry, source_key))`,
  // Source rows catch-up could not apply to the row they were copied to (the target row is kept as it was).
  `create table if not exists ${COPY_SCHEMA}.copy_conflict (
     copy text not null, entry text not null, source_key text not null, reason text not null, row jsonb, at timestamptz not null default now(),
     primary key (copy, entry, source_key))`,
  // Deferred references waiting for the second pass: the target row (its id as text), the column and the old key.
  `create table if not exists ${COPY_SCHEMA}.copy_deferred (copy text not null, entry text not null, "column" text not null, row_id text not null, old_key text not null, primary key (copy, entry, "column", row_id))`,
  `create table if not exists ${COPY_SCHEMA}.copy_setting (copy text not null, name text not null, value jsonb, primary key (copy, name))`,
  // True when `value` converts to `type`: lets a batch whose insert failed on a bad value find the rows at fault.
  `create or replace function ${COPY_SCHEMA}.copy_castable(value text, type text) returns boolean language plpgsql as $$
   begin execute format('select %L::%s', value, type); return true; exception when others then return false; end $$`,
];

/**
 * Once per database: id map rows written before `id_map.dup` existed are marked duplicates where they share
 * their new id with a survivor of the same entry (what collapsed onto it). In the caller's transaction.
 */
async function markLegacyDuplicates(client: pg.ClientBase): Promise<void> {
  const done = await client.query(`select 1 from ${COPY_SCHEMA}.copy_setting where copy = '' and name = 'id_map.dup'`);
  if (done.rowCount) return;
  await client.query(
    `update ${COPY_SCHEMA}.id_map m set dup = true
     from ${COPY_SCHEMA}.copy_survivor sv join ${COPY_SCHEMA}.id_map s on s.copy = sv.copy and s.entry = sv.entry and s.old_key = sv.old_key
     where m.copy = sv.copy and m.entry = sv.entry and m.new_id = s.new_id and m.old_key <> sv.old_key and not m.dup`,
  );
  await client.query(`insert into ${COPY_SCHEMA}.copy_setting (copy, name, value) values ('', 'id_map.dup', 'true') on conflict do nothing`);
}

/** Creates the tracker tables once per database, under a transaction-level advisory lock (concurrent callers wait). */
export async function ensureCopyStore(client: pg.ClientBase): Promise<void> {
  await client.query('begin');
  try {
    await client.query(`select pg_advisory_xact_lock(hashtext('prisma-evolve:copy-store'))`);
    for (const ddl of [...COPY_DDL, ...batchHistoryDdl(COPY_SCHEMA)]) await client.query(ddl);
    await markLegacyDuplicates(client);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** An entry's row in the tracker. */
export interface CopyTableState {
  readonly status: 'pending' | 'running' | 'done';
  readonly sourceRows: number | null;
  readonly ranges: number | null;
}

/** The entry's tracker row, or undefined before its first run. Read-only. */
export async function readTableState(client: pg.ClientBase, copy: string, entry: string): Promise<CopyTableState | undefined> {
  const { rows } = await client.query<{ status: CopyTableState['status']; source_rows: string | null; ranges: number | null }>(
    `select status, source_rows, ranges from ${COPY_SCHEMA}.copy_table where copy = $1 and entry = $2`,
    [copy, entry],
  );
  const row = rows[0];
  return row && { status: row.status, sourceRows: row.source_rows === null ? null : Number(row.source_rows), ranges: row.ranges };
}

/**
 * Records the entry's key ranges (upper bounds in key order, the last open) and its source row count, in one
 * transaction; a second call for the same entry does nothing (the first run's ranges stand).
 */
export async function registerRanges(client: pg.ClientBase, copy: string, entry: string, bounds: readonly string[], sourceRows: number): Promise<void> {
  await client.query('begin');
  try {
    const inserted = await client.query(
      `insert into ${COPY_SCHEMA}.copy_table (copy, entry, status, source_rows, ranges, started_at) values ($1, $2, 'running', $3, $4, now()) on conflict do nothing`,
      [copy, entry, sourceRows, bounds.length + 1],
    );
    if (inserted.rowCount === 1) {
      await client.query(
        `insert into ${COPY_SCHEMA}.copy_range (copy, entry, range_no, lo, hi)
         select $1, $2, n, case when n = 1 then null else ($3::text[])[n - 1] end, ($3::text[])[n] from generate_series(1, $4::int) n`,
        [copy, entry, bounds, bounds.length + 1],
      );
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** One key range of an entry: its number and bounds (lo, hi], null for open. */
export interface CopyRange {
  readonly rangeNo: number;
  readonly lo: string | null;
  readonly hi: string | null;
}

/** The entry's ranges in key order. Read-only. */
export async function readRanges(client: pg.ClientBase, copy: string, entry: string): Promise<CopyRange[]> {
  const { rows } = await client.query<{ range_no: number; lo: string | null; hi: string | null }>(`select range_no, lo, hi from ${COPY_SCHEMA}.copy_range where copy = $1 and entry = $2 order by range_no`, [copy, entry]);
  return rows.map((r) => ({ rangeNo: r.range_no, lo: r.lo, hi: r.hi }));
}

/** Marks the entry done when every range is; returns whether it is. */
export async function finishTable(client: pg.ClientBase, copy: string, entry: string): Promise<boolean> {
  const { rowCount } = await client.query(
    `update ${COPY_SCHEMA}.copy_table set status = 'done', finished_at = now()
     where copy = $1 and entry = $2 and status <> 'done'
       and not exists (select 1 from ${COPY_SCHEMA}.copy_range r where r.copy = $1 and r.entry = $2 and r.status <> 'done')`,
    [copy, entry],
  );
  const state = await readTableState(client, copy, entry);
  return rowCount === 1 || state?.status === 'done';
}

/** Per-entry totals of the done ranges. Read-only. */
export interface CopyTotals {
  readonly rangesDone: number;
  readonly ranges: number;
  readonly inserted: number;
  readonly dead: number;
  readonly collapsed: number;
}

/** The entry's totals over its ranges. Read-only. */
export async function readTotals(client: pg.ClientBase, copy: string, entry: string): Promise<CopyTotals> {
  const { rows } = await client.query<{ done: string; ranges: string; inserted: string; dead: string; collapsed: string }>(
    `select count(*) filter (where status = 'done') as done, count(*) as ranges, coalesce(sum(inserted), 0) as inserted,
            coalesce(sum(dead), 0) as dead, coalesce(sum(collapsed), 0) as collapsed
     from ${COPY_SCHEMA}.copy_range where copy = $1 and entry = $2`,
    [copy, entry],
  );
  const row = rows[0];
  return { rangesDone: Number(row?.done ?? 0), ranges: Number(row?.ranges ?? 0), inserted: Number(row?.inserted ?? 0), dead: Number(row?.dead ?? 0), collapsed: Number(row?.collapsed ?? 0) };
}

/** An entry's figures as the reports show them (the CLI's `tables[]`), with its ranges. */
export interface CopyTableFigures {
  readonly name: string;
  readonly sourceRows: number | null;
  readonly copiedRows: number;
  readonly deadLetters: number;
  readonly collapsed: number;
  readonly status: CopyTableState['status'];
  readonly rangesDone: number;
  readonly ranges: number;
}

/** The entry's figures from the tracker. Read-only. */
export async function readTableFigures(client: pg.ClientBase, copy: string, entry: string): Promise<CopyTableFigures> {
  const state = await readTableState(client, copy, entry);
  const totals = await readTotals(client, copy, entry);
  return {
    name: entry,
    sourceRows: state?.sourceRows ?? null,
    copiedRows: totals.inserted,
    deadLetters: totals.dead,
    collapsed: totals.collapsed,
    status: state?.status ?? 'pending',
    rangesDone: totals.rangesDone,
    ranges: totals.ranges,
  };
}
