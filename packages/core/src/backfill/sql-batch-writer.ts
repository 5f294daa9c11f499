import type pg from 'pg';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent } from '../sql.js';
import { inBatchTransaction, type BatchTimeouts } from './batch-transaction.js';
import type { BatchOutcome, BatchRequest, BatchWriter, CheckpointWriter } from './batch-writer.js';
import { probeBatchEnd } from './batch-probe.js';
import { keyRangePredicate, type KeyColumn } from './keyset-sql.js';

/** Another table joined into the UPDATE (`UPDATE … FROM other AS alias WHERE on`). */
export interface BackfillJoin {
  readonly schema: string;
  readonly table: string;
  readonly alias: string;
  /** Join condition in SQL; may reference the target through its alias and this table through `alias`. */
  readonly on: string;
}

/** The SQL pieces of a set-based backfill, already validated against the catalog. */
export interface SqlBatchSpec {
  /** Quoted `"schema"."table"`. */
  readonly table: string;
  readonly alias: string;
  readonly key: readonly KeyColumn[];
  /** Column → SQL expression. */
  readonly set: ReadonlyMap<string, string>;
  readonly joins: readonly (BackfillJoin & { readonly qualified: string })[];
  /** The "still needs work" predicate. */
  readonly where: string;
}

/**
 * Set-based batches: per batch, one index-only probe finds the batch's last key (`size` keys after the
 * cursor), then one `UPDATE … WHERE key in (cursor, last] AND (where)` writes every row of it that still
 * needs work, then the checkpoint; all in one short transaction. Row locks are held only for that
 * transaction. Under READ COMMITTED a row a concurrent writer changed meanwhile is re-checked against
 * `where` and recomputed from its newest version, so no concurrent update is lost.
 */
export class SqlBatchWriter implements BatchWriter {
  constructor(private readonly spec: SqlBatchSpec) {}

  async run(client: pg.ClientBase, request: BatchRequest, timeouts: BatchTimeouts, checkpoint: CheckpointWriter): Promise<BatchOutcome> {
    const { key, alias } = this.spec;
    return inBatchTransaction(client, timeouts, async () => {
      const probe = await probeBatchEnd(client, this.spec.table, key, request);
      if (!probe) {
        const empty: BatchOutcome = { last: request.after, scanned: 0, updated: 0, skipped: 0, rangeDone: true };
        await checkpoint(client, empty);
        return empty;
      }
      const { last, count: scanned } = probe;
      const params: unknown[] = [];
      const batchRange = keyRangePredicate(alias, key, request.after, last, params);
      const result = await client.query(this.updateSql(batchRange), params);
      const outcome: BatchOutcome = { last, scanned, updated: result.rowCount ?? 0, skipped: 0, rangeDone: scanned < request.size };
      await checkpoint(client, outcome);
      return outcome;
    });
  }

  async validate(client: pg.ClientBase, timeouts: BatchTimeouts): Promise<void> {
    try {
      await inBatchTransaction(client, timeouts, () => client.query(`explain ${this.updateSql('false')}`));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidArgumentError('set/where/join', `the backfill update of ${this.spec.table} does not compile: ${reason}`);
    }
  }

  private updateSql(keyPredicate: string): string {
    const { alias } = this.spec;
    const assignments = [...this.spec.set].map(([column, expression]) => `${quoteIdent(column)} = (${expression})`);
    const from = this.spec.joins.map((join) => `${join.qualified} as ${quoteIdent(join.alias)}`);
    const conditions = [keyPredicate, ...this.spec.joins.map((join) => `(${join.on})`), `(${this.spec.where})`];
    return (
      `update ${this.spec.table} as ${quoteIdent(alias)} set ${assignments.join(', ')}` +
      (from.length > 0 ? ` from ${from.join(', ')}` : '') +
      ` where ${conditions.join(' and ')}`
    );
  }
}
