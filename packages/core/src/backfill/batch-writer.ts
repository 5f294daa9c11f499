import type pg from 'pg';
import type { BatchTimeouts } from './batch-transaction.js';
import type { KeyText } from './keyset-sql.js';

/** One batch to run: the next `size` keys after `after`, not past `upTo` (the range's end). */
export interface BatchRequest {
  readonly after: KeyText | null;
  readonly upTo: KeyText | null;
  readonly size: number;
}

/** What one committed batch did. */
export interface BatchOutcome {
  /** The last key of the batch (the new cursor); `after` unchanged when the batch was empty. */
  readonly last: KeyText | null;
  /** Keys the batch walked over. */
  readonly scanned: number;
  /** Rows it wrote. */
  readonly updated: number;
  /** Rows that needed work but were left alone (`compute` returned null for them). */
  readonly skipped: number;
  /** True when the batch reached the end of its range. */
  readonly rangeDone: boolean;
}

/**
 * Records the outcome inside the batch's transaction (checkpoint + progress). Throws `ClaimLostSignal`
 * when the worker no longer owns its range, which rolls the batch back.
 */
export type CheckpointWriter = (tx: pg.ClientBase, outcome: BatchOutcome) => Promise<void>;

/**
 * A way of doing one batch of a backfill: set-based SQL (`SqlBatchWriter`) or values computed in
 * TypeScript (`ComputedBatchWriter`). Each `run` is one short transaction (plus, for computed values, one
 * read before it) that writes the batch and its checkpoint together: either both commit or neither does.
 */
export interface BatchWriter {
  run(client: pg.ClientBase, request: BatchRequest, timeouts: BatchTimeouts, checkpoint: CheckpointWriter): Promise<BatchOutcome>;
  /** Checks the statements against the catalog (EXPLAIN, nothing executed); errors name the option at fault. */
  validate(client: pg.ClientBase, timeouts: BatchTimeouts): Promise<void>;
}
