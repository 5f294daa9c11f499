import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { quoteIdent, quoteLiteral } from '../sql.js';
import type { EntryPlan } from './copy-planner.js';
import { stageMappedRange } from './copy-map-stage.js';
import { RemapStream } from './copy-remap-stream.js';
import { COPY_SCHEMA, type CopyRange } from './copy-store.js';
import { deadLetter, deadLetterUnresolved, insertRows, isRowProblem } from './copy-insert.js';

/**
 * The executor of one key range: streams the source rows into the staging table (`COPY … TO STDOUT` piped
 * into `COPY … FROM STDIN`), then, in the same target transaction, records the rows it will not copy as dead
 * letters (filtered, unresolved references, rejected values), collapses duplicates onto their survivor, gives
 * new ids, inserts the rows, writes the id map and marks the range done with its counts. A crash anywhere
 * rolls all of it back: the range is copied again, whole, by the next run.
 */

/** Session settings that make both sides print and read values the same way (source readers and target writers). */
export const COPY_SESSION = `set datestyle = 'ISO, YMD'; set intervalstyle = 'postgres'; set extra_float_digits = 3; set bytea_output = 'hex'; set timezone = 'UTC'`;

/** The counts a range adds. */
export interface RangeOutcome {
  readonly inserted: number;
  readonly dead: number;
  readonly collapsed: number;
}

/** A claimed range. */
export type ClaimedRange = CopyRange;

/**
 * When the source rows a copy reads were current: no write the source snapshot misses is older than this
 * (the snapshot's start, or the start of the oldest transaction still open then, whichever is earlier), as
 * an ISO timestamp. Recorded on each range: `copy catch-up` looks for rows changed since.
 */
export type SnapshotTime = string;

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

/** A source row that became a dead letter while staging (a map that threw): its key, why, and the row as JSON. */
export interface StagedDeadLetter {
  readonly key: string;
  readonly reason: string;
  readonly row: string;
}

/**
 * Streams the source rows of the range (those `filter` holds for, when given) into the staging table (inside the
 * target's open transaction), through the entry's `map` when it has one, and analyzes it. Returns the rows the
 * map turned into dead letters (recorded unless `recordDead` is false).
 */
export async function stageRange(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: ClaimedRange, recordDead = true, filter?: string): Promise<readonly StagedDeadLetter[]> {
  let dead: readonly StagedDeadLetter[] = [];
  let rows = 0;
  if (plan.table.map) {
    const mapped = await stageMappedRange(plan, source, target, range.lo, range.hi, recordDead, filter);
    dead = mapped.dead;
    rows = mapped.staged;
  } else {
    const reader = source.query(copyTo(`copy (${plan.sourceQuery(range.lo, range.hi, filter)}) to stdout`));
    const writer = target.query(copyFrom(`copy ${quoteIdent(plan.stage)} (${plan.copyColumns.join(', ')}) from stdin`));
    await pipeline(reader, writer);
    rows = writer.rowCount;
  }
  // A temporary table has no statistics until analyzed: without them the planner may join the id map by
  // nested loops over the whole batch (seconds per 10,000 rows instead of milliseconds).
  if (rows > 0) await target.query(`analyze ${quoteIdent(plan.stage)}`);
  return dead;
}

/** Thrown when a range streamed straight into the table hit a value the table rejects: copy it again through staging. */
export class DirectCopyRejected extends Error {
  constructor(readonly rangeNo: number, cause: unknown) {
    super(`range ${rangeNo}: a row was rejected by the table; copying it through the staging table`, { cause });
  }
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
export async function copyRangeDirect(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: ClaimedRange, maps: IdMaps, snapshotAt: SnapshotTime): Promise<RangeOutcome> {
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
    await target.query(`insert into ${COPY_SCHEMA}.copy_dead_letter (copy, entry, source_key, reason, row) select $1, $2, k, r, w from unnest($3::text[], $4::text[], $5::jsonb[]) as d(k, r, w)`, [
      plan.copy,
      plan.table.entry,
      dead.map((d) => d.key),
      dead.map((d) => d.reason),
      dead.map((d) => JSON.stringify(d.row)),
    ]);
  }
  const outcome = { inserted: writer.rowCount, dead: dead.length, collapsed: 0 };
  await markDone(target, plan, range, outcome, snapshotAt);
  return outcome;
}

/** The range's checkpoint: done, with its counts and snapshot time (in the transaction that wrote its rows). */
async function markDone(target: pg.ClientBase, plan: EntryPlan, range: ClaimedRange, outcome: RangeOutcome, snapshotAt: SnapshotTime): Promise<void> {
  await target.query(
    `update ${COPY_SCHEMA}.copy_range set status = 'done', inserted = $4, dead = $5, collapsed = $6, done_at = now(), snapshot_at = $7 where copy = $1 and entry = $2 and range_no = $3`,
    [plan.copy, plan.table.entry, range.rangeNo, outcome.inserted, outcome.dead, outcome.collapsed, snapshotAt],
  );
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
 * Resolves the rows in the staging table into the target table, inside the caller's transaction: filtered rows
 * and unresolved references to dead letters, duplicates collapsed, ids given, rows inserted (rejected ones to
 * dead letters) and the id map written. Returns the counts; `dead` starts from what staging already recorded.
 */
export async function resolveStaged(plan: EntryPlan, target: pg.ClientBase, staged: number): Promise<RangeOutcome> {
  const table = plan.table;
  let dead = staged;
  if (table.where) dead += await deadLetter(target, plan, 'not st.__keep', quoteLiteral(`filtered by where: ${table.where}`));
  dead += await deadLetterUnresolved(target, plan, false);
  if (table.dedupe) await collapseDuplicates(target, plan);
  await assignIds(target, plan);
  const rows = await insertRows(target, plan);
  dead += rows.dead;
  const stage = quoteIdent(plan.stage);
  const collapsed = table.dedupe ? Number((await target.query<{ n: string }>(`select count(*) as n from ${stage} where __dup`)).rows[0]?.n ?? 0) : 0;
  if (plan.idMap) await target.query(`insert into ${COPY_SCHEMA}.id_map (copy, entry, old_key, new_id, dup) select $1, $2, __key, coalesce(__new, __key), __dup from ${stage}`, [plan.copy, table.entry]);
  for (const sql of plan.deferredSql) await target.query(sql, [plan.copy, table.entry]);
  return { inserted: rows.inserted, dead, collapsed };
}

/**
 * Copies one claimed range inside the target's open transaction (the caller commits): stage, dead letters,
 * dedupe, ids, insert, id map, range done with `snapshotAt`. Idempotent with the range claim: a range already
 * done is never claimed.
 */
export async function copyRange(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: ClaimedRange, snapshotAt: SnapshotTime): Promise<RangeOutcome> {
  const outcome = await resolveStaged(plan, target, (await stageRange(plan, source, target, range)).length);
  await markDone(target, plan, range, outcome, snapshotAt);
  return outcome;
}
