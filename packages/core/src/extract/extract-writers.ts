import type pg from 'pg';
import { inBatchTransaction, queryWithTimeouts, type BatchTimeouts } from '../backfill/batch-transaction.js';
import type { BatchOutcome, BatchRequest, BatchWriter, CheckpointWriter } from '../backfill/batch-writer.js';
import type { ShapeSet } from './document-parser.js';
import { ExtractBatchReader } from './extract-batch-reader.js';
import { writeChildBatch } from './extract-child-writer.js';
import type { ExtractParent, ExtractPlan } from './extract-plan.js';

/**
 * Extraction with zod shapes and a TypeScript `map`. Per batch, in one short transaction (the backfill
 * engine's):
 * 1. Read the next `size` parents, and the `size` after them (see {@link ExtractBatchReader}: the next
 *    batch's documents are parsed while this one is written).
 * 2. Parse each document (first matching shape wins) and map its elements to child rows.
 * 3. Delete the children this extraction wrote for these parents in an earlier run (its ledger says
 *    which; rows the application wrote are left alone) and their dead letters, so a re-run never
 *    duplicates anything; skipped when the run began with nothing of this extraction recorded.
 * 4. Write the children and their ledger rows (COPY, or one `INSERT … SELECT`: see `writeChildBatch`),
 *    record invalid documents, then checkpoint. All of it commits together or not at all.
 * The source column is only read.
 */
export class ShapeExtractWriter<Element> implements BatchWriter {
  private readonly reader: ExtractBatchReader<Element>;
  /** Whether the ledger and the dead letters held nothing of this extraction when the run began (set by `validate`). */
  private nothingBefore = false;

  constructor(
    private readonly plan: ExtractPlan,
    shapes: ShapeSet<Element>,
    map: (element: Element, parent: ExtractParent) => Readonly<Record<string, unknown>>,
  ) {
    this.reader = new ExtractBatchReader(plan, shapes, map);
  }

  /** Checks `source.where` (EXPLAIN) and looks whether anything of this extraction is recorded yet. Read-only. */
  async validate(client: pg.ClientBase, timeouts: BatchTimeouts): Promise<void> {
    const { plan } = this;
    await inBatchTransaction(client, timeouts, () => client.query(`explain select 1 from ${plan.source.table} t where ${plan.source.where}`));
    const { rows } = await queryWithTimeouts<{ none: boolean }>(
      client,
      timeouts,
      `select not exists (select 1 from ${plan.owned} where migration = $1) and not exists (select 1 from ${plan.deadLetters} where migration = $1) as none`,
      [plan.migration],
    );
    this.nothingBefore = rows[0]?.none === true;
  }

  /** One batch in one transaction with its checkpoint (see the class comment); a failure rolls all of it back. */
  async run(client: pg.ClientBase, request: BatchRequest, timeouts: BatchTimeouts, checkpoint: CheckpointWriter): Promise<BatchOutcome> {
    return inBatchTransaction(client, timeouts, async () => {
      const batch = await this.reader.read(client, request);
      const inserted = await writeChildBatch(client, this.plan, batch, this.nothingBefore);
      const keys = batch.parents;
      const last = keys.length > 0 ? [keys[keys.length - 1] as string] : request.after;
      const outcome: BatchOutcome = { last, scanned: keys.length, updated: inserted, skipped: batch.dead.length, rangeDone: keys.length < request.size };
      await checkpoint(client, outcome);
      return outcome;
    });
  }
}
