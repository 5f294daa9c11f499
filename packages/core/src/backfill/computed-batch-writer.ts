import { createRequire } from 'node:module';
import type pg from 'pg';
import { InvalidArgumentError } from '../errors.js';
import { RESERVED_PREFIX } from '../naming.js';
import { quoteIdent } from '../sql.js';
import { inBatchTransaction, queryWithTimeouts, type BatchTimeouts } from './batch-transaction.js';
import type { BatchOutcome, BatchRequest, BatchWriter, CheckpointWriter } from './batch-writer.js';
import { keyOrder, keyRangePredicate, keyRow, type KeyColumn, type KeyText } from './keyset-sql.js';

const pgUtils = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

/** A row handed to `compute`: the selected columns (and the key columns) as node-postgres returns them. */
export type SourceRow = Readonly<Record<string, unknown>>;

/** Values for the written columns of one row, or `null` to leave the row alone (counted as failed). */
export type ComputedValues = Readonly<Record<string, unknown>> | null;

/** Computes the new values of a batch; `result[i]` belongs to `rows[i]`. Called once per row per committed batch. */
export type ComputeFunction<Row extends SourceRow = SourceRow, Out extends ComputedValues = ComputedValues> = (
  rows: readonly Row[],
) => readonly Out[] | Promise<readonly Out[]>;

/** The pieces of a computed backfill, already validated against the catalog. */
export interface ComputedBatchSpec {
  readonly table: string;
  readonly key: readonly KeyColumn[];
  /** Columns read for `compute` (key columns included). */
  readonly select: readonly string[];
  /** Columns written, with their types (cast targets). */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** The "still needs work" predicate on alias `t`. */
  readonly where: string;
  readonly compute: ComputeFunction;
}

const KEY = (i: number): string => `${RESERVED_PREFIX}k${i}`;
const XMIN = `${RESERVED_PREFIX}xmin`;
const NEEDS = `${RESERVED_PREFIX}needs`;
const VALUE = (i: number): string => `${RESERVED_PREFIX}c${i}`;

interface ReadRow {
  readonly key: KeyText;
  readonly xmin: string;
  readonly needs: boolean;
  readonly row: SourceRow;
}

/**
 * Batches whose values are computed in TypeScript. Per batch: one read of `size` rows after the cursor
 * (no transaction held while `compute` runs), then one transaction that writes every computed row with a
 * single `UPDATE … FROM unnest(…)` and the checkpoint. The update only lands on rows whose `xmin` is still
 * the one that was read, so a row a concurrent writer changed in between is never overwritten with a stale
 * value: such rows are re-read under `FOR UPDATE` (a few row locks for one more `compute` call) and written
 * from their new version. `compute` therefore runs once per row of every committed batch; only the one
 * batch in flight when a process dies, and rows a writer changed mid-batch, are computed again.
 */
export class ComputedBatchWriter implements BatchWriter {
  constructor(private readonly spec: ComputedBatchSpec) {}

  async run(client: pg.ClientBase, request: BatchRequest, timeouts: BatchTimeouts, checkpoint: CheckpointWriter): Promise<BatchOutcome> {
    const params: unknown[] = [];
    const range = keyRangePredicate('t', this.spec.key, request.after, request.upTo, params);
    params.push(request.size);
    const { rows } = await queryWithTimeouts(
      client,
      timeouts,
      `${this.selectSql()} where ${range} order by ${keyOrder('t', this.spec.key, 'asc')} limit $${params.length}`,
      params,
    );
    const read = rows.map((row) => this.toReadRow(row));
    const lastRow = read.at(-1);
    if (!lastRow) {
      const empty: BatchOutcome = { last: request.after, scanned: 0, updated: 0, skipped: 0, rangeDone: true };
      await inBatchTransaction(client, timeouts, () => checkpoint(client, empty));
      return empty;
    }
    const pending = read.filter((row) => row.needs);
    const values = await this.computeValues(pending);
    return inBatchTransaction(client, timeouts, async () => {
      let updated = 0;
      let skipped = 0;
      const writes = pending.flatMap((row, i) => (values[i] ? [{ row, values: values[i] }] : []));
      skipped += pending.length - writes.length;
      const written = await this.write(client, writes, true);
      updated += written.size;
      const conflicted = writes.filter((write) => !written.has(JSON.stringify(write.row.key))).map((write) => write.row.key);
      if (conflicted.length > 0) {
        const fresh = (await this.reread(client, conflicted)).filter((row) => row.needs);
        const freshValues = await this.computeValues(fresh);
        const freshWrites = fresh.flatMap((row, i) => (freshValues[i] ? [{ row, values: freshValues[i] }] : []));
        skipped += fresh.length - freshWrites.length;
        updated += (await this.write(client, freshWrites, false)).size;
      }
      const outcome: BatchOutcome = { last: lastRow.key, scanned: read.length, updated, skipped, rangeDone: read.length < request.size };
      await checkpoint(client, outcome);
      return outcome;
    });
  }

  async validate(client: pg.ClientBase, timeouts: BatchTimeouts): Promise<void> {
    try {
      await queryWithTimeouts(client, timeouts, `explain ${this.selectSql()} where false`, []);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidArgumentError('select/where', `the backfill read of ${this.spec.table} does not compile: ${reason}`);
    }
  }

  private selectSql(): string {
    const keyText = this.spec.key.map((column, i) => `t.${quoteIdent(column.name)}::text as ${quoteIdent(KEY(i))}`);
    const columns = this.spec.select.map((column) => `t.${quoteIdent(column)}`);
    return (
      `select ${keyText.join(', ')}, t.xmin::text as ${quoteIdent(XMIN)}, coalesce((${this.spec.where}), false) as ${quoteIdent(NEEDS)}, ` +
      `${columns.join(', ')} from ${this.spec.table} t`
    );
  }

  private toReadRow(raw: Record<string, unknown>): ReadRow {
    const row: Record<string, unknown> = {};
    for (const column of this.spec.select) row[column] = raw[column];
    return {
      key: this.spec.key.map((_, i) => String(raw[KEY(i)])),
      xmin: String(raw[XMIN]),
      needs: raw[NEEDS] === true,
      row,
    };
  }

  private async computeValues(rows: readonly ReadRow[]): Promise<readonly ComputedValues[]> {
    if (rows.length === 0) return [];
    const values = await this.spec.compute(rows.map((row) => row.row));
    if (!Array.isArray(values) || values.length !== rows.length) {
      throw new InvalidArgumentError(
        'compute',
        `must return one entry per row (${rows.length}) for ${this.spec.table}, got ${Array.isArray(values) ? values.length : typeof values}`,
      );
    }
    values.forEach((value: ComputedValues, i) => this.checkValues(value, rows[i]?.key ?? []));
    return values;
  }

  private checkValues(values: ComputedValues, key: KeyText): void {
    if (values === null) return;
    if (typeof values !== 'object') {
      throw new InvalidArgumentError('compute', `returned ${typeof values} for key (${key.join(', ')}) of ${this.spec.table}`);
    }
    const expected = new Set(this.spec.columns.map((column) => column.name));
    for (const name of Object.keys(values)) {
      if (!expected.has(name)) {
        throw new InvalidArgumentError('compute', `returned column "${name}" for key (${key.join(', ')}), which is not in "columns" of ${this.spec.table}`);
      }
    }
    for (const name of expected) {
      if (values[name] === undefined) {
        throw new InvalidArgumentError('compute', `returned no value for column "${name}" for key (${key.join(', ')}) of ${this.spec.table}`);
      }
    }
  }

  /** One UPDATE for all `writes`; returns the keys (as JSON) of the rows actually written. */
  private async write(
    client: pg.ClientBase,
    writes: readonly { row: ReadRow; values: Readonly<Record<string, unknown>> }[],
    checkVersion: boolean,
  ): Promise<Set<string>> {
    if (writes.length === 0) return new Set();
    const { key, columns } = this.spec;
    const arrays: (string | null)[][] = [
      ...key.map((_, i) => writes.map((write) => write.row.key[i] ?? null)),
      writes.map((write) => write.row.xmin),
      ...columns.map((column) => writes.map((write) => toPgText(write.values[column.name], column.type))),
    ];
    const names = [...key.map((_, i) => KEY(i)), XMIN, ...columns.map((_, i) => VALUE(i))].map(quoteIdent);
    const keyMatch = `${keyRow('t', key)} = (${key.map((column, i) => `v.${quoteIdent(KEY(i))}::${column.type}`).join(', ')})`;
    const assignments = columns.map((column, i) => `${quoteIdent(column.name)} = v.${quoteIdent(VALUE(i))}::${column.type}`);
    const { rows } = await client.query(
      `update ${this.spec.table} as t set ${assignments.join(', ')}
       from unnest(${arrays.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as v(${names.join(', ')})
       where ${keyMatch}${checkVersion ? ` and t.xmin::text = v.${quoteIdent(XMIN)}` : ''}
       returning ${key.map((column, i) => `t.${quoteIdent(column.name)}::text as ${quoteIdent(KEY(i))}`).join(', ')}`,
      arrays,
    );
    return new Set(rows.map((row: Record<string, unknown>) => JSON.stringify(key.map((_, i) => String(row[KEY(i)])))));
  }

  /** Re-reads rows by key and locks them (`FOR UPDATE`) until the batch commits. */
  private async reread(client: pg.ClientBase, keys: readonly KeyText[]): Promise<ReadRow[]> {
    const { key } = this.spec;
    const arrays = key.map((_, i) => keys.map((k) => k[i] ?? null));
    const { rows } = await client.query(
      `${this.selectSql()}
       join unnest(${arrays.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as v(${key.map((_, i) => quoteIdent(KEY(i))).join(', ')})
         on ${keyRow('t', key)} = (${key.map((column, i) => `v.${quoteIdent(KEY(i))}::${column.type}`).join(', ')})
       order by ${keyOrder('t', key, 'asc')} for update of t`,
      arrays,
    );
    return rows.map((row) => this.toReadRow(row));
  }
}

/**
 * Text form of a JS value for a `::type` cast: JSON for json/jsonb columns (a JS string becomes a JSON
 * string), node-postgres's own serialisation otherwise (dates, arrays, buffers), so values round-trip the
 * way node-postgres reads them. Pure.
 */
export function toPgText(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'json' || type === 'jsonb') return JSON.stringify(value);
  const prepared = pgUtils.prepareValue(value);
  if (prepared === null || prepared === undefined) return null;
  if (Buffer.isBuffer(prepared)) return `\\x${prepared.toString('hex')}`;
  return String(prepared);
}
