import pg from 'pg';
import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';
import { identifierSchema } from '../sql.js';
import type { TrackingLocation } from '../tracking/data-migration-store.js';
import type { BatchSizing } from './batch-sizer.js';
import type { BatchEvent, PauseEvent, ThrottleHook } from './backfill-worker.js';
import type { ComputedValues, ComputeFunction, SourceRow } from './computed-batch-writer.js';
import type { HealthCheckOptions } from './health-check.js';
import type { HistoryOptions } from '../monitor/batch-history.js';
import type { BackfillProgress } from './progress-tracker.js';

/** Schema used when a caller names none. Stated here, never assumed silently elsewhere. */
export const DEFAULT_SCHEMA = 'public';
/** Alias of the target table inside `set`, `where` and join conditions. */
export const DEFAULT_TABLE_ALIAS = 't';
/** How long an idle worker waits before looking for claimable ranges again (ms). */
export const DEFAULT_POLL_MS = 500;

/** Options shared by `backfill` and `backfillWith`. */
export interface BackfillCommonOptions {
  /** Connection string, or a pool with room for `workers + 1` connections. */
  readonly database: string | pg.Pool;
  /** Name of the step in `DataMigration` and of its checkpoints; default derived from table and spec. */
  readonly name?: string;
  readonly description?: string;
  /** Schema of the table; default {@link DEFAULT_SCHEMA}. */
  readonly schema?: string;
  readonly table: string;
  /** Key columns to walk; default the primary key (then the narrowest NOT NULL unique key). */
  readonly key?: readonly string[];
  /** Alias of the table in SQL fragments; default {@link DEFAULT_TABLE_ALIAS}. */
  readonly alias?: string;
  /** SQL predicate true for rows that still need work; re-runs skip the rest. */
  readonly where?: string;
  /** Workers in this process; more processes may join under the same name. Default 1. */
  readonly workers?: number;
  readonly batch?: Partial<BatchSizing>;
  /** Keys per claimable range; default `DEFAULT_RANGE_ROWS`. */
  readonly rangeRows?: number;
  readonly leaseMs?: number;
  readonly lockTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  readonly maxAttempts?: number;
  /** Pause between two batches of a worker (ms). */
  readonly pauseMs?: number;
  readonly throttle?: ThrottleHook;
  /** Built-in health check (replication lag, vacuum); `false` turns it off. */
  readonly health?: HealthCheckOptions | false;
  /** Source of `total` for progress: planner estimate (default) or an exact count. */
  readonly total?: 'estimate' | 'exact';
  /**
   * Gate run after the last batch: the share of rows satisfying `satisfied` (default: `where` no longer
   * true) must reach `threshold` (default 1) or the step is marked failed with samples. `false` skips it.
   */
  readonly coverage?: { readonly threshold?: number; readonly satisfied?: string; readonly samples?: number; readonly statementTimeoutMs?: number } | false;
  /** Discard earlier checkpoints of this name and start over (also re-runs a completed step). */
  readonly restart?: boolean;
  /** Aborting finishes the batch in flight, keeps the checkpoint and resolves with status `canceled`. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BackfillProgress) => void;
  readonly onBatch?: (event: BatchEvent) => void;
  readonly onPause?: (event: PauseEvent) => void;
  readonly tracking?: Partial<TrackingLocation>;
  /** Label of this process in the claims table (default `host:pid`). */
  readonly workerLabel?: string;
  /**
   * Batch history in `_evolve.batch_history` (committed batches, waits and failures, for the dashboard),
   * written after each batch commits and flushed about once a second; `false` records nothing.
   */
  readonly history?: HistoryOptions | false;
  /** Obey `prisma-evolve pause|resume|cancel` between batches (default true). */
  readonly control?: boolean;
}

/** A table joined into a set-based backfill's UPDATE. */
export interface BackfillJoinOption {
  readonly schema?: string;
  readonly table: string;
  readonly alias: string;
  readonly on: string;
}

/** `backfill`: values as SQL expressions. */
export interface BackfillOptions extends BackfillCommonOptions {
  /** Column → SQL expression over the table's alias and the joins' aliases. */
  readonly set: Readonly<Record<string, string>>;
  readonly join?: readonly BackfillJoinOption[];
  readonly where: string;
}

/** `backfillWith`: values computed in TypeScript. */
export interface BackfillWithOptions<Row extends SourceRow = SourceRow, Out extends ComputedValues = ComputedValues>
  extends BackfillCommonOptions {
  /** Columns read and handed to `compute` (the key columns are always included). */
  readonly select: readonly string[];
  /** Columns `compute` returns values for. */
  readonly columns: readonly string[];
  readonly compute: ComputeFunction<Row, Out>;
}

const identifier = identifierSchema;
const positiveInt = z.number().int().positive();
const sqlFragment = z.string().trim().min(1, 'must be a non-empty SQL fragment');

const commonShape = {
  database: z.union([z.string().min(1), z.instanceof(pg.Pool)]),
  // A tracking name (DataMigration.name), not a SQL identifier: any length.
  name: z.string().min(1, 'must not be empty').optional(),
  description: z.string().optional(),
  schema: identifier.optional(),
  table: identifier,
  key: z.array(identifier).min(1).optional(),
  alias: identifier.optional(),
  where: sqlFragment.optional(),
  workers: positiveInt.max(64).optional(),
  batch: z
    .object({ initial: positiveInt.optional(), min: positiveInt.optional(), max: positiveInt.optional(), targetMs: z.number().positive().optional() })
    .strict()
    .optional(),
  rangeRows: positiveInt.optional(),
  leaseMs: positiveInt.optional(),
  lockTimeoutMs: positiveInt.optional(),
  statementTimeoutMs: positiveInt.optional(),
  maxAttempts: positiveInt.max(100).optional(),
  pauseMs: z.number().nonnegative().optional(),
  throttle: z.custom<ThrottleHook>((value) => typeof value === 'function', 'must be a function').optional(),
  health: z
    .union([
      z.literal(false),
      z
        .object({
          maxReplicationLagMs: z.number().positive().optional(),
          pauseOnVacuum: z.union([z.literal(false), z.literal('autovacuum'), z.literal('any')]).optional(),
          intervalMs: z.number().nonnegative().optional(),
          pauseMs: z.number().positive().optional(),
        })
        .strict(),
    ])
    .optional(),
  total: z.enum(['estimate', 'exact']).optional(),
  coverage: z
    .union([
      z.literal(false),
      z
        .object({
          threshold: z.number().gt(0).lte(1).optional(),
          satisfied: sqlFragment.optional(),
          samples: z.number().int().nonnegative().optional(),
          statementTimeoutMs: z.number().int().nonnegative().optional(),
        })
        .strict(),
    ])
    .optional(),
  restart: z.boolean().optional(),
  signal: z.instanceof(AbortSignal).optional(),
  onProgress: z.custom<(p: BackfillProgress) => void>((value) => typeof value === 'function', 'must be a function').optional(),
  onBatch: z.custom<(e: BatchEvent) => void>((value) => typeof value === 'function', 'must be a function').optional(),
  onPause: z.custom<(e: PauseEvent) => void>((value) => typeof value === 'function', 'must be a function').optional(),
  tracking: z.object({ schema: identifier.optional(), table: identifier.optional(), stateSchema: identifier.optional() }).strict().optional(),
  workerLabel: z.string().min(1).optional(),
  history: z
    .union([
      z.literal(false),
      z
        .object({ keep: positiveInt.optional(), maxAgeDays: z.number().positive().optional(), flushMs: z.number().nonnegative().optional(), flushRows: positiveInt.optional() })
        .strict(),
    ])
    .optional(),
  control: z.boolean().optional(),
};

/** zod schema of `backfill`'s options (functions and pools checked by type only). */
export const backfillOptionsSchema = z
  .object({
    ...commonShape,
    where: sqlFragment,
    set: z.record(identifier, sqlFragment).refine((set) => Object.keys(set).length > 0, 'must name at least one column'),
    join: z.array(z.object({ schema: identifier.optional(), table: identifier, alias: identifier, on: sqlFragment }).strict()).optional(),
  })
  .strict();

/** zod schema of `backfillWith`'s options. */
export const backfillWithOptionsSchema = z
  .object({
    ...commonShape,
    select: z.array(identifier),
    columns: z.array(identifier).min(1, 'must name at least one column'),
    compute: z.custom<ComputeFunction>((value) => typeof value === 'function', 'must be a function'),
  })
  .strict();

/**
 * Validates options with `schema`; the first problem becomes an `InvalidArgumentError` naming the option's
 * path (e.g. `batch.max`). Pure.
 */
export function parseOptions<T>(schema: z.ZodType<T>, options: unknown): T {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'options';
  throw new InvalidArgumentError(path, issue?.message ?? 'invalid backfill options');
}
