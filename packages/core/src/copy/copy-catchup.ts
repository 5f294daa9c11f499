import pg from 'pg';
import { CopyFailedError } from '../errors.js';
import { withClient } from '../db/with-client.js';
import { quoteIdent, quoteLiteral } from '../sql.js';
import { COPY_SESSION, resolveStaged, stageRange, type StagedDeadLetter } from './copy-batch.js';
import { planEntry, readTargetColumns, type EntryPlan, type TargetColumns } from './copy-planner.js';
import { exportSourceSnapshot, openSourceReader, selectEntries, type SourceSnapshot } from './copy-runner.js';
import type { CopyPlan } from './copy-spec.js';
import { COPY_SCHEMA, ensureCopyStore, readTableState } from './copy-store.js';

/**
 * Catch-up: after a copy, the source rows written since each range was read are brought over, range by range,
 * each range in one target transaction with its counts and new snapshot time. A row is new (copied as `run`
 * copies it: dead letters, dedupe, ids, id map), changed (its target row updated where a column differs), a
 * duplicate that collapsed (left alone: the survivor's values stand) or a dead letter (tried again).
 */

/** Default allowance for clocks and late commits when looking for changed rows by time (seconds). */
export const DEFAULT_CATCH_UP_MARGIN_S = 300;

/** What catch-up did to one entry (the CLI's `catchUp[]`). */
export interface CatchUpReport {
  readonly name: string;
  /** `changed-since`: rows found by `catchUp.changedSince`; `keys`: every row compared; `skipped`: see detail. */
  readonly mode: 'changed-since' | 'keys' | 'skipped';
  /** Source rows read (changed, or all in `keys` mode). */
  readonly examined: number;
  readonly inserted: number;
  readonly updated: number;
  /** Net change of the dead letters (new ones minus those that now copied). */
  readonly deadLetters: number;
  readonly collapsed: number;
  /** `keys` mode: rows copied earlier whose source row is gone (the target keeps them; counted, not deleted). */
  readonly deletedInSource: number;
  readonly detail: string;
}

/** How `catchUpCopy` runs. */
export interface CatchUpOptions {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly entries?: readonly string[];
  /** Rows changed up to this many seconds before a range's snapshot time are read again (default 300). */
  readonly marginSeconds?: number;
  readonly signal?: AbortSignal;
}

interface RangeRow {
  readonly range_no: number;
  readonly lo: string | null;
  readonly hi: string | null;
  readonly snapshot_at: Date | null;
  readonly accounted: string;
}

/** SQL over the staged row `st`: the target id of the row its key was copied to (through the id map, or the key). Pure. */
function copiedIdSql(plan: EntryPlan): string {
  return plan.idMap ? `(select m.new_id from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = st.__key)` : 'st.__key';
}

/**
 * Updates the target rows of staged keys copied earlier where a column differs, then takes every staged key
 * known before (copied, collapsed) out of the stage. A changed reference the id map cannot resolve fails the
 * range, naming the key and the column. Returns rows updated and keys known.
 */
async function updateCopied(plan: EntryPlan, target: pg.ClientBase): Promise<{ updated: number; known: number }> {
  const stage = quoteIdent(plan.stage);
  const table = plan.table;
  if (table.id === false) return { updated: 0, known: 0 };
  const id = quoteIdent(table.id.column);
  // Binds the copy and entry names as far as the statement uses them ($1, $2).
  const bound = (sql: string): [string, string[]] => [sql, sql.includes('$2') ? [plan.copy, table.entry] : sql.includes('$1') ? [plan.copy] : []];
  // A duplicate that collapsed onto its survivor is known, and left alone: the survivor's values stand.
  if (table.dedupe) {
    await target.query(...bound(`update ${stage} st set __dup = true from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = st.__key and m.dup`));
  }
  const copied = `(st.__dup or exists (select 1 from ${plan.targetQualified} t where t.${id} = (${copiedIdSql(plan)})::${plan.idType}))`;
  for (const c of plan.columns.filter((column) => column.refEntry)) {
    const { rows } = await target.query<{ key: string; old: string }>(
      ...bound(`select st.__key as key, st.${c.stage} as old from ${stage} st where not st.__dup and ${copied} and st.${c.stage} is not null
         and not exists (select 1 from ${COPY_SCHEMA}.id_map r where r.copy = $1 and r.entry = ${quoteLiteral(c.refEntry as string)} and r.old_key = st.${c.stage}) limit 1`),
    );
    if (rows[0]) throw new CopyFailedError(plan.copy, table.entry, `source row ${rows[0].key} changed its ${c.target} to ${rows[0].old}, which no copied "${c.refEntry}" row has: copy that row first or fix the source`);
  }
  const value = (c: EntryPlan['columns'][number]): string =>
    c.refEntry ? `(select r.new_id from ${COPY_SCHEMA}.id_map r where r.copy = $1 and r.entry = ${quoteLiteral(c.refEntry)} and r.old_key = st.${c.stage})::${c.baseType}` : `st.${c.stage}::${c.baseType}`;
  let updated = 0;
  if (plan.columns.length > 0) {
    const { rowCount } = await target.query(
      ...bound(`update ${plan.targetQualified} t set ${plan.columns.map((c) => `${quoteIdent(c.target)} = ${value(c)}`).join(', ')}
       from ${stage} st where t.${id} = (${copiedIdSql(plan)})::${plan.idType} and not st.__dup
         and (${plan.columns.map((c) => `t.${quoteIdent(c.target)}::text is distinct from (${value(c)})::text`).join(' or ')})`),
    );
    updated = rowCount ?? 0;
  }
  // Known keys (copied rows and collapsed duplicates) leave the stage: what stays is new.
  const { rowCount: known } = await target.query(...bound(`delete from ${stage} st where ${copied}`));
  return { updated, known: known ?? 0 };
}

/** Staged keys that were dead letters: their dead letters are removed and the rows go through the copy again. Returns how many. */
async function retryDeadLetters(plan: EntryPlan, target: pg.ClientBase, mapped: readonly StagedDeadLetter[]): Promise<{ retried: number; stillDead: number; newDead: number }> {
  const { rowCount } = await target.query(
    `delete from ${COPY_SCHEMA}.copy_dead_letter d using ${quoteIdent(plan.stage)} st where d.copy = $1 and d.entry = $2 and d.source_key = st.__key`,
    [plan.copy, plan.table.entry],
  );
  if (mapped.length === 0) return { retried: rowCount ?? 0, stillDead: 0, newDead: 0 };
  // Rows the map threw on: a dead letter before stays one (with today's reason); a copied row fails the range.
  const { rows } = await target.query<{ key: string; dead: boolean; copied: boolean }>(
    `select k as key, exists (select 1 from ${COPY_SCHEMA}.copy_dead_letter d where d.copy = $1 and d.entry = $2 and d.source_key = k) as dead,
            exists (select 1 from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = k) as copied
     from unnest($3::text[]) k`,
    [plan.copy, plan.table.entry, mapped.map((d) => d.key)],
  );
  const copied = rows.find((r) => r.copied);
  if (copied) throw new CopyFailedError(plan.copy, plan.table.entry, `source row ${copied.key} was copied, and map now throws on its changed values: ${mapped.find((d) => d.key === copied.key)?.reason}`);
  await target.query(
    `insert into ${COPY_SCHEMA}.copy_dead_letter (copy, entry, source_key, reason, row) select $1, $2, k, r, w from unnest($3::text[], $4::text[], $5::jsonb[]) as d(k, r, w)
     on conflict (copy, entry, source_key) do update set reason = excluded.reason, row = excluded.row, at = now()`,
    [plan.copy, plan.table.entry, mapped.map((d) => d.key), mapped.map((d) => d.reason), mapped.map((d) => d.row)],
  );
  const stillDead = rows.filter((r) => r.dead).length;
  return { retried: rowCount ?? 0, stillDead, newDead: mapped.length - stillDead };
}

/** Catches up one range in the caller's open target transaction; returns its figures. */
async function catchUpRange(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, range: RangeRow, snapshot: SourceSnapshot, marginSeconds: number): Promise<Omit<CatchUpReport, 'name' | 'mode' | 'detail'> & { keys: boolean }> {
  const since = plan.table.changedSince && range.snapshot_at ? new Date(range.snapshot_at.getTime() - marginSeconds * 1000).toISOString() : undefined;
  const mapped = await stageRange(plan, source, target, { rangeNo: range.range_no, lo: range.lo, hi: range.hi }, false, since);
  const staged = Number((await target.query<{ n: string }>(`select count(*) as n from ${quoteIdent(plan.stage)}`)).rows[0]?.n ?? 0);
  const dead = await retryDeadLetters(plan, target, mapped);
  const { updated, known } = await updateCopied(plan, target);
  const outcome = await resolveStaged(plan, target, 0);
  const deadDelta = outcome.dead + dead.newDead - dead.retried;
  await target.query(
    `update ${COPY_SCHEMA}.copy_range set inserted = inserted + $4, dead = dead + $5, collapsed = collapsed + $6, snapshot_at = $7 where copy = $1 and entry = $2 and range_no = $3`,
    [plan.copy, plan.table.entry, range.range_no, outcome.inserted, deadDelta, outcome.collapsed, snapshot.at],
  );
  // Every row of the range was read (keys mode): the rows accounted for before that were not met are gone from the source.
  const met = known + dead.retried + dead.stillDead;
  return { examined: staged + mapped.length, inserted: outcome.inserted, updated, deadLetters: deadDelta, collapsed: outcome.collapsed, deletedInSource: since === undefined ? Math.max(0, Number(range.accounted) - met) : 0, keys: since === undefined };
}

/** Catches up one entry, range after range (each in its own target transaction). */
async function catchUpEntry(plan: EntryPlan, sourceUrl: string, target: pg.ClientBase, snapshot: SourceSnapshot, options: CatchUpOptions): Promise<CatchUpReport> {
  const name = plan.table.entry;
  const none = { name, examined: 0, inserted: 0, updated: 0, deadLetters: 0, collapsed: 0, deletedInSource: 0 };
  if (plan.table.id === false) return { ...none, mode: 'skipped', detail: 'no id column (id: false): a changed row cannot be told from a new one; copy this table again instead' };
  if ((await readTableState(target, plan.copy, name))?.status !== 'done') throw new CopyFailedError(plan.copy, name, 'is not copied yet: copy run first, then catch up');
  const totals = { ...none, keys: false };
  const source = await openSourceReader(sourceUrl, snapshot.id);
  try {
    await target.query(plan.stageDdl);
    const { rows: ranges } = await target.query<RangeRow>(
      `select range_no, lo, hi, snapshot_at, (inserted + dead + collapsed)::text as accounted from ${COPY_SCHEMA}.copy_range where copy = $1 and entry = $2 order by range_no`,
      [plan.copy, name],
    );
    for (const range of ranges) {
      if (options.signal?.aborted) break;
      await target.query('begin');
      try {
        // Locks the range row: a second catch-up of the same range waits for this one.
        await target.query(`select 1 from ${COPY_SCHEMA}.copy_range where copy = $1 and entry = $2 and range_no = $3 for update`, [plan.copy, name, range.range_no]);
        const figures = await catchUpRange(plan, source, target, range, snapshot, options.marginSeconds ?? DEFAULT_CATCH_UP_MARGIN_S);
        await target.query('commit');
        for (const key of ['examined', 'inserted', 'updated', 'deadLetters', 'collapsed', 'deletedInSource'] as const) totals[key] += figures[key];
        totals.keys ||= figures.keys;
      } catch (error) {
        await target.query('rollback').catch(() => undefined);
        throw error;
      }
    }
    await target.query(`update ${COPY_SCHEMA}.copy_table t set source_rows = (select sum(inserted + dead + collapsed) from ${COPY_SCHEMA}.copy_range r where r.copy = t.copy and r.entry = t.entry) where copy = $1 and entry = $2`, [plan.copy, name]);
  } finally {
    await source.end().catch(() => undefined);
  }
  const { keys, ...figures } = totals;
  const mode = plan.table.changedSince && !keys ? 'changed-since' : 'keys';
  const detail = `${figures.examined} source rows read${mode === 'changed-since' ? ` (changed since each range's snapshot, less ${options.marginSeconds ?? DEFAULT_CATCH_UP_MARGIN_S} s)` : ' (every row, by key)'}: ${figures.inserted} new, ${figures.updated} updated${figures.deletedInSource ? `, ${figures.deletedInSource} deleted in the source (kept in the target)` : ''}`;
  return { ...figures, mode, detail };
}

/**
 * Brings the source rows written since the copy read them into the target: new rows are copied (dead letters,
 * dedupe, new ids and id map as `runCopy` does), changed rows update their target row where a column differs,
 * dead letters are tried again, collapsed duplicates are left to their survivor. An entry with
 * `catchUp.changedSince` reads only the rows changed since each range's snapshot time (less `marginSeconds`);
 * any other entry compares every row by key and also counts rows deleted in the source (never deleted in the
 * target). Each range commits its rows, id map, dead letters, counts and new snapshot time in one target
 * transaction under a lock on its tracker row: killed at any point, a rerun continues correctly (a range done
 * is read again from its new time). Idempotent: a second catch-up with no source write changes nothing.
 * Locks: none on the source beyond its snapshot; row locks and updates in the target tables.
 * Throws `CopyFailedError` for an entry not copied yet, a changed reference the id map cannot resolve, or a
 * copied row the map now throws on.
 */
export async function catchUpCopy(plan: CopyPlan, options: CatchUpOptions): Promise<{ tables: CatchUpReport[] }> {
  return withClient(options.targetUrl, async (target) => {
    await ensureCopyStore(target);
    await target.query(COPY_SESSION);
    const columns = await readTargetColumns(target, plan);
    const selected = await selectEntries(plan, target, options);
    const coordinator = new pg.Client({ connectionString: options.sourceUrl, application_name: 'prisma-evolve copy catch-up (snapshot)' });
    await coordinator.connect();
    const tables: CatchUpReport[] = [];
    try {
      const snapshot = await exportSourceSnapshot(coordinator);
      for (const table of selected) {
        const entryPlan = planEntry(plan, table, columns.get(`${table.schema}.${table.targetTable}`) as TargetColumns);
        tables.push(await catchUpEntry(entryPlan, options.sourceUrl, target, snapshot, options));
        if (options.signal?.aborted) break;
      }
      await coordinator.query('commit');
    } finally {
      await coordinator.end().catch(() => undefined);
    }
    return { tables };
  });
}
