import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent } from '../sql.js';
import type { StagedDeadLetter } from './copy-batch.js';
import type { EntryPlan } from './copy-planner.js';
import { COPY_SCHEMA } from './copy-store.js';

/**
 * The staging of an entry with a TypeScript `map`: the range's source rows are read (one query, the range's
 * rows in memory), mapped in this process, and written into the staging table with `COPY … FROM STDIN`, where
 * the rest of the batch resolves them like any other entry's rows. A row the map throws on is a dead letter.
 */

/** Source values the map sees: text for types JavaScript would shift (dates, timestamps) or round (bigint, numeric). */
const TEXT_TYPES = [20, 1700, 1082, 1083, 1114, 1184, 1266];
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    return TEXT_TYPES.includes(oid) ? (value: string) => value : pg.types.getTypeParser(oid, format);
  },
};

/** A JavaScript array as a PostgreSQL array literal (`{a,"b c",NULL}`). Pure. */
export function arrayLiteral(values: readonly unknown[]): string {
  const element = (value: unknown): string => {
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) return arrayLiteral(value);
    const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  };
  return `{${values.map(element).join(',')}}`;
}

/**
 * A value as a field of COPY's text format: `\N` for NULL, a Buffer as bytea hex (`\x…`), an array as a
 * PostgreSQL array literal, another object as JSON. Pure.
 */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text =
    value instanceof Date ? value.toISOString() : Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : Array.isArray(value) ? arrayLiteral(value) : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/**
 * Maps the range's rows (those `filter` holds for, when given) into the staging table; returns the rows
 * staged and those that became dead letters (the map threw, or returned a column it does not produce), recorded unless `recordDead`
 * is false (validation and catch-up).
 */
export async function stageMappedRange(plan: EntryPlan, source: pg.ClientBase, target: pg.ClientBase, lo: string | null, hi: string | null, recordDead = true, filter?: string): Promise<{ readonly dead: readonly StagedDeadLetter[]; readonly staged: number }> {
  const map = plan.table.map;
  if (!map) throw new Error(`entry "${plan.table.entry}" has no map`);
  const { rows } = await source.query<Record<string, unknown>>({ text: plan.mapQuery(lo, hi, filter), types });
  const allowed = new Set(plan.columns.map((c) => c.target));
  const lines: string[] = [];
  const dead: StagedDeadLetter[] = [];
  for (const row of rows) {
    const { __key: key, __dedupe: dedupe, __keep: keep, ...sourceRow } = row;
    let out: Readonly<Record<string, unknown>>;
    try {
      out = map(sourceRow);
      if (out === null || typeof out !== 'object' || typeof (out as { then?: unknown }).then === 'function') throw new Error('returned no object of columns (map must be synchronous and return { column: value, … })');
      const unknown = Object.keys(out ?? {}).find((column) => !allowed.has(column));
      if (unknown !== undefined) throw new Error(`returned "${unknown}", which is not in produces or refs`);
    } catch (error) {
      dead.push({ key: String(key), reason: `map threw: ${error instanceof Error ? error.message : String(error)}`, row: JSON.stringify(sourceRow) });
      continue;
    }
    lines.push(`${[key, dedupe, keep, ...plan.columns.map((c) => out[c.target])].map(copyField).join('\t')}\n`);
  }
  const writer = target.query(copyFrom(`copy ${quoteIdent(plan.stage)} (${plan.copyColumns.join(', ')}) from stdin`));
  await pipeline(Readable.from(lines), writer);
  if (dead.length > 0 && recordDead) {
    await target.query(`insert into ${COPY_SCHEMA}.copy_dead_letter (copy, entry, source_key, reason, row) select $1, $2, k, r, w from unnest($3::text[], $4::text[], $5::jsonb[]) as d(k, r, w)`, [
      plan.copy,
      plan.table.entry,
      dead.map((d) => d.key),
      dead.map((d) => d.reason),
      dead.map((d) => d.row),
    ]);
  }
  return { dead, staged: lines.length };
}
