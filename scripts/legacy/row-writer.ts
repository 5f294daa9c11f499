import type pg from 'pg';
import { quoteIdent } from '@prisma-evolve/core';

/** PostgreSQL type of a generated column; used as the cast of its placeholder. */
export type ColumnType = 'text' | 'int' | 'float8' | 'bool' | 'timestamp(3)' | 'jsonb' | 'text[]';

/** One value per column, in column order. `undefined`/`null` is SQL NULL; jsonb values are JSON texts. */
export type Row = ReadonlyArray<string | number | boolean | null | undefined | readonly string[]>;

// 65535 bind parameters at most per statement; stay well below for any column count.
const MAX_PARAMS = 30_000;

/**
 * Buffers rows for one table and writes them as multi-row `INSERT … VALUES` statements (one round
 * trip per thousands of rows, never per row). The caller owns the transaction.
 */
export class RowWriter {
  private readonly rowsPerStatement: number;
  private buffer: Row[] = [];
  private written = 0;
  private readonly head: string;

  constructor(
    private readonly client: pg.ClientBase,
    table: string,
    private readonly columns: ReadonlyArray<readonly [name: string, type: ColumnType]>,
  ) {
    this.rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
    this.head = `insert into ${quoteIdent(table)} (${columns.map(([name]) => quoteIdent(name)).join(', ')}) values `;
  }

  /** Queues a row; flushes when a statement's worth is buffered. */
  async add(row: Row): Promise<void> {
    if (row.length !== this.columns.length) {
      throw new Error(`row has ${row.length} values for ${this.columns.length} columns of ${this.head}`);
    }
    this.buffer.push(row);
    if (this.buffer.length >= this.rowsPerStatement) await this.flush();
  }

  /** Writes whatever is buffered; returns the number of rows written so far. */
  async flush(): Promise<number> {
    if (this.buffer.length === 0) return this.written;
    const params: unknown[] = [];
    const tuples = this.buffer.map((row) => {
      const slots = row.map((value, index) => {
        params.push(value ?? null);
        return `$${params.length}::${this.columns[index]![1]}`;
      });
      return `(${slots.join(', ')})`;
    });
    await this.client.query(this.head + tuples.join(', '), params);
    this.written += this.buffer.length;
    this.buffer = [];
    return this.written;
  }
}
