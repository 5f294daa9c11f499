import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { ColumnNotFoundError, CoverageBelowThresholdError, InvalidArgumentError } from '../errors.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_RETRY_POLICY, DEFAULT_STATEMENT_TIMEOUT_MS } from '../db/retry-policy.js';
import { chooseWalkKey, readTableInfo, requireColumns, type TableInfo } from '../db/table-catalog.js';
import { DataMigrationStore, DEFAULT_TRACKING } from '../tracking/data-migration-store.js';
import {
  backfillOptionsSchema,
  backfillWithOptionsSchema,
  DEFAULT_POLL_MS,
  DEFAULT_SCHEMA,
  DEFAULT_TABLE_ALIAS,
  parseOptions,
  type BackfillCommonOptions,
  type BackfillOptions,
  type BackfillWithOptions,
} from './backfill-options.js';
import { runBackfillWorker, type WorkerStats } from './backfill-worker.js';
import type { BatchTimeouts } from './batch-transaction.js';
import { DEFAULT_BATCH_SIZING, validateBatchSizing } from './batch-sizer.js';
import type { BatchWriter } from './batch-writer.js';
import { ComputedBatchWriter, type ComputedValues, type SourceRow } from './computed-batch-writer.js';
import { DEFAULT_COVERAGE_SAMPLES, measureCoverage, type CoverageReport } from './coverage-gate.js';
import type { KeyColumn } from './keyset-sql.js';
import { ProgressTracker } from './progress-tracker.js';
import { DEFAULT_LEASE_MS, DEFAULT_RANGE_ROWS, RangeClaims } from './range-claims.js';
import { SqlBatchWriter } from './sql-batch-writer.js';
import { BatchHistoryRecorder, batchHistoryDdl, type HistoryStats } from '../monitor/batch-history.js';
import { clearStepCancel, clearStepControl, isStepControlObeyed, StepControlReader, stepControlDdl } from '../monitor/step-control.js';

/** How a backfill call ended (failures throw instead). */
export type BackfillStatus = 'completed' | 'already-completed' | 'canceled';

/** The result of `backfill`/`backfillWith`. */
export interface BackfillResult {
  readonly name: string;
  readonly status: BackfillStatus;
  /** Keys walked and rows written by this call's workers. */
  readonly scanned: number;
  readonly updated: number;
  /** Rows `compute` returned null for (also counted in `DataMigration.failedRecords`). */
  readonly skipped: number;
  readonly batches: number;
  /** Batch attempts that hit a transient conflict and were retried. */
  readonly retries: number;
  /** True when earlier checkpoints of this name were resumed. */
  readonly resumed: boolean;
  readonly durationMs: number;
  /** The gate's measurement; absent when it was skipped or the call was canceled. */
  readonly coverage?: CoverageReport;
  /** What recording the batch history cost this call (absent with `history: false`). */
  readonly history?: HistoryStats;
}

/**
 * Fills columns of a live table from SQL expressions in short keyset batches (see `backfillWith` for
 * values computed in TypeScript).
 *
 * Guarantees:
 * - **Locks**: each batch is its own transaction holding row locks on at most one batch of rows for about
 *   `batch.targetMs` (adaptive size, ×1.2 growth at most, halved on timeouts), under `lock_timeout`
 *   (default 2 s) and `statement_timeout`. Never a table lock beyond ROW EXCLUSIVE; never a long transaction.
 * - **Concurrency**: rows written concurrently are re-evaluated by PostgreSQL before they are updated
 *   (READ COMMITTED re-check), so no write of the application is lost.
 * - **Resumable and idempotent**: the checkpoint (last key of the batch) commits in the batch's
 *   transaction; after a crash or kill, calling again with the same name resumes right after the last
 *   committed batch; a completed step is a no-op (`already-completed`). Only rows matching `where` are written.
 * - **Retries**: lock timeouts, statement timeouts, deadlocks and serialization failures are retried with
 *   jittered backoff up to `maxAttempts`, then it fails closed: `DataMigration` is marked `failed` with the
 *   error in `errorLog`, and `BackfillBatchFailedError` is thrown. Nothing committed is undone.
 * - **Parallel**: `workers` in this process and any other process using the same name share key ranges
 *   through a claims table (`FOR UPDATE SKIP LOCKED`); a dead worker's range is reclaimed from its checkpoint.
 * - **Coverage gate**: afterwards the share of rows no longer matching `where` must reach the threshold
 *   (default 100 %). When it falls short, one final keyset sweep walks the whole key space again and
 *   updates the rows that still match `where` (rows the application wrote behind the cursor); if the share
 *   is still short, `CoverageBelowThresholdError` with sample keys and the step stays `failed`.
 *
 * Bad input (unknown table, column, alias or SQL that does not compile) throws before anything is written.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillResult> {
  const parsed = parseOptions(backfillOptionsSchema, options);
  return runBackfill(parsed, async (client, table, key, alias) => {
    requireColumns(table, Object.keys(parsed.set), '"set"');
    const joins = [];
    for (const join of parsed.join ?? []) {
      const joined = await readTableInfo(client, join.schema ?? table.schema, join.table);
      if (join.alias === alias) throw new InvalidArgumentError('join.alias', `"${join.alias}" is already the alias of ${table.qualified}`);
      joins.push({ schema: joined.schema, table: joined.name, alias: join.alias, on: join.on, qualified: joined.qualified });
    }
    return {
      writer: new SqlBatchWriter({ table: table.qualified, alias, key, set: new Map(Object.entries(parsed.set)), joins, where: parsed.where }),
      fingerprint: { mode: 'sql', set: parsed.set, join: joins.map(({ qualified, alias: a, on }) => ({ qualified, a, on })), where: parsed.where },
    };
  });
}

/**
 * Fills columns of a live table with values computed in TypeScript: `compute` gets each batch's rows that
 * still need work (`where`, default all rows) and returns their new values; the batch is written with one
 * `UPDATE … FROM unnest(…)` statement, never row by row.
 *
 * Guarantees are those of `backfill`, plus:
 * - No transaction is open while `compute` runs. A row changed by a concurrent writer between the read and
 *   the write is detected (`xmin`), re-read under `FOR UPDATE` and recomputed, so a stale value never
 *   overwrites a newer write.
 * - `compute` runs once per row of every committed batch: after a crash only the batch that was in flight
 *   (not committed) is computed again. `compute` throwing fails the batch at once (no retry) and the step.
 * - `null` from `compute` leaves that row unchanged and counts it in `failedRecords`.
 */
export async function backfillWith<Row extends SourceRow = SourceRow, Out extends ComputedValues = ComputedValues>(
  options: BackfillWithOptions<Row, Out>,
): Promise<BackfillResult> {
  const parsed = parseOptions(backfillWithOptionsSchema, options);
  return runBackfill(parsed, async (_client, table, key, alias) => {
    if (alias !== DEFAULT_TABLE_ALIAS) throw new InvalidArgumentError('alias', 'backfillWith always names the table "t" in "where"');
    requireColumns(table, parsed.select, '"select"');
    const columns = parsed.columns.map((name) => {
      const column = table.columns.get(name);
      if (!column) throw new ColumnNotFoundError(table.qualified, name, '"columns"');
      return { name, type: column.type };
    });
    const select = [...new Set([...key.map((column) => column.name), ...parsed.select])];
    const where = parsed.where ?? 'true';
    return {
      writer: new ComputedBatchWriter({ table: table.qualified, key, select, columns, where, compute: parsed.compute as never }),
      fingerprint: { mode: 'computed', select, columns: parsed.columns, where },
    };
  });
}

/** Builds the batch writer of a job once the table and its key are known (validating against them). */
export type WriterFactory = (
  client: pg.ClientBase,
  table: TableInfo,
  key: readonly KeyColumn[],
  alias: string,
) => Promise<{ writer: BatchWriter; fingerprint: Record<string, unknown> }>;

/**
 * The engine behind `backfill` and `backfillWith`, for other batched jobs over a table (JSON extraction):
 * validation, tracking, range claims, workers, retries, progress, cancellation and the coverage gate, with
 * the per-batch work supplied by `makeWriter`. Guarantees are those documented on `backfill`.
 */
export async function runBatchedTableJob(options: BackfillCommonOptions, makeWriter: WriterFactory): Promise<BackfillResult> {
  return runBackfill(options, makeWriter);
}

async function runBackfill(options: BackfillCommonOptions, makeWriter: WriterFactory): Promise<BackfillResult> {
  const started = performance.now();
  const workers = options.workers ?? 1;
  const ownPool = typeof options.database === 'string';
  const pool = typeof options.database === 'string' ? new pg.Pool({ connectionString: options.database, max: workers + 1 }) : options.database;
  if (!ownPool && (pool.options.max ?? 10) < workers + 1) {
    // Each worker holds a connection for the whole run, plus one for bookkeeping: fewer would deadlock.
    throw new InvalidArgumentError('database', `the pool allows ${pool.options.max} connections; ${workers} worker(s) need ${workers + 1}`);
  }
  const tracking = { ...DEFAULT_TRACKING, ...options.tracking };
  const store = new DataMigrationStore(tracking);
  const timeouts: BatchTimeouts = {
    lockMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    statementMs: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  };
  const sizing = validateBatchSizing({ ...DEFAULT_BATCH_SIZING, ...clampInitial(options.batch) });
  const admin = await pool.connect();
  try {
    const schema = options.schema ?? DEFAULT_SCHEMA;
    const alias = options.alias ?? DEFAULT_TABLE_ALIAS;
    const table = await readTableInfo(admin, schema, options.table);
    const key = chooseWalkKey(table, options.key).map((name) => ({ name, type: table.columns.get(name)?.type ?? 'text' }));
    const { writer, fingerprint } = await makeWriter(admin, table, key, alias);
    await writer.validate(admin, timeouts);
    const specHash = createHash('sha256')
      .update(JSON.stringify({ table: table.qualified, key, alias, ...fingerprint }))
      .digest('hex');
    const name = options.name ?? `backfill ${schema}.${table.name} ${specHash.slice(0, 12)}`;
    const claims = new RangeClaims(tracking.stateSchema, name, table.qualified, key, {
      rangeRows: options.rangeRows ?? DEFAULT_RANGE_ROWS,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    });
    await store.ensure(admin, [...RangeClaims.ddl(tracking.stateSchema), ...batchHistoryDdl(tracking.stateSchema), ...stepControlDdl(tracking.stateSchema)]);
    // A cancel on this very name that nothing obeys now was meant for a run that is gone (a cancel is only
    // accepted while something obeys it); one on the step this belongs to (`a/b` of `a/b/01:unit`) is not
    // touched: it may have arrived while the step did other work, and is obeyed below.
    if (!(await isStepControlObeyed(admin, tracking.stateSchema, name))) await clearStepCancel(admin, tracking.stateSchema, name);

    const previous = await store.get(admin, name);
    if (previous?.status === 'completed' && !options.restart) {
      return { ...emptyResult(name, 'already-completed', started), resumed: true };
    }
    const { resumed } = await claims.register(admin, specHash, options.restart ?? false);
    if (options.restart) await store.reset(admin, name);
    const total = await countTotal(admin, table, options.total ?? 'estimate');
    const row = await store.start(admin, name, { totalRecords: total, ...(options.description ? { description: options.description } : {}) });
    const tracker = new ProgressTracker(row.totalRecords ?? total, row.processedRecords);

    const internal = new AbortController();
    const abort = (): void => internal.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    if (options.signal?.aborted) internal.abort();
    let canceledByOperator = false;
    const stopped = (): boolean => options.signal?.aborted === true || canceledByOperator;
    let historyWarned = false;
    const history =
      options.history === false
        ? undefined
        : new BatchHistoryRecorder(tracking.stateSchema, name, options.history, (error) => {
            // Best-effort, but never silent: counted in `result.history.failures`, and said once per call.
            if (historyWarned) return;
            historyWarned = true;
            process.emitWarning(`batch history of "${name}" not written: ${error instanceof Error ? error.message : String(error)} (the step goes on; see result.history.failures)`, 'EvolveHistoryWarning');
          });
    const control = options.control === false ? undefined : new StepControlReader(tracking.stateSchema, name);
    const settings = {
      migration: name,
      table,
      writer,
      claims,
      store,
      sizing,
      timeouts,
      retry: { ...DEFAULT_RETRY_POLICY, ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}) },
      pauseMs: options.pauseMs ?? 0,
      pollMs: DEFAULT_POLL_MS,
      throttle: options.throttle,
      health: options.health ?? {},
      signal: internal.signal,
      label: options.workerLabel ?? `${hostname()}:${process.pid}`,
      onBatch: options.onBatch,
      onPause: options.onPause,
      onCommitted: (processed: number) => options.onProgress?.(tracker.update(processed)),
      control,
      history,
      onCancelRequested: () => {
        canceledByOperator = true;
        internal.abort();
      },
    };
    const runWorkers = async (): Promise<{ stats: ReturnType<typeof sumStats>; failure: PromiseRejectedResult | undefined }> => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: workers }, async (_, index) => {
          const client = await pool.connect();
          let broken: Error | undefined;
          try {
            return await runBackfillWorker(client, index, settings);
          } catch (error) {
            internal.abort(); // siblings finish their batch and stop
            broken = error instanceof Error ? error : new Error(String(error));
            throw error;
          } finally {
            client.release(broken);
          }
        }),
      );
      const stats = sumStats(outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : [])));
      return { stats, failure: outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected') };
    };
    let { stats, failure } = await runWorkers();
    let coverage: CoverageReport | undefined;
    if (!failure && !stopped()) {
      coverage = await gate(admin, options, { table, key, alias, timeouts });
      // Rows written behind the cursor (an application inserting into ranges already done) still match
      // `where`: one final keyset sweep over the whole key space updates just those, then the gate again.
      // Rows the writer skipped itself (compute said so) explain part of a shortfall; only the rest is swept for.
      const unexplained = coverage ? coverage.total - coverage.satisfied - stats.skipped : 0;
      if (coverage && !coverage.passed && options.where && unexplained > 0 && (await claims.resetForSweep(admin))) {
        const sweep = await runWorkers();
        // The sweep meets every row still failing, skipped ones included: its count replaces the first pass's.
        await store.addProgress(admin, name, 0, -stats.skipped);
        stats = sumStats([stats, sweep.stats]);
        failure = sweep.failure;
        if (!failure && !stopped()) coverage = await gate(admin, options, { table, key, alias, timeouts });
      }
    }
    options.signal?.removeEventListener('abort', abort);
    await control?.stop(admin);
    await history?.flush(admin, true);
    const base = { name, resumed, ...stats, ...(history ? { history: { ...history.stats } } : {}) };
    if (failure) {
      await store.finish(admin, name, 'failed');
      throw failure.reason;
    }
    if (stopped()) {
      if (canceledByOperator) {
        await store.logError(admin, name, { error: 'canceled by an operator (prisma-evolve cancel); checkpoints kept, run again to resume' });
        // The cancel obeyed may be this name's or the step's it belongs to: either is consumed by this stop.
        await clearStepCancel(admin, tracking.stateSchema, name, { ancestors: true });
      }
      await store.finish(admin, name, 'pending', { canceledAt: new Date().toISOString(), ...(canceledByOperator ? { canceledBy: 'operator' } : {}), ...(await claims.totals(admin)) });
      return { ...base, status: 'canceled', durationMs: performance.now() - started };
    }
    const summary = { ...(await claims.totals(admin)), ...(coverage ? { coverage: coverageSummary(coverage) } : {}) };
    if (coverage && !coverage.passed) {
      await store.logError(admin, name, { error: 'coverage below threshold', ...coverageSummary(coverage) }, 'failed');
      await store.finish(admin, name, 'failed', summary);
      throw new CoverageBelowThresholdError(name, table.qualified, { ...coverage, remaining: coverage.total - coverage.satisfied });
    }
    await store.finish(admin, name, 'completed', summary);
    // A pause or cancel of this name that arrived after the last batch (during the coverage gate) has nothing
    // left to stop. One on the enclosing step stays for the runner: it obeys it before the next data unit.
    await clearStepControl(admin, tracking.stateSchema, name);
    options.onProgress?.(tracker.snapshot());
    return { ...base, status: 'completed', durationMs: performance.now() - started, ...(coverage ? { coverage } : {}) };
  } finally {
    admin.release();
    if (ownPool) await pool.end();
  }
}

/** Keeps a caller's `min`/`max` consistent with the default `initial` when they did not set it. */
function clampInitial(batch: BackfillCommonOptions['batch']): Partial<typeof DEFAULT_BATCH_SIZING> {
  if (!batch) return {};
  const min = batch.min ?? DEFAULT_BATCH_SIZING.min;
  const max = batch.max ?? Math.max(DEFAULT_BATCH_SIZING.max, min);
  const initial = batch.initial ?? Math.min(max, Math.max(min, DEFAULT_BATCH_SIZING.initial));
  return { ...batch, min, max, initial };
}

async function countTotal(client: pg.ClientBase, table: TableInfo, mode: 'estimate' | 'exact'): Promise<number> {
  if (mode === 'estimate' && table.estimatedRows >= 0) return Math.round(table.estimatedRows);
  const { rows } = await client.query<{ n: string }>(`select count(*)::text as n from ${table.qualified}`);
  return Number(rows[0]?.n ?? 0);
}

async function gate(
  client: pg.ClientBase,
  options: BackfillCommonOptions,
  context: { table: TableInfo; key: readonly KeyColumn[]; alias: string; timeouts: BatchTimeouts },
): Promise<CoverageReport | undefined> {
  if (options.coverage === false) return undefined;
  const satisfied = options.coverage?.satisfied ?? (options.where ? `not coalesce((${options.where}), false)` : undefined);
  if (!satisfied) return undefined;
  return measureCoverage(client, { lockMs: context.timeouts.lockMs, statementMs: options.coverage?.statementTimeoutMs ?? 0 }, {
    table: context.table.qualified,
    alias: context.alias,
    key: context.key,
    satisfied,
    threshold: options.coverage?.threshold ?? 1,
    samples: options.coverage?.samples ?? DEFAULT_COVERAGE_SAMPLES,
  });
}

function coverageSummary(report: CoverageReport): Record<string, unknown> {
  return { total: report.total, satisfied: report.satisfied, coverage: report.coverage, threshold: report.threshold, samples: report.samples };
}

function sumStats(all: readonly Omit<WorkerStats, 'ranges'>[]): Omit<WorkerStats, 'ranges'> {
  const sum = (pick: (stats: Omit<WorkerStats, 'ranges'>) => number): number => all.reduce((acc, stats) => acc + pick(stats), 0);
  return {
    batches: sum((s) => s.batches),
    scanned: sum((s) => s.scanned),
    updated: sum((s) => s.updated),
    skipped: sum((s) => s.skipped),
    retries: sum((s) => s.retries),
  };
}

function emptyResult(name: string, status: BackfillStatus, started: number): BackfillResult {
  return { name, status, scanned: 0, updated: 0, skipped: 0, batches: 0, retries: 0, resumed: false, durationMs: performance.now() - started };
}
