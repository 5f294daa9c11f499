import type pg from 'pg';
import { BackfillBatchFailedError } from '../errors.js';
import { isRetryable, retryDelayMs, sleep, sqlStateOf, type RetryPolicy } from '../db/retry-policy.js';
import type { DataMigrationStore } from '../tracking/data-migration-store.js';
import { ClaimLostSignal, type BatchTimeouts } from './batch-transaction.js';
import { BatchSizer, type BatchSizing } from './batch-sizer.js';
import type { BatchOutcome, BatchWriter, CheckpointWriter } from './batch-writer.js';
import { checkDatabaseHealth, DEFAULT_HEALTH_INTERVAL_MS, DEFAULT_HEALTH_PAUSE_MS, type HealthCheckOptions } from './health-check.js';
import type { KeyText } from './keyset-sql.js';
import type { BatchHistoryRecorder, HistoryEntry, PauseReason } from '../monitor/batch-history.js';
import { DEFAULT_CONTROL_POLL_MS, type StepControlReader } from '../monitor/step-control.js';
import { readWorkerIdentity, type ClaimedRange, type RangeClaims, type WorkerIdentity } from './range-claims.js';

/** One committed batch, as reported to `onBatch`. */
export interface BatchEvent {
  readonly worker: number;
  readonly rangeNo: number;
  /** Batch size asked for. */
  readonly size: number;
  readonly scanned: number;
  readonly updated: number;
  readonly skipped: number;
  readonly durationMs: number;
  /** Attempts the batch needed (1 when the first try committed). */
  readonly attempts: number;
  /** Size the sizer chose for the next batch. */
  readonly nextSize: number;
}

/** A worker waiting before its next batch (throttle hook or health check). */
export interface PauseEvent {
  readonly worker: number;
  readonly reason: string;
  readonly ms: number;
}

/** Asked before every batch; a positive number of milliseconds makes the worker wait that long first. */
export type ThrottleHook = (info: { readonly worker: number; readonly batches: number }) => number | void | Promise<number | void>;

/** Everything a worker needs; shared by all workers of one run. */
export interface WorkerSettings {
  readonly migration: string;
  readonly table: { readonly qualified: string; readonly oid: number };
  readonly writer: BatchWriter;
  readonly claims: RangeClaims;
  readonly store: DataMigrationStore;
  readonly sizing: BatchSizing;
  readonly timeouts: BatchTimeouts;
  readonly retry: RetryPolicy;
  readonly pauseMs: number;
  readonly pollMs: number;
  readonly throttle: ThrottleHook | undefined;
  readonly health: HealthCheckOptions | false;
  readonly signal: AbortSignal;
  readonly label: string;
  readonly onBatch: ((event: BatchEvent) => void) | undefined;
  readonly onPause: ((event: PauseEvent) => void) | undefined;
  /** Called after each commit with the global `processedRecords`. */
  readonly onCommitted: (processed: number) => void;
  /** The operator's pause/cancel flag, read between batches; `undefined` ignores it. */
  readonly control: StepControlReader | undefined;
  /** Where committed batches, waits and failures are recorded; `undefined` records nothing. */
  readonly history: BatchHistoryRecorder | undefined;
  /** Called when the operator cancels the step: stops every worker of the run (they keep their checkpoints). */
  readonly onCancelRequested: () => void;
}

/** What one worker did. */
export interface WorkerStats {
  batches: number;
  scanned: number;
  updated: number;
  skipped: number;
  retries: number;
  ranges: number;
}

/**
 * Runs one worker on its own dedicated connection until every range is done, the signal aborts (it
 * finishes the batch in flight, keeps its checkpoint and hands its range back) or a batch fails closed
 * (after `retry.maxAttempts` tries on lock timeouts, statement timeouts, deadlocks and serialization
 * failures, each shrinking the batch; any other error fails at once). A failed worker hands its range back
 * with the checkpoint of its last committed batch and throws `BackfillBatchFailedError`.
 * Between batches (never inside one) it obeys the operator's control flag: paused, it hands its range back
 * (checkpoint kept) and waits before claiming the next one, with no transaction open, no lock and no range
 * held (so no lease lapses while it waits); cancelled, it stops as on an aborted signal. Batches, waits and
 * failures go to the step's history after their transaction ended.
 */
export async function runBackfillWorker(client: pg.ClientBase, index: number, settings: WorkerSettings): Promise<WorkerStats> {
  const identity = await readWorkerIdentity(client, `${settings.label}#${index}`);
  const sizer = new BatchSizer(settings.sizing);
  const stats: WorkerStats = { batches: 0, scanned: 0, updated: 0, skipped: 0, retries: 0, ranges: 0 };
  let lastHealthCheck = Number.NEGATIVE_INFINITY;
  const record = (entry: HistoryEntry): Promise<void> => settings.history?.record(client, entry) ?? Promise.resolve();
  const pause = async (reason: PauseReason, detail: string, ms: number): Promise<void> => {
    settings.onPause?.({ worker: index, reason: detail, ms });
    const startedAt = new Date();
    await sleep(ms, settings.signal);
    await record({ kind: 'pause', worker: identity.label, startedAt, durationMs: Date.now() - startedAt.getTime(), reason, detail });
  };
  const obeyControl = async (): Promise<void> => {
    if (!settings.control) return;
    let startedAt: Date | undefined;
    while (!settings.signal.aborted) {
      const state = await settings.control.read(client);
      if (state === 'cancel') settings.onCancelRequested();
      if (state !== 'pause') break;
      if (!startedAt) {
        startedAt = new Date();
        settings.onPause?.({ worker: index, reason: 'paused by an operator', ms: DEFAULT_CONTROL_POLL_MS });
      }
      await sleep(DEFAULT_CONTROL_POLL_MS, settings.signal);
    }
    if (startedAt) {
      await record({ kind: 'pause', worker: identity.label, startedAt, durationMs: Date.now() - startedAt.getTime(), reason: 'operator', detail: 'paused by an operator' });
    }
  };

  const waitUntilClear = async (): Promise<void> => {
    const throttled = settings.throttle ? await settings.throttle({ worker: index, batches: stats.batches }) : undefined;
    if (typeof throttled === 'number' && throttled > 0) await pause('throttle', 'throttle hook', throttled);
    if (settings.health === false) return;
    const interval = settings.health.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
    while (!settings.signal.aborted && performance.now() - lastHealthCheck >= interval) {
      const status = await checkDatabaseHealth(client, settings.table.oid, settings.health);
      if (status.ok) {
        lastHealthCheck = performance.now();
        return;
      }
      await pause(status.reason.startsWith('replication lag') ? 'lag' : 'vacuum', status.reason, settings.health.pauseMs ?? DEFAULT_HEALTH_PAUSE_MS);
    }
  };

  const runRange = async (range: ClaimedRange): Promise<void> => {
    let cursor: KeyText | null = range.cursor ?? range.lo;
    for (;;) {
      const state = settings.signal.aborted || !settings.control ? 'run' : await settings.control.read(client);
      if (state === 'cancel') settings.onCancelRequested();
      // Paused: hand the range back before waiting (the wait is in the claim loop), so a pause longer than
      // the lease never lets another worker take over a range whose owner will write to it again.
      if (settings.signal.aborted || state === 'pause') {
        await settings.claims.release(client, range.rangeNo, identity);
        return;
      }
      await waitUntilClear();
      const checkpoint: CheckpointWriter = async (tx, outcome) => {
        const { owned } = await settings.claims.checkpoint(tx, range.rangeNo, identity, {
          cursor: outcome.last,
          scanned: outcome.scanned,
          updated: outcome.updated,
          done: outcome.rangeDone,
        });
        if (!owned) throw new ClaimLostSignal(range.rangeNo);
        settings.onCommitted(await settings.store.addProgress(tx, settings.migration, outcome.scanned, outcome.skipped));
      };
      const startedAt = new Date();
      const { outcome, attempts, size, durationMs, retryStates } = await runWithRetries(client, range, cursor, sizer, settings, checkpoint, identity);
      stats.batches += 1;
      stats.retries += attempts - 1;
      stats.scanned += outcome.scanned;
      stats.updated += outcome.updated;
      stats.skipped += outcome.skipped;
      const nextSize = sizer.recordSuccess(outcome.scanned, durationMs);
      settings.onBatch?.({ worker: index, rangeNo: range.rangeNo, size, ...pick(outcome), durationMs, attempts, nextSize });
      await record({ kind: 'batch', worker: identity.label, startedAt, durationMs, rows: outcome.scanned, updated: outcome.updated, size, attempts, retryStates });
      if (outcome.rangeDone) return;
      cursor = outcome.last;
      if (settings.pauseMs > 0) await sleep(settings.pauseMs, settings.signal);
    }
  };

  while (!settings.signal.aborted) {
    // Between ranges too: a paused worker claims nothing (and so holds no range while it waits).
    await obeyControl();
    if (settings.signal.aborted) break;
    const claim = await settings.claims.claim(client, identity, settings.timeouts);
    if (claim.kind === 'finished') break;
    if (claim.kind === 'wait') {
      await sleep(settings.pollMs, settings.signal);
      continue;
    }
    stats.ranges += 1;
    try {
      await runRange(claim.range);
    } catch (error) {
      if (error instanceof ClaimLostSignal) continue;
      throw error;
    }
  }
  return stats;
}

function pick(outcome: BatchOutcome): { scanned: number; updated: number; skipped: number } {
  return { scanned: outcome.scanned, updated: outcome.updated, skipped: outcome.skipped };
}

async function runWithRetries(
  client: pg.ClientBase,
  range: ClaimedRange,
  cursor: KeyText | null,
  sizer: BatchSizer,
  settings: WorkerSettings,
  checkpoint: CheckpointWriter,
  identity: WorkerIdentity,
): Promise<{ outcome: BatchOutcome; attempts: number; size: number; durationMs: number; retryStates: string[] }> {
  const retryStates: string[] = [];
  const first = new Date();
  for (let attempt = 1; ; attempt += 1) {
    const size = sizer.current;
    const started = performance.now();
    try {
      const outcome = await settings.writer.run(client, { after: cursor, upTo: range.hi, size }, settings.timeouts, checkpoint);
      return { outcome, attempts: attempt, size, durationMs: performance.now() - started, retryStates };
    } catch (error) {
      if (error instanceof ClaimLostSignal) throw error;
      if (isRetryable(error) && attempt < settings.retry.maxAttempts) {
        retryStates.push(sqlStateOf(error) ?? '?');
        if (settings.signal.aborted) {
          // Cancelled while contending: hand the range back untouched; the worker loop then stops.
          await settings.claims.release(client, range.rangeNo, identity);
          throw new ClaimLostSignal(range.rangeNo);
        }
        sizer.recordFailure();
        await sleep(retryDelayMs(attempt, settings.retry), settings.signal);
        continue;
      }
      await settings.claims.release(client, range.rangeNo, identity).catch(() => undefined);
      const detail = `${sqlStateOf(error) ?? 'error'}: ${error instanceof Error ? error.message : String(error)}`;
      await settings.history?.record(client, { kind: 'failure', worker: identity.label, startedAt: first, durationMs: Date.now() - first.getTime(), attempts: attempt, retryStates, detail });
      await settings.history?.flush(client);
      const failure = new BackfillBatchFailedError(settings.migration, settings.table.qualified, cursor, attempt, error);
      await settings.store
        .logError(client, settings.migration, {
          worker: identity.label,
          range: range.rangeNo,
          cursor,
          attempts: attempt,
          sqlState: sqlStateOf(error) ?? null,
          error: error instanceof Error ? error.message : String(error),
        })
        .catch(() => undefined);
      throw failure;
    }
  }
}
