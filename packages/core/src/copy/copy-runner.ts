import pg from 'pg';
import { CopyFailedError } from '../errors.js';
import { isRetryable, retryDelayMs, sleep, DEFAULT_RETRY_POLICY } from '../db/retry-policy.js';
import { withClient } from '../db/with-client.js';
import { claimRange, COPY_SESSION, copyRange, copyRangeDirect, DirectCopyRejected, loadIdMaps, type SnapshotTime } from './copy-batch.js';
import { planEntry, readTargetColumns, type EntryPlan, type TargetColumns } from './copy-planner.js';
import { loadOrder, type CopyPlan, type CopyTable } from './copy-spec.js';
import { ProgressTracker, type BackfillProgress } from '../backfill/progress-tracker.js';
import { ensureRanges } from './copy-ranges.js';
import { resolveDeferred } from './copy-deferred.js';
import { BatchHistoryRecorder } from '../monitor/batch-history.js';
import { COPY_SCHEMA, ensureCopyStore, finishTable, readTableFigures, readTableState, readTotals } from './copy-store.js';

/** How `runCopy` runs. */
export interface CopyRunOptions {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  /** Only these entries (`--table`); their references must be copied already or in the same run. */
  readonly entries?: readonly string[];
  /** Only the entries of this phase (and those without one). */
  readonly phase?: number;
  /** Rows per batch (range) when the ranges are first cut; a resumed copy keeps its ranges. */
  readonly batchSize?: number;
  /** Parallel workers per table (each holds a source and a target connection). */
  readonly workers?: number;
  readonly onProgress?: (progress: CopyProgress) => void;
  readonly signal?: AbortSignal;
}

/** Progress of one entry, after each committed range. */
export interface CopyProgress {
  readonly entry: string;
  readonly rangesDone: number;
  readonly ranges: number;
  readonly inserted: number;
  readonly dead: number;
  readonly collapsed: number;
  /** Rows accounted for (copied + dead letters + collapsed) of the source rows, with rate and ETA. */
  readonly rows: BackfillProgress;
}

/** One entry in the report (the CLI's `tables[]`). */
export interface CopyTableReport {
  readonly name: string;
  readonly sourceRows: number | null;
  readonly copiedRows: number;
  readonly deadLetters: number;
  readonly collapsed: number;
  readonly status: 'done' | 'already-complete' | 'pending' | 'running' | 'canceled';
}

/** Opens a source connection reading in the exported snapshot (one REPEATABLE READ, READ ONLY transaction). */
export async function openSourceReader(url: string, snapshot: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'prisma-evolve copy (source)' });
  await client.connect();
  try {
    await client.query(COPY_SESSION);
    await client.query('begin isolation level repeatable read read only');
    await client.query(`set transaction snapshot '${snapshot.replace(/'/g, "''")}'`);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** A source snapshot the workers share: its exported id and its time (see {@link SnapshotTime}). */
export interface SourceSnapshot {
  readonly id: string;
  readonly at: SnapshotTime;
  /** Sessions of the source database whose transactions this role cannot see (no `pg_read_all_stats`). */
  readonly hiddenSessions: number;
}

/**
 * Opens `coordinator`'s REPEATABLE READ, READ ONLY transaction and exports its snapshot, with its time: the
 * transaction's start or, when earlier, the start of the oldest transaction then open in the source database,
 * whether it has written yet or not (it may still write, stamped with its own start, and commit after the
 * snapshot); on a standby, no later than the last replayed transaction. Sessions of other roles show no start
 * without `pg_read_all_stats`: they are counted in `hiddenSessions`, and only catch-up's margin covers them.
 * The caller commits.
 */
export async function exportSourceSnapshot(coordinator: pg.ClientBase): Promise<SourceSnapshot> {
  await coordinator.query(COPY_SESSION);
  await coordinator.query('begin isolation level repeatable read read only');
  const { rows } = await coordinator.query<{ id: string; at: Date; hidden: number }>(
    `select pg_export_snapshot() as id,
            least(now(), case when pg_is_in_recovery() then pg_last_xact_replay_timestamp() end,
                  (select min(xact_start) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null)) as at,
            (select count(*)::int from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend' and state is null) as hidden`,
  );
  return { id: rows[0]?.id as string, at: (rows[0]?.at as Date).toISOString(), hiddenSessions: rows[0]?.hidden ?? 0 };
}

/** Target foreign keys among the copy's tables, as (child entry, parent entry) pairs. Read-only. */
async function foreignKeyEdges(client: pg.ClientBase, plan: CopyPlan): Promise<[string, string][]> {
  const { rows } = await client.query<{ child_schema: string; child: string; parent_schema: string; parent: string; columns: string[] }>(
    `select cn.nspname::text as child_schema, c.relname::text as child, pn.nspname::text as parent_schema, p.relname::text as parent,
            array(select a.attname::text from unnest(k.conkey) u(n) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n) as columns
     from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace cn on cn.oid = c.relnamespace
     join pg_class p on p.oid = k.confrelid join pg_namespace pn on pn.oid = p.relnamespace where k.contype = 'f'`,
  );
  const entriesOf = (schema: string, table: string): CopyTable[] => plan.tables.filter((t) => t.schema === schema && t.targetTable === table);
  // A key whose columns the entry fills only in the second pass (deferred references) does not order the load.
  const deferredOnly = (table: CopyTable, columns: readonly string[]): boolean => columns.every((c) => { const v = table.resolvedColumns[c]; return v?.kind === 'ref' && v.deferred === true; });
  return rows.flatMap((r) =>
    entriesOf(r.child_schema, r.child)
      .filter((child) => !deferredOnly(child, r.columns))
      .flatMap((child) => entriesOf(r.parent_schema, r.parent).map((parent): [string, string] => [child.entry, parent.entry])),
  );
}

/** The batch-history step name of a copy entry (`copy:<copy>/<entry>`). Pure. */
export function copyHistoryStep(copy: string, entry: string): string {
  return `copy:${copy}/${entry}`;
}

/**
 * One worker: claims ranges until none is left, each in its own target transaction with its source rows. Each
 * committed range (and a range that failed for good) goes to the batch history after its transaction.
 */
async function worker(plan: EntryPlan, sourceUrl: string, targetUrl: string, snapshot: SourceSnapshot, options: CopyRunOptions, report: () => Promise<void>, history: BatchHistoryRecorder, name: string): Promise<void> {
  let source = await openSourceReader(sourceUrl, snapshot.id);
  // Ranges a straight stream could not take (a rejected row): they go through staging.
  const staged = new Set<number>();
  try {
    await withClient(targetUrl, async (target) => {
      await target.query(COPY_SESSION);
      await target.query(plan.stageDdl);
      // The referenced entries are complete before this one starts: their maps do not change while it copies.
      const maps = plan.directQuery ? await loadIdMaps(target, plan) : undefined;
      let started = new Date();
      const states: string[] = [];
      for (let attempt = 1; !options.signal?.aborted; ) {
        try {
          await target.query('begin');
          const range = await claimRange(target, plan.copy, plan.table.entry);
          if (!range) {
            await target.query('commit');
            return;
          }
          const outcome = maps && !staged.has(range.rangeNo) ? await copyRangeDirect(plan, source, target, range, maps, snapshot.at) : await copyRange(plan, source, target, range, snapshot.at);
          await target.query('commit');
          const rows = outcome.inserted + outcome.dead + outcome.collapsed;
          await history.record(target, { kind: 'batch', worker: name, startedAt: started, durationMs: Date.now() - started.getTime(), rows, updated: outcome.inserted, size: rows, attempts: attempt, retryStates: [...states] });
          attempt = 1;
          states.length = 0;
          started = new Date();
          await report();
        } catch (error) {
          await target.query('rollback').catch(() => undefined);
          // A COPY interrupted mid-stream leaves the source connection unusable: every retry starts on a fresh one.
          await source.end().catch(() => undefined);
          source = await openSourceReader(sourceUrl, snapshot.id);
          if (error instanceof DirectCopyRejected) {
            staged.add(error.rangeNo);
            continue;
          }
          states.push(String((error as { code?: string }).code ?? 'error'));
          if (!isRetryable(error) || attempt >= DEFAULT_RETRY_POLICY.maxAttempts) {
            const detail = error instanceof Error ? error.message : String(error);
            await history.record(target, { kind: 'failure', worker: name, startedAt: started, durationMs: Date.now() - started.getTime(), attempts: attempt, retryStates: [...states], detail });
            await history.flush(target);
            throw error;
          }
          await sleep(retryDelayMs(attempt++, DEFAULT_RETRY_POLICY));
        }
      }
    });
  } finally {
    await source.end().catch(() => undefined);
  }
}

/** The entries to run, in load order, after checking that what they refer to is or will be copied. */
export async function selectEntries(plan: CopyPlan, target: pg.ClientBase, options: CopyRunOptions): Promise<CopyTable[]> {
  const edges = await foreignKeyEdges(target, plan);
  const ordered = loadOrder(plan, edges);
  for (const name of options.entries ?? []) if (!plan.tables.some((t) => t.entry === name)) throw new CopyFailedError(plan.name, name, `no such table in the copy (known: ${plan.tables.map((t) => t.entry).join(', ')})`);
  const selected = ordered.filter((t) => (!options.entries || options.entries.includes(t.entry)) && (options.phase === undefined || t.phase === undefined || t.phase === options.phase));
  // What an entry needs copied before it: the entries it refers to, and those its target table has foreign keys to.
  for (const [i, table] of selected.entries()) {
    const parents = new Set([
      ...Object.values(table.resolvedColumns).flatMap((c) => (c.kind === 'ref' && !c.deferred ? [c.entry] : [])),
      ...edges.filter(([child]) => child === table.entry).map(([, parent]) => parent),
    ]);
    for (const parent of parents) {
      if (parent === table.entry || selected.slice(0, i).some((t) => t.entry === parent)) continue;
      if ((await readTableState(target, plan.name, parent))?.status !== 'done') {
        throw new CopyFailedError(plan.name, table.entry, `refers to "${parent}", which is not copied yet: copy it first (copy run --table ${parent})`);
      }
    }
  }
  return selected;
}

/**
 * Copies the plan's tables from the source database into the target, in the order of their references and
 * the target's foreign keys, from one consistent source snapshot (`pg_export_snapshot`, shared by the workers),
 * then sets deferred references (the second pass: see `ref`) whose entries are both copied.
 * Each table is cut into key ranges once; workers claim ranges with `FOR UPDATE SKIP LOCKED`, and each range
 * commits its rows, id map, dead letters and checkpoint in one target transaction. Killed at any point, the next
 * run continues after the last committed range with no duplicate; a table already copied is a no-op. Locks:
 * none on the source beyond its snapshot; row locks on the tracker and inserts into the target tables.
 * Throws `CopyFailedError` for a non-unique key, a reference to a table not copied, or dead letters over a
 * table's `maxDeadLetters`.
 */
export async function runCopy(plan: CopyPlan, options: CopyRunOptions): Promise<{ tables: CopyTableReport[] }> {
  return withClient(options.targetUrl, async (target) => {
    await ensureCopyStore(target);
    const columns = await readTargetColumns(target, plan);
    const selected = await selectEntries(plan, target, options);
    const coordinator = new pg.Client({ connectionString: options.sourceUrl, application_name: 'prisma-evolve copy (snapshot)' });
    await coordinator.connect();
    const tables: CopyTableReport[] = [];
    try {
      const snapshot = await exportSourceSnapshot(coordinator);
      for (const table of selected) {
        const entryPlan = planEntry(plan, table, columns.get(`${table.schema}.${table.targetTable}`) as TargetColumns);
        const before = await readTableState(target, plan.name, table.entry);
        if (before?.status !== 'done') {
          await ensureRanges(entryPlan, coordinator, target, options.batchSize ?? plan.batchSize);
          const accounted = (t: { inserted: number; dead: number; collapsed: number }): number => t.inserted + t.dead + t.collapsed;
          const tracker = new ProgressTracker((await readTableState(target, plan.name, table.entry))?.sourceRows ?? 0, accounted(await readTotals(target, plan.name, table.entry)));
          const report = async (): Promise<void> => {
            if (!options.onProgress) return;
            const totals = await readTotals(target, plan.name, table.entry);
            options.onProgress({ entry: table.entry, ...totals, rows: tracker.update(accounted(totals)) });
          };
          // A tree (a reference to its own entry) is copied by one worker, range after range in key order, so a
          // parent in an earlier range is in the id map when its children come.
          const tree = Object.values(table.resolvedColumns).some((c) => c.kind === 'ref' && c.entry === table.entry && !c.deferred);
          const workers = tree ? 1 : Math.max(1, options.workers ?? 1);
          const history = new BatchHistoryRecorder(COPY_SCHEMA, copyHistoryStep(plan.name, table.entry));
          try {
            await Promise.all(Array.from({ length: workers }, (_, i) => worker(entryPlan, options.sourceUrl, options.targetUrl, snapshot, options, report, history, `w${i + 1}`)));
          } finally {
            await history.flush(target, true);
          }
        }
        const done = before?.status === 'done' || (await finishTable(target, plan.name, table.entry));
        const { rangesDone: _done, ranges: _ranges, ...figures } = await readTableFigures(target, plan.name, table.entry);
        tables.push({ ...figures, status: before?.status === 'done' ? 'already-complete' : done ? 'done' : options.signal?.aborted ? 'canceled' : figures.status });
        if (table.maxDeadLetters !== undefined && figures.deadLetters > table.maxDeadLetters) {
          throw new CopyFailedError(plan.name, table.entry, `${figures.deadLetters} dead letters exceed maxDeadLetters ${table.maxDeadLetters}; see ${'_evolve.copy_dead_letter'} (copy status lists the reasons)`);
        }
        if (!done) break;
      }
      await coordinator.query('commit');
      // The second pass: deferred references of every entry of the plan whose referenced entry is copied by now.
      for (const table of plan.tables) await resolveDeferred(target, planEntry(plan, table, columns.get(`${table.schema}.${table.targetTable}`) as TargetColumns), options.signal);
    } finally {
      await coordinator.end().catch(() => undefined);
    }
    return { tables };
  });
}
