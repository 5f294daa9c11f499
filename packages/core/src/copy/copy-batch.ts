import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { quoteIdent, quoteLiteral } from '../sql.js';
import type { EntryPlan } from './copy-planner.js';
import { stageMappedRange } from './copy-map-stage.js';
import { RemapStream } from './copy-remap-stream.js';
import { COPY_SCHEMA } from './copy-store.js';

/**
 * The executor of one key range: streams the source rows into the staging table (`COPY … TO STDOUT` piped
 * into `COPY … FROM STDIN`), then, in the same target transaction, records the rows it will not copy as dead
 * letters (filtered, unresolved references, rejected values), collapses duplicates onto their survivor, gives
 * new ids, inserts the rows, writes the id map and marks the range done with its counts. A crash anywhere
 * rolls all of it back: the range is copied again, whole, by the next run.
 */

/** The counts a range adds. */
export interface RangeOutcome {
  readonly inserted: number;
  readonly dead: number;
  readonly collapsed: number;
}

/** A claimed range. */
export interface ClaimedRange {
  readonly rangeNo: number;
  readonly lo: string | null;
  readonly hi: string | null;
}

const DEAD = `${COPY_SCHEMA}.copy_dead_letter`;

/**
 * Claims the lowest pending range of the entry with `FOR UPDATE SKIP LOCKED` inside the caller's open
 * transaction: the row lock is the claim (other workers skip it; a killed worker's lock goes with its
 * connection). Undefined when no range is left.
 */
export async function claimRange(target: pg.ClientBase, copy: string, entry: string): Promise<ClaimedRange | undefined> {
  const { rows } = await target.query<{ range_no: number; lo: string | null; hi: string | null }>(
    `select range_no, lo, hi from ${COPY_SCHEMA}.copy_range where copy = $1 and entry = $2 and status = 'pending' order by range_no limit 1 for update skip locked`,
    [copy, entry],
  );
  const row = rows[0];
  return row && { rangeNo: row.range_no, lo: row.lo, hi: row.hi };
}

/**
 * Streams the source rows of the range into the staging table (inside the target's open transaction), through
 * the entry's `map` when it has one, and analyzes it. Returns the rows the map turned into dead letters
 * (recorded unless `recordDead` is false).
 */
export async function stageRange(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: ClaimedRange, recordDead = true): Promise<number> {
  let dead = 0;
  if (plan.table.map) {
    dead = await stageMappedRange(plan, source, target, range.lo, range.hi, recordDead);
  } else {
    const reader = source.query(copyTo(`copy (${plan.sourceQuery(range.lo, range.hi)}) to stdout`));
    const writer = target.query(copyFrom(`copy ${quoteIdent(plan.stage)} (${plan.copyColumns.join(', ')}) from stdin`));
    await pipeline(reader, writer);
  }
  // A temporary table has no statistics until analyzed: without them the planner may join the id map by
  // nested loops over the whole batch (seconds per 10,000 rows instead of milliseconds).
  await target.query(`analyze ${quoteIdent(plan.stage)}`);
  return dead;
}

/** Thrown when a range streamed straight into the table hit a value the table rejects: copy it again through staging. */
export class DirectCopyRejected extends Error {
  constructor(readonly rangeNo: number, cause: unknown) {
    super(`range ${rangeNo}: a row was rejected by the table; copying it through the staging table`, { cause });
  }
}

/** True for a rejected value (SQLSTATE class 22 data exception, or 23 integrity constraint violation). */
function isRowProblem(error: unknown): boolean {
  const state = String((error as { code?: string }).code ?? '');
  return state.startsWith('22') || state.startsWith('23');
}

/** Id maps per referenced entry (old key → new id), held by a worker for the streamed path. */
export type IdMaps = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Above this many ids in a referenced entry's map, a worker resolves references in SQL (staging) instead of in memory. */
export const MAX_IN_MEMORY_IDS = 5_000_000;

/**
 * Loads the id maps the entry's references need (read-only), or undefined when one holds more than
 * {@link MAX_IN_MEMORY_IDS} ids (memory stays bounded; the staging path resolves them in SQL).
 */
export async function loadIdMaps(target: pg.ClientBase, plan: EntryPlan): Promise<IdMaps | undefined> {
  const maps = new Map<string, Map<string, string>>();
  for (const entry of new Set(plan.directRefs.map((r) => r.entry))) {
    const { rows: sized } = await target.query<{ n: string }>(`select count(*) as n from ${COPY_SCHEMA}.id_map where copy = $1 and entry = $2`, [plan.copy, entry]);
    if (Number(sized[0]?.n ?? 0) > MAX_IN_MEMORY_IDS) return undefined;
    const { rows } = await target.query<{ old_key: string; new_id: string }>(`select old_key, new_id from ${COPY_SCHEMA}.id_map where copy = $1 and entry = $2`, [plan.copy, entry]);
    maps.set(entry, new Map(rows.map((r) => [r.old_key, r.new_id])));
  }
  return maps;
}

/**
 * Streams the range straight into the target table (an entry with nothing to resolve in SQL), rewriting its
 * references through `maps` on the way, records the rows whose reference the maps do not hold as dead letters,
 * and marks the range done, in the caller's transaction. Throws {@link DirectCopyRejected} when the table
 * rejects a row: the caller rolls back, opens a fresh source reader (the interrupted COPY leaves it unusable)
 * and copies the range through staging, which dead-letters the rows at fault.
 */
export async function copyRangeDirect(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: ClaimedRange, maps: IdMaps): Promise<RangeOutcome> {
  const query = plan.directQuery?.(range.lo, range.hi) as string;
  const reader = source.query(copyTo(`copy (${query}) to stdout`));
  const writer = target.query(copyFrom(`copy ${plan.directTarget} from stdin`));
  const remap =
    plan.directRefs.length > 0 || !plan.directKeyIsColumn
      ? new RemapStream(plan.directRefs.map((r) => ({ ...r, map: maps.get(r.entry) ?? new Map<string, string>() })), plan.directColumns, plan.table.key, plan.directKeyIsColumn)
      : undefined;
  try {
    await (remap ? pipeline(reader, remap, writer) : pipeline(reader, writer));
  } catch (error) {
    if (isRowProblem(error)) throw new DirectCopyRejected(range.rangeNo, error);
    throw error;
  }
  const dead = remap?.dead ?? [];
  if (dead.length > 0) {
    await target.query(`insert into ${DEAD} (copy, entry, source_key, reason, row) select $1, $2, k, r, w from unnest($3::text[], $4::text[], $5::jsonb[]) as d(k, r, w)`, [
      plan.copy,
      plan.table.entry,
      dead.map((d) => d.key),
      dead.map((d) => d.reason),
      dead.map((d) => JSON.stringify(d.row)),
    ]);
  }
  const outcome = { inserted: writer.rowCount, dead: dead.length, collapsed: 0 };
  await markDone(target, plan, range, outcome);
  return outcome;
}

/** The range's checkpoint: done, with its counts (in the transaction that wrote its rows). */
async function markDone(target: pg.ClientBase, plan: EntryPlan, range: ClaimedRange, outcome: RangeOutcome): Promise<void> {
  await target.query(
    `update ${COPY_SCHEMA}.copy_range set status = 'done', inserted = $4, dead = $5, collapsed = $6, done_at = now() where copy = $1 and entry = $2 and range_no = $3`,
    [plan.copy, plan.table.entry, range.rangeNo, outcome.inserted, outcome.dead, outcome.collapsed],
  );
}

/** Moves the staged rows matching `where` into the dead letters with `reason` (an SQL expression over `st`); returns how many. */
async function deadLetter(target: pg.ClientBase, plan: EntryPlan, where: string, reason: string): Promise<number> {
  const stage = quoteIdent(plan.stage);
  const { rowCount } = await target.query(
    `with gone as (delete from ${stage} st where ${where} returning st.*)
     insert into ${DEAD} (copy, entry, source_key, reason, row) select $1, $2, st.__key, ${reason}, ${plan.deadRowSql} from gone st`,
    [plan.copy, plan.table.entry],
  );
  return rowCount ?? 0;
}

/**
 * Resolves duplicates: onto survivors of earlier ranges, then within the range (first in key order wins), claiming
 * new survivors. A key another worker claimed first makes every row of it here a duplicate of that survivor,
 * those already ranked duplicates within the range included (they take its id too).
 */
async function collapseDuplicates(target: pg.ClientBase, plan: EntryPlan): Promise<void> {
  const stage = quoteIdent(plan.stage);
  const params = [plan.copy, plan.table.entry];
  const earlier = `update ${stage} st set __dup = true, __new = m.new_id from ${COPY_SCHEMA}.copy_survivor sv
     join ${COPY_SCHEMA}.id_map m on m.copy = sv.copy and m.entry = sv.entry and m.old_key = sv.old_key
     where sv.copy = $1 and sv.entry = $2 and sv.dedupe_key = st.__dedupe`;
  await target.query(earlier, params);
  await target.query(
    `update ${stage} st set __dup = true from (select __seq, row_number() over (partition by __dedupe order by __seq) as n from ${stage} where __dedupe is not null and not __dup) r
     where st.__seq = r.__seq and r.n > 1`,
  );
  // Claim this range's survivors (in key order, so concurrent workers lock in the same order); a key another
  // worker claimed first (we waited for its commit) makes ours a duplicate of its survivor.
  const claimed = await target.query<{ dedupe_key: string }>(
    `insert into ${COPY_SCHEMA}.copy_survivor (copy, entry, dedupe_key, old_key)
     select $1, $2, __dedupe, __key from ${stage} where __dedupe is not null and not __dup order by __dedupe
     on conflict do nothing returning dedupe_key`,
    params,
  );
  const lost = await target.query(`select 1 from ${stage} where __dedupe is not null and not __dup and not (__dedupe = any($1::text[])) limit 1`, [claimed.rows.map((r) => r.dedupe_key)]);
  if (lost.rowCount) await target.query(earlier, params);
}

/** Gives survivors their ids (new UUIDs, or the source key) and duplicates their survivor's. */
async function assignIds(target: pg.ClientBase, plan: EntryPlan): Promise<void> {
  const table = plan.table;
  if (table.id === false || (table.id.generate === 'keep' && !table.dedupe)) return; // the insert reads the key itself
  const stage = quoteIdent(plan.stage);
  await target.query(`update ${stage} set __new = ${table.id.generate === 'uuid' ? 'gen_random_uuid()::text' : '__key'} where not __dup`);
  await target.query(`update ${stage} d set __new = s.__new from ${stage} s where d.__dup and d.__new is null and not s.__dup and s.__dedupe = d.__dedupe`);
}

/**
 * Dead-letters the staged rows whose reference the id map does not hold (nor, for a self-reference, this range):
 * `selfOnly` checks only references to the entry itself (after a row of the range was rejected). Within a tree,
 * a row whose parent just became a dead letter loses its parent too: repeated until none does. Never a silent NULL.
 */
async function deadLetterUnresolved(target: pg.ClientBase, plan: EntryPlan, selfOnly: boolean): Promise<number> {
  let dead = 0;
  for (const column of plan.columns.filter((c) => c.refEntry && (!selfOnly || c.refEntry === plan.table.entry))) {
    const self = column.refEntry === plan.table.entry;
    const sameRange = self ? ` and not exists (select 1 from ${quoteIdent(plan.stage)} o where o.__key = st.${column.stage})` : '';
    const missing = `st.${column.stage} is not null and not exists (select 1 from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = ${quoteLiteral(column.refEntry as string)} and m.old_key = st.${column.stage})${sameRange}`;
    const reason = `format('%s = %s: no "%s" row with that key was copied', ${quoteLiteral(column.target)}, st.${column.stage}, ${quoteLiteral(column.refEntry as string)})`;
    for (let removed = await deadLetter(target, plan, missing, reason); removed > 0; removed = self ? await deadLetter(target, plan, missing, reason) : 0) dead += removed;
  }
  return dead;
}

/** Dead-letters the staged row `seq` the table rejected with `message`, and the duplicates that collapsed onto it. */
async function rejectRow(target: pg.ClientBase, plan: EntryPlan, seq: number, message: string): Promise<number> {
  const stage = quoteIdent(plan.stage);
  const survivor = await target.query<{ new: string | null; key: string }>(`select __new as new, __key as key from ${stage} where __seq = $1`, [seq]);
  let dead = await deadLetter(target, plan, `st.__seq = ${seq}`, quoteLiteral(`rejected by ${plan.targetQualified}: ${message}`));
  const id = survivor.rows[0]?.new;
  if (id !== null && id !== undefined && plan.table.dedupe) {
    dead += await deadLetter(target, plan, `st.__dup and st.__new = ${quoteLiteral(id)}`, quoteLiteral(`its survivor was rejected by ${plan.targetQualified}: ${message}`));
    await target.query(`delete from ${COPY_SCHEMA}.copy_survivor where copy = $1 and entry = $2 and old_key = $3`, [plan.copy, plan.table.entry, survivor.rows[0]?.key]);
  }
  // Its children in this range (a tree) lose their parent with it.
  return dead + (await deadLetterUnresolved(target, plan, true));
}

/** SQLSTATEs of a value that does not convert to its column's type, whose message quotes the value. */
const CONVERSION_STATES = new Set(['22P02', '22003', '22007', '22008']);

/**
 * For a conversion error (`invalid input syntax for type integer: "A+"`): inserts, one at a time, the surviving
 * staged rows of [lo, hi] holding the quoted value in a column, marking those that go in (`__inserted`, so the
 * span's retry skips them) and dead-lettering those the table rejects. Returns how many rows it tried (0 when
 * the error quotes no value found there: the caller bisects).
 */
async function tryRowsWithValue(target: pg.ClientBase, plan: EntryPlan, lo: number, hi: number, error: unknown): Promise<{ rows: number; inserted: number; dead: number }> {
  const none = { rows: 0, inserted: 0, dead: 0 };
  if (!CONVERSION_STATES.has(String((error as { code?: string }).code ?? ''))) return none;
  const value = /"(.*)"/.exec(error instanceof Error ? error.message : String(error))?.[1];
  const columns = plan.columns.filter((c) => !c.refEntry);
  if (value === undefined || columns.length === 0) return none;
  const stage = quoteIdent(plan.stage);
  const { rows } = await target.query<{ seq: string }>(
    `select __seq::text as seq from ${stage} st where not st.__dup and not st.__inserted and st.__seq between $1 and $2 and $3 in (${columns.map((c) => `st.${c.stage}`).join(', ')}) order by st.__seq`,
    [lo, hi, value],
  );
  let inserted = 0;
  let dead = 0;
  for (const row of rows) {
    const seq = Number(row.seq);
    const one = await insertSpan(target, plan, seq, seq);
    if (one.inserted > 0) await target.query(`update ${stage} set __inserted = true where __seq = $1`, [seq]);
    inserted += one.inserted;
    dead += one.dead;
  }
  return { rows: rows.length, inserted, dead };
}

/**
 * Inserts the surviving staged rows whose `__seq` lies in [lo, hi] under a savepoint; when the table rejects a
 * row (bad input, NOT NULL, unique, check, foreign key: SQLSTATE class 22 or 23) it halves the span and tries
 * each half, down to the single rows at fault, which it dead-letters with the database's message (and the
 * duplicates that collapsed onto them). A few bad rows in a batch cost a few dozen statements, not one per row;
 * a value that does not convert is found by the value its error quotes, without halving.
 */
async function insertSpan(target: pg.ClientBase, plan: EntryPlan, lo: number, hi: number): Promise<{ inserted: number; dead: number }> {
  await target.query('savepoint evolve_copy_span');
  try {
    const { rowCount } = await target.query(`${plan.insertSql} and st.__seq between $1 and $2`, [lo, hi]);
    await target.query('release savepoint evolve_copy_span');
    return { inserted: rowCount ?? 0, dead: 0 };
  } catch (error) {
    if (!isRowProblem(error)) throw error;
    await target.query('rollback to savepoint evolve_copy_span');
    // Released, or every failed span would keep a subtransaction open until commit.
    await target.query('release savepoint evolve_copy_span');
    const message = error instanceof Error ? error.message : String(error);
    if (lo === hi) return { inserted: 0, dead: await rejectRow(target, plan, lo, message) };
    // A value that does not convert names itself: the rows holding it are tried one by one, then the span again.
    const tried = await tryRowsWithValue(target, plan, lo, hi, error);
    if (tried.rows > 0) {
      const rest = await insertSpan(target, plan, lo, hi);
      return { inserted: rest.inserted + tried.inserted, dead: rest.dead + tried.dead };
    }
  }
  const mid = Math.floor((lo + hi) / 2);
  const first = await insertSpan(target, plan, lo, mid);
  const second = await insertSpan(target, plan, mid + 1, hi);
  return { inserted: first.inserted + second.inserted, dead: first.dead + second.dead };
}

/** Inserts the surviving staged rows (see {@link insertSpan}); returns rows inserted and dead-lettered. */
async function insertRows(target: pg.ClientBase, plan: EntryPlan): Promise<{ inserted: number; dead: number }> {
  const { rows } = await target.query<{ lo: string | null; hi: string | null }>(`select min(__seq)::text as lo, max(__seq)::text as hi from ${quoteIdent(plan.stage)} where not __dup`);
  const span = rows[0];
  if (span?.lo == null || span.hi == null) return { inserted: 0, dead: 0 };
  return insertSpan(target, plan, Number(span.lo), Number(span.hi));
}

/**
 * Copies one claimed range inside the target's open transaction (the caller commits): stage, dead letters,
 * dedupe, ids, insert, id map, range done. Idempotent with the range claim: a range already done is never claimed.
 */
export async function copyRange(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: ClaimedRange): Promise<RangeOutcome> {
  const table = plan.table;
  let dead = await stageRange(plan, source, target, range);
  if (table.where) dead += await deadLetter(target, plan, 'not st.__keep', quoteLiteral(`filtered by where: ${table.where}`));
  dead += await deadLetterUnresolved(target, plan, false);
  if (table.dedupe) await collapseDuplicates(target, plan);
  await assignIds(target, plan);
  const rows = await insertRows(target, plan);
  dead += rows.dead;
  const stage = quoteIdent(plan.stage);
  const collapsed = table.dedupe ? Number((await target.query<{ n: string }>(`select count(*) as n from ${stage} where __dup`)).rows[0]?.n ?? 0) : 0;
  if (plan.idMap) await target.query(`insert into ${COPY_SCHEMA}.id_map (copy, entry, old_key, new_id) select $1, $2, __key, coalesce(__new, __key) from ${stage}`, [plan.copy, table.entry]);
  const outcome = { inserted: rows.inserted, dead, collapsed };
  await markDone(target, plan, range, outcome);
  return outcome;
}
