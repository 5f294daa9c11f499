import { InvalidArgumentError } from '../errors.js';

/** First batch size: small, so the first batch on an unknown table is cheap whatever the row width. */
export const DEFAULT_INITIAL_BATCH_SIZE = 1_000;
/** Smallest batch the sizer shrinks to. */
export const DEFAULT_MIN_BATCH_SIZE = 100;
/** Largest batch the sizer grows to. */
export const DEFAULT_MAX_BATCH_SIZE = 50_000;
/** The batch duration the sizer steers toward: short enough that a blocked writer waits at most this long. */
export const DEFAULT_TARGET_BATCH_MS = 200;
/** Largest growth factor between two batches (never more than ×1.2 per step). */
export const MAX_GROWTH = 1.2;
/** Smallest factor a slow batch can apply in one step (a timeout halves the size instead). */
export const MIN_SHRINK = 0.5;

/** Bounds and target of the adaptive batch size. */
export interface BatchSizing {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  readonly targetMs: number;
}

/** The defaults above as one object. */
export const DEFAULT_BATCH_SIZING: BatchSizing = {
  initial: DEFAULT_INITIAL_BATCH_SIZE,
  min: DEFAULT_MIN_BATCH_SIZE,
  max: DEFAULT_MAX_BATCH_SIZE,
  targetMs: DEFAULT_TARGET_BATCH_MS,
};

/** Checks sizing bounds; throws `InvalidArgumentError` naming the bad field. Pure. */
export function validateBatchSizing(sizing: BatchSizing): BatchSizing {
  const positiveInteger = (value: number): boolean => Number.isInteger(value) && value > 0;
  if (!positiveInteger(sizing.min)) throw new InvalidArgumentError('batch.min', `must be a positive integer, got ${sizing.min}`);
  if (!positiveInteger(sizing.max) || sizing.max < sizing.min) {
    throw new InvalidArgumentError('batch.max', `must be an integer >= batch.min (${sizing.min}), got ${sizing.max}`);
  }
  if (!positiveInteger(sizing.initial) || sizing.initial < sizing.min || sizing.initial > sizing.max) {
    throw new InvalidArgumentError('batch.initial', `must be an integer within [${sizing.min}, ${sizing.max}], got ${sizing.initial}`);
  }
  if (!(sizing.targetMs > 0)) throw new InvalidArgumentError('batch.targetMs', `must be > 0, got ${sizing.targetMs}`);
  return sizing;
}

/**
 * Adaptive batch size (one per worker): after each batch it scales the size by target/actual duration,
 * growing by at most ×1.2 and shrinking by at most ×0.5 per step; a timed-out or lock-failed batch halves
 * it. Always within [min, max]. Pure state machine, no I/O.
 */
export class BatchSizer {
  private size: number;

  constructor(private readonly sizing: BatchSizing = DEFAULT_BATCH_SIZING) {
    validateBatchSizing(sizing);
    this.size = sizing.initial;
  }

  /** The size to use for the next batch. */
  get current(): number {
    return this.size;
  }

  /**
   * Records a completed batch of `rows` rows that took `durationMs`. A batch that came back with fewer rows
   * than asked (the end of a range) says little about speed, so it only shrinks, never grows, the size.
   */
  recordSuccess(rows: number, durationMs: number): number {
    const ratio = this.sizing.targetMs / Math.max(durationMs, 1);
    let factor = Math.min(MAX_GROWTH, Math.max(MIN_SHRINK, ratio));
    if (rows < this.size && factor > 1) factor = 1;
    // Growth rounds down so it never exceeds ×1.2; tiny sizes that would floor back to themselves grow by one row.
    const scaled = factor > 1 ? Math.max(Math.floor(this.size * factor), this.size + 1) : Math.round(this.size * factor);
    this.size = this.clamp(scaled);
    return this.size;
  }

  /** Records a batch that hit lock_timeout/statement_timeout/deadlock: halves the size. */
  recordFailure(): number {
    this.size = this.clamp(Math.floor(this.size / 2));
    return this.size;
  }

  private clamp(value: number): number {
    return Math.min(this.sizing.max, Math.max(this.sizing.min, value));
  }
}
