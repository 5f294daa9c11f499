import pg from 'pg';
import { CopyFailedError } from '../errors.js';
import { withClient } from '../db/with-client.js';
import { quoteIdent, quoteLiteral } from '../sql.js';
import { COPY_SESSION, resolveStaged, stageRange } from './copy-batch.js';
import { arrayLiteral } from './copy-map-stage.js';
import { applyKnown, classifyStaged, knownTableDdl } from './copy-catchup-rows.js';
import { resolveDeferred } from './copy-deferred.js';
import { planEntry, readTargetColumns, sourceRelation, type EntryPlan, type TargetColumns } from './copy-planner.js';
import { exportSourceSnapshot, openSourceReader, selectEntries, type SourceSnapshot } from './copy-runner.js';
import type { CopyPlan } from './copy-spec.js';
import { COPY_SCHEMA, ensureCopyStore, readRanges, readTableFigures, readTableState, type CopyRange } from './copy-store.js';

/**
 * Catch-up: after a copy, the source rows written since each range was read are brought over, range by range,
 * each range in one target transaction with its counts and new snapshot time. A row is new (copied as `run`
 * copies it), copied before (its target row updated where a column differs, or a recorded conflict), a
 * duplicate that collapsed (left alone) or a dead letter (tried again). Deferred references get their second
 * pass at the end.
 */

/** Default allowance for clocks and late commits when looking for changed rows by time (seconds). */
export const DEFAULT_CATCH_UP_MARGIN_S = 300;

/** Above this many dead letters and conflicts, an entry with `changedSince` is compared by key (every row read) instead. */
export const MAX_RETRY_KEYS = 100_000;

/** What catch-up did to one entry (the CLI's `catchUp[]`). */
export interface CatchUpReport {
  readonly name: string;
  /** `changed-since`: rows found by `catchUp.changedSince` (and the dead letters and conflicts); `keys`: every row compared. */
  readonly mode: 'changed-since' | 'keys' | 'skipped';
  readonly status: 'done' | 'canceled' | 'skipped';
  /** Source rows read. */
  readonly examined: number;
  readonly inserted: number;
  readonly updated: number;
  /** Net change of the dead letters (new ones minus those that now copied). */
  readonly deadLetters: number;
  readonly collapsed: number;
  /** `keys` mode: rows copied earlier whose source row is gone (the target keeps them; counted, not deleted). */
  readonly deletedInSource: number;
  /** Source rows that could not be applied to their copied row, open after this run (`_evolve.copy_conflict`). */
  readonly conflicts: number;
  readonly detail: string;
}

/** How `catchUpCopy` runs. */
export interface CatchUpOptions {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly entries?: readonly string[];
  readonly phase?: number;
  /** Rows changed up to this many seconds before a range's snapshot time are read again (default 300). */
  readonly marginSeconds?: number;
  readonly signal?: AbortSignal;
}

type Figures = Pick<CatchUpReport, 'examined' | 'inserted' | 'updated' | 'deadLetters' | 'collapsed' | 'deletedInSource'>;

/**
 * The source predicate of the rows to read again since `at` (less the margin): changed since, never stamped, or
 * a dead letter or conflict of the entry. A `timestamp` or `date` stamp is compared in the source server's own
 * time zone (it holds local times); any other type is refused, naming it. Undefined: read every row (keys mode).
 */
async function changedFilter(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, marginSeconds: number): Promise<((at: Date) => string) | undefined> {
  const changed = plan.table.changedSince;
  if (!changed) return undefined;
  // A row filtered by `where` is read again only when it changes (its own values decide); any other dead letter
  // (a reference nobody had, a rejected value) and every conflict is read again each time.
  const retry = await target.query<{ key: string }>(
    `select source_key as key from ${COPY_SCHEMA}.copy_dead_letter where copy = $1 and entry = $2 and reason not like 'filtered by where:%'
     union select source_key from ${COPY_SCHEMA}.copy_conflict where copy = $1 and entry = $2 limit ${MAX_RETRY_KEYS + 1}`,
    [plan.copy, plan.table.entry],
  );
  if (retry.rows.length > MAX_RETRY_KEYS) return undefined;
  const probe = await source.query(`select (${changed}) as c from ${sourceRelation(plan.table.from)} s limit 0`);
  const oid = probe.fields[0]?.dataTypeID;
  const zone = (await source.query<{ tz: string }>(`select reset_val as tz from pg_settings where name = 'TimeZone'`)).rows[0]?.tz ?? 'UTC';
  const local = (iso: string): string => `(${quoteLiteral(iso)}::timestamptz at time zone ${quoteLiteral(zone)})`;
  const cast: Record<number, (iso: string) => string> = { 1184: (iso) => `${quoteLiteral(iso)}::timestamptz`, 1114: local, 1082: (iso) => `${local(iso)}::date` };
  const toSql = oid === undefined ? undefined : cast[oid];
  if (!toSql) {
    const type = (await source.query<{ t: string }>('select format_type($1::oid, null) as t', [oid ?? 0])).rows[0]?.t;
    throw new CopyFailedError(plan.copy, plan.table.entry, `catchUp.changedSince must be a timestamptz, timestamp or date (it is ${type})`);
  }
  const keys = retry.rows.length ? ` or (${plan.keySql})::text = any(${quoteLiteral(arrayLiteral(retry.rows.map((r) => r.key)))}::text[])` : '';
  return (at) => `(${changed}) >= ${toSql(new Date(at.getTime() - marginSeconds * 1000).toISOString())} or (${changed}) is null${keys}`;
}

/** Catches up one range in the caller's open target transaction (its tracker row locked); returns its figures. */
async function catchUpRange(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: CopyRange & { readonly accounted: string }, filter: string | undefined, snapshot: SourceSnapshot): Promise<Figures> {
  const mapped = await stageRange(plan, source, target, range, false, filter);
  const staged = Number((await target.query<{ n: string }>(`select count(*) as n from ${quoteIdent(plan.stage)}`)).rows[0]?.n ?? 0);
  const sorted = await classifyStaged(target, plan, mapped);
  // New rows first: a copied row may now refer to one of them.
  const outcome = await resolveStaged(plan, target, 0);
  const updated = await applyKnown(target, plan);
  const deadLetters = outcome.dead + sorted.mapped.newDead - sorted.retried;
  await target.query(
    `update ${COPY_SCHEMA}.copy_range set inserted = inserted + $4, dead = dead + $5, collapsed = collapsed + $6, snapshot_at = $7 where copy = $1 and entry = $2 and range_no = $3`,
    [plan.copy, plan.table.entry, range.rangeNo, outcome.inserted, deadLetters, outcome.collapsed, snapshot.at],
  );
  // Every row of the range was read (keys mode): the rows accounted for before that were not met are gone from the source.
  const met = sorted.known + sorted.retried + sorted.mapped.stillDead;
  return { examined: staged + mapped.length, inserted: outcome.inserted, updated, deadLetters, collapsed: outcome.collapsed, deletedInSource: filter === undefined ? Math.max(0, Number(range.accounted) - met) : 0 };
}

/**
 * Tries the entry's conflicts again, range by range (each in its own target transaction; ranges without one are
 * skipped): their rows are read again and applied to their copied rows, counts and snapshot times untouched.
 * Idempotent. Returns the rows updated.
 */
async function retrySelfConflicts(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase): Promise<number> {
  const { rows: keys } = await target.query<{ key: string }>(`select source_key as key from ${COPY_SCHEMA}.copy_conflict where copy = $1 and entry = $2 limit ${MAX_RETRY_KEYS}`, [plan.copy, plan.table.entry]);
  if (keys.length === 0) return 0;
  const filter = `(${plan.keySql})::text = any(${quoteLiteral(arrayLiteral(keys.map((k) => k.key)))}::text[])`;
  let updated = 0;
  for (const range of await readRanges(target, plan.copy, plan.table.entry)) {
    if ((await source.query<{ any: boolean }>(`select exists (${plan.sourceQuery(range.lo, range.hi, filter)}) as any`)).rows[0]?.any !== true) continue;
    await target.query('begin');
    try {
      const mapped = await stageRange(plan, source, target, range, false, filter);
      await classifyStaged(target, plan, mapped);
      updated += await applyKnown(target, plan);
      await target.query('commit');
    } catch (error) {
      await target.query('rollback').catch(() => undefined);
      throw error;
    }
  }
  return updated;
}

/** Catches up one entry, range after range (each in its own target transaction). */
async function catchUpEntry(plan: EntryPlan, sourceUrl: string, target: pg.ClientBase, snapshot: SourceSnapshot, options: CatchUpOptions): Promise<CatchUpReport> {
  const name = plan.table.entry;
  const none: Figures = { examined: 0, inserted: 0, updated: 0, deadLetters: 0, collapsed: 0, deletedInSource: 0 };
  const skipped = (detail: string): CatchUpReport => ({ name, mode: 'skipped', status: 'skipped', ...none, conflicts: 0, detail });
  if (plan.table.id === false) return skipped('no id column (id: false): a changed row cannot be told from a new one; copy this table again instead');
  if ((await readTableState(target, plan.copy, name))?.status !== 'done') return skipped('not copied yet: copy run first, then catch up');
  const totals = { ...none };
  const margin = options.marginSeconds ?? DEFAULT_CATCH_UP_MARGIN_S;
  let keysMode = false;
  let canceled = false;
  const source = await openSourceReader(sourceUrl, snapshot.id);
  try {
    await target.query(plan.stageDdl);
    await target.query(knownTableDdl(plan));
    const filterAt = await changedFilter(plan, source, target, margin);
    for (const range of await readRanges(target, plan.copy, plan.table.entry)) {
      if (options.signal?.aborted) {
        canceled = true;
        break;
      }
      await target.query('begin');
      try {
        // The tracker row, read under its lock: a newer catch-up of this range (a later snapshot) wins.
        const { rows } = await target.query<{ snapshot_at: Date | null; accounted: string }>(
          `select snapshot_at, (inserted + dead + collapsed)::text as accounted from ${COPY_SCHEMA}.copy_range where copy = $1 and entry = $2 and range_no = $3 for update`,
          [plan.copy, name, range.rangeNo],
        );
        const row = rows[0];
        if (!row || (row.snapshot_at && row.snapshot_at.toISOString() >= snapshot.at)) {
          await target.query('commit');
          continue;
        }
        const filter = filterAt && row.snapshot_at ? filterAt(row.snapshot_at) : undefined;
        keysMode ||= filter === undefined;
        // Nothing to read again in this range: only its time moves on.
        const probe = filter === undefined ? undefined : await source.query<{ any: boolean }>(`select exists (${plan.sourceQuery(range.lo, range.hi, filter)}) as any`);
        const figures = probe?.rows[0]?.any === false ? none : await catchUpRange(plan, source, target, { ...range, accounted: row.accounted }, filter, snapshot);
        if (figures === none) await target.query(`update ${COPY_SCHEMA}.copy_range set snapshot_at = $4 where copy = $1 and entry = $2 and range_no = $3`, [plan.copy, name, range.rangeNo, snapshot.at]);
        await target.query('commit');
        for (const key of Object.keys(totals) as (keyof Figures)[]) totals[key] += figures[key];
      } catch (error) {
        await target.query('rollback').catch(() => undefined);
        throw error;
      }
    }
    // A tree row moved under a parent that a later range brought in: its conflict is tried again now.
    if (!canceled && plan.columns.some((c) => c.refEntry === name && !c.deferred)) totals.updated += await retrySelfConflicts(plan, source, target);
    await target.query(`update ${COPY_SCHEMA}.copy_table t set source_rows = (select sum(inserted + dead + collapsed) from ${COPY_SCHEMA}.copy_range r where r.copy = t.copy and r.entry = t.entry) where copy = $1 and entry = $2`, [plan.copy, name]);
  } finally {
    await source.end().catch(() => undefined);
  }
  const conflicts = Number((await target.query<{ n: string }>(`select count(*) as n from ${COPY_SCHEMA}.copy_conflict where copy = $1 and entry = $2`, [plan.copy, name])).rows[0]?.n ?? 0);
  const mode = plan.table.changedSince && !keysMode ? 'changed-since' : 'keys';
  const read = mode === 'changed-since' ? ` (changed since each range's snapshot less ${margin} s, never stamped, dead letters and conflicts)` : ' (every row, by key)';
  const detail = `${totals.examined} source rows read${read}: ${totals.inserted} new, ${totals.updated} updated${totals.deletedInSource ? `, ${totals.deletedInSource} deleted in the source (kept in the target)` : ''}${conflicts ? `, ${conflicts} conflicts (copy status lists them)` : ''}${canceled ? '; canceled: run catch-up again' : ''}`;
  return { name, mode, status: canceled ? 'canceled' : 'done', ...totals, conflicts, detail };
}

/**
 * Brings the source rows written since the copy read them into the target: new rows are copied (dead letters,
 * dedupe, new ids and id map as `runCopy` does), dead letters are tried again, rows copied before update their
 * target row where a column differs, collapsed duplicates are left to their survivor, and a row that cannot be
 * applied (no longer passes `where`, a reference nobody has, a value the table rejects, its target row gone) is
 * recorded in `_evolve.copy_conflict` with the reason while its target row stays as it was. An entry with
 * `catchUp.changedSince` reads only the rows changed since each range's snapshot time (less `marginSeconds`),
 * rows never stamped, and its dead letters and conflicts; any other entry compares every row by key and also
 * counts rows deleted in the source (never deleted in the target). Ends with the second pass of deferred
 * references. Each range commits its rows, id map, dead letters, conflicts, counts and new snapshot time in one
 * target transaction under a lock on its tracker row: killed at any point, a rerun continues correctly, and a
 * second catch-up with no source write changes nothing. One catch-up per copy at a time (advisory lock).
 * Locks: none on the source beyond its snapshot; row locks, inserts and updates in the target tables.
 * Throws `CopyFailedError` when another catch-up of the copy runs, for a `changedSince` that is not a time, or
 * dead letters over an entry's `maxDeadLetters`.
 */
export async function catchUpCopy(plan: CopyPlan, options: CatchUpOptions): Promise<{ tables: CatchUpReport[]; hiddenSessions: number }> {
  return withClient(options.targetUrl, async (target) => {
    await ensureCopyStore(target);
    await target.query(COPY_SESSION);
    const lock = `hashtext(${quoteLiteral(`prisma-evolve:copy-catch-up:${plan.name}`)})`;
    if (!(await target.query<{ ok: boolean }>(`select pg_try_advisory_lock(${lock}) as ok`)).rows[0]?.ok) throw new CopyFailedError(plan.name, undefined, 'another catch-up of this copy is running');
    const coordinator = new pg.Client({ connectionString: options.sourceUrl, application_name: 'prisma-evolve copy catch-up (snapshot)' });
    try {
      const columns = await readTargetColumns(target, plan);
      const selected = await selectEntries(plan, target, options);
      await coordinator.connect();
      const tables: CatchUpReport[] = [];
      const snapshot = await exportSourceSnapshot(coordinator);
      for (const table of selected) {
        const entryPlan = planEntry(plan, table, columns.get(`${table.schema}.${table.targetTable}`) as TargetColumns);
        tables.push(await catchUpEntry(entryPlan, options.sourceUrl, target, snapshot, options));
        const dead = (await readTableFigures(target, plan.name, table.entry)).deadLetters;
        if (table.maxDeadLetters !== undefined && dead > table.maxDeadLetters) throw new CopyFailedError(plan.name, table.entry, `${dead} dead letters exceed maxDeadLetters ${table.maxDeadLetters}; see _evolve.copy_dead_letter (copy status lists the reasons)`);
        if (options.signal?.aborted) break;
      }
      await coordinator.query('commit');
      if (!options.signal?.aborted) for (const table of plan.tables) await resolveDeferred(target, planEntry(plan, table, columns.get(`${table.schema}.${table.targetTable}`) as TargetColumns), options.signal);
      return { tables, hiddenSessions: snapshot.hiddenSessions };
    } finally {
      await coordinator.end().catch(() => undefined);
      await target.query(`select pg_advisory_unlock(${lock})`).catch(() => undefined);
    }
  });
}
