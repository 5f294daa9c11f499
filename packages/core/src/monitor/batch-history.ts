import type pg from 'pg';
import { relationExists } from '../db/table-catalog.js';
import { quoteIdent, quoteQualified } from '../sql.js';

/** Name of the batch history table in the state schema (`_evolve.batch_history`). */
export const BATCH_HISTORY_TABLE = 'batch_history';
/** Entries kept per step: older ones are pruned when the recorder flushes. */
export const DEFAULT_HISTORY_KEEP = 10_000;
/** Entries older than this many days are pruned (all steps) when a step finishes. */
export const DEFAULT_HISTORY_MAX_AGE_DAYS = 30;
/** The recorder writes at least this often while batches commit (ms)… */
export const DEFAULT_HISTORY_FLUSH_MS = 1_000;
/** …or as soon as this many entries are buffered. */
export const DEFAULT_HISTORY_FLUSH_ROWS = 100;

/** `lock_timeout` of the history's writes (ms): a lock held on the table costs a worker this much at most per write. */
export const HISTORY_LOCK_TIMEOUT_MS = 200;
/** `statement_timeout` of the history's writes (ms). */
export const HISTORY_STATEMENT_TIMEOUT_MS = 2_000;

/** What recording the history cost so far, and what it failed to write. */
export interface HistoryStats {
  /** Entries written. */
  readonly entries: number;
  /** INSERTs made. */
  readonly flushes: number;
  /** Milliseconds spent writing and pruning (failed attempts included). */
  readonly writeMs: number;
  /** Writes that failed (lock or statement timeout, missing table, …); their entries were dropped. */
  readonly failures: number;
  /** Entries dropped by those failures. */
  readonly dropped: number;
  /** The last failure's message, or null. */
  readonly lastError: string | null;
}

/** Why a worker waited instead of running its next batch. */
export type PauseReason = 'operator' | 'lag' | 'vacuum' | 'throttle';

/** One entry of the history: a committed batch, a wait, or a batch that failed closed. */
export type HistoryEntry =
  | {
      readonly kind: 'batch';
      readonly worker: string;
      readonly startedAt: Date;
      readonly durationMs: number;
      /** Keys walked (the batch's rows). */
      readonly rows: number;
      readonly updated: number;
      readonly size: number;
      readonly attempts: number;
      /** SQLSTATE of each retried attempt, in order (empty when the first try committed). */
      readonly retryStates: readonly string[];
    }
  | { readonly kind: 'pause'; readonly worker: string; readonly startedAt: Date; readonly durationMs: number; readonly reason: PauseReason; readonly detail: string }
  | { readonly kind: 'failure'; readonly worker: string; readonly startedAt: Date; readonly durationMs: number; readonly attempts: number; readonly retryStates: readonly string[]; readonly detail: string };

/** How a step's history is kept; `false` in a backfill's options records nothing. */
export interface HistoryOptions {
  /** Entries kept per step (default {@link DEFAULT_HISTORY_KEEP}). */
  readonly keep?: number;
  /** Entries older than this many days (fractions allowed) are pruned when a step ends (default {@link DEFAULT_HISTORY_MAX_AGE_DAYS}). */
  readonly maxAgeDays?: number;
  readonly flushMs?: number;
  readonly flushRows?: number;
}

/** DDL of the history table and its index, for `DataMigrationStore.ensure`. Idempotent (`IF NOT EXISTS`). */
export function batchHistoryDdl(stateSchema: string): string[] {
  const table = quoteQualified(stateSchema, BATCH_HISTORY_TABLE);
  return [
    `create table if not exists ${table} (
       id bigint generated always as identity primary key,
       step text not null,
       kind text not null check (kind in ('batch', 'pause', 'failure')),
       worker text not null,
       started_at timestamptz not null,
       duration_ms real not null,
       rows int not null default 0,
       updated int not null default 0,
       batch_size int,
       attempts int not null default 1,
       retry_states text[] not null default '{}',
       reason text,
       detail text)`,
    `create index if not exists ${quoteIdent(`${BATCH_HISTORY_TABLE}_step_idx`)} on ${table} (step, id)`,
  ];
}

const COLUMNS = ['step', 'kind', 'worker', 'started_at', 'duration_ms', 'rows', 'updated', 'batch_size', 'attempts', 'retry_states', 'reason', 'detail'] as const;
const TYPES = ['text', 'text', 'text', 'timestamptz', 'real', 'int', 'int', 'int', 'int', 'text', 'text', 'text'] as const;

/**
 * Buffers the history entries of one step in memory and writes them with one multi-row INSERT (arrays
 * through `unnest`, a fixed number of parameters) every `flushMs` or `flushRows`, and on {@link flush}.
 * Workers hand it their own connection between batches, after their batch committed: the write is never
 * part of a batch's transaction and holds no lock but the insert's. Each flush also prunes the step to its
 * newest `keep` entries (an index range delete). Each write is one short transaction under `SET LOCAL
 * lock_timeout` ({@link HISTORY_LOCK_TIMEOUT_MS}) and `statement_timeout` ({@link HISTORY_STATEMENT_TIMEOUT_MS}),
 * so a lock held on the table delays a worker by that much at most. Best-effort by design: a failed write
 * is rolled back, drops its entries, is counted in `stats` (`failures`, `dropped`, `lastError`) and
 * reported through `onError`, never failing the batch or the step. Shared by all workers of a run.
 */
export class BatchHistoryRecorder {
  /** Entries written, INSERTs made, milliseconds spent writing and pruning so far (the history's whole cost to the workers), and the writes that failed. */
  readonly stats: { -readonly [K in keyof HistoryStats]: HistoryStats[K] } = { entries: 0, flushes: 0, writeMs: 0, failures: 0, dropped: 0, lastError: null };
  private buffer: HistoryEntry[] = [];
  private lastFlush = performance.now();
  private readonly table: string;
  private readonly options: Required<HistoryOptions>;

  constructor(
    stateSchema: string,
    readonly step: string,
    options: HistoryOptions = {},
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.table = quoteQualified(stateSchema, BATCH_HISTORY_TABLE);
    this.options = {
      keep: options.keep ?? DEFAULT_HISTORY_KEEP,
      maxAgeDays: options.maxAgeDays ?? DEFAULT_HISTORY_MAX_AGE_DAYS,
      flushMs: options.flushMs ?? DEFAULT_HISTORY_FLUSH_MS,
      flushRows: options.flushRows ?? DEFAULT_HISTORY_FLUSH_ROWS,
    };
  }

  /** Buffers `entry`; when a flush is due, writes the buffer on `client` (which must have no transaction open). */
  async record(client: pg.ClientBase, entry: HistoryEntry): Promise<void> {
    this.buffer.push(entry);
    if (this.buffer.length >= this.options.flushRows || performance.now() - this.lastFlush >= this.options.flushMs) await this.flush(client);
  }

  /**
   * Writes every buffered entry in one INSERT, then keeps the newest `keep` entries of the step. With
   * `finished`, also prunes entries of every step older than `maxAgeDays`. Never throws.
   */
  async flush(client: pg.ClientBase, finished = false): Promise<void> {
    const entries = this.buffer;
    this.buffer = [];
    this.lastFlush = performance.now();
    const started = performance.now();
    if (entries.length === 0 && !finished) return;
    let open = false;
    try {
      await client.query(`begin; set local lock_timeout = ${HISTORY_LOCK_TIMEOUT_MS}; set local statement_timeout = ${HISTORY_STATEMENT_TIMEOUT_MS}`);
      open = true;
      if (entries.length > 0) {
        const columns = COLUMNS.map((name) => quoteIdent(name)).join(', ');
        const arrays = TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
        // Retry states travel as one comma-joined text per entry: unnest cannot take an array of arrays of varying length.
        const values = COLUMNS.map((name) => (name === 'retry_states' ? `coalesce(string_to_array(x.retry_states, ','), '{}')` : `x.${quoteIdent(name)}`)).join(', ');
        await client.query(`insert into ${this.table} (${columns}) select ${values} from unnest(${arrays}) as x(${columns})`, columnArrays(this.step, entries));
        await client.query(
          `delete from ${this.table} where step = $1 and id <= (select id from ${this.table} where step = $1 order by id desc offset $2 limit 1)`,
          [this.step, this.options.keep],
        );
      }
      // interval * float: `maxAgeDays` may be a fraction (make_interval(days => …) takes integers only).
      if (finished) await client.query(`delete from ${this.table} where started_at < now() - interval '1 day' * $1::float8`, [this.options.maxAgeDays]);
      await client.query('commit');
      open = false;
      this.stats.entries += entries.length;
      this.stats.flushes += entries.length > 0 ? 1 : 0;
    } catch (error) {
      if (open) await client.query('rollback').catch(() => undefined);
      this.stats.failures += 1;
      this.stats.dropped += entries.length;
      this.stats.lastError = error instanceof Error ? error.message : String(error);
      try {
        this.onError(error);
      } catch {
        // A reporting callback must not turn a best-effort write into a failed batch.
      }
    } finally {
      this.stats.writeMs += performance.now() - started;
    }
  }
}

function columnArrays(step: string, entries: readonly HistoryEntry[]): unknown[][] {
  const get = (entry: HistoryEntry): unknown[] => {
    const batch = entry.kind === 'batch' ? entry : undefined;
    const states = entry.kind === 'pause' ? [] : entry.retryStates;
    return [
      step,
      entry.kind,
      entry.worker,
      entry.startedAt.toISOString(),
      Math.round(entry.durationMs * 100) / 100,
      batch?.rows ?? 0,
      batch?.updated ?? 0,
      batch?.size ?? null,
      entry.kind === 'pause' ? 1 : entry.attempts,
      states.join(','),
      entry.kind === 'pause' ? entry.reason : null,
      entry.kind === 'batch' ? null : entry.detail,
    ];
  };
  const rows = entries.map(get);
  return COLUMNS.map((_, i) => rows.map((row) => row[i]));
}

/** One stored history entry, as `readBatchHistory` returns it (and the dashboard's API serves it). */
export interface StoredHistoryEntry {
  readonly id: number;
  readonly kind: HistoryEntry['kind'];
  readonly worker: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly rows: number;
  readonly updated: number;
  readonly batchSize: number | null;
  readonly attempts: number;
  readonly retryStates: readonly string[];
  readonly reason: string | null;
  readonly detail: string | null;
}

/**
 * The history of step `step` (its units' too, `step/…`), oldest first: at most `limit` entries (default
 * 2,000, the newest ones) with an id above `afterId` (for incremental polling). Read-only; an absent table
 * reads as empty.
 */
export async function readBatchHistory(
  client: pg.ClientBase,
  stateSchema: string,
  step: string,
  options: { afterId?: number; limit?: number } = {},
): Promise<StoredHistoryEntry[]> {
  const table = quoteQualified(stateSchema, BATCH_HISTORY_TABLE);
  if (!(await relationExists(client, table))) return [];
  const { rows } = await client.query<StoredHistoryEntry>(
    `select * from (
       select id::float8 as id, kind, worker, to_char(started_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "startedAt",
              duration_ms::float8 as "durationMs", rows, updated, batch_size as "batchSize", attempts,
              retry_states as "retryStates", reason, detail
       from ${table} where (step = $1 or left(step, length($1) + 1) = $1 || '/') and id > $2
       order by id desc limit $3) newest order by id`,
    [step, options.afterId ?? 0, options.limit ?? 2_000],
  );
  return rows;
}
