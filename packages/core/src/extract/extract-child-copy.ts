import { hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { toPgText } from '../backfill/computed-batch-writer.js';
import { copyField } from '../copy/copy-map-stage.js';
import { RESERVED_PREFIX } from '../naming.js';
import { quoteIdent, quoteLiteral } from '../sql.js';
import type { ExtractPlan } from './extract-plan.js';

/**
 * Children written with the legacy copy's bulk writer: `COPY … FROM STDIN` in text format, every field escaped
 * by {@link copyField}, streamed while the children are still being produced (so parsing in this process
 * overlaps inserting in PostgreSQL). It needs every child's key here: the deterministic `idColumn` as the
 * child table's text key, with `md5` computed in this process exactly as PostgreSQL would (UTF-8 server).
 * - `direct`: the rows go straight into the child table, then their ledger rows, each with one COPY.
 * - `staged` (some `fixed` SQL expression must be evaluated per row): the rows go into a temporary table
 *   (`ON COMMIT DELETE ROWS`, never WAL-logged), then one `INSERT … SELECT` adds the fixed columns and one
 *   more writes the ledger from it.
 * Both run in the caller's open transaction and throw what PostgreSQL throws; the caller decides what a
 * refused row means (`writeChildBatch` falls back to its `INSERT … ON CONFLICT` statement).
 */

/** One child of a batch: its parent's key (text), its element's 1-based position in the document, its column values. */
export interface ChildRow {
  readonly parent: string;
  readonly ordinal: number;
  readonly values: Readonly<Record<string, unknown>>;
}

/** How a batch's children can be COPYed, if at all. */
export type CopyMode = 'direct' | 'staged' | 'none';

/** Key types whose text form is the md5 hex digest itself, so the ledger's `row_key` can be written from here. */
const CLIENT_KEY_TYPES = /^(text|character varying(\(\d+\))?)$/;

/** Which COPY writer applies to `plan` (see the module comment); `none` when child keys are not known here. Pure. */
export function copyMode(plan: ExtractPlan): CopyMode {
  const { target } = plan;
  if (!plan.serverUtf8 || target.idColumn !== target.key.name || !CLIENT_KEY_TYPES.test(target.key.type)) return 'none';
  return Object.keys(target.fixed).length === 0 ? 'direct' : 'staged';
}

/** The deterministic child id, as PostgreSQL's `md5('<parentKey>:' || parent || ':' || ordinal)` on a UTF-8 server. Pure. */
export function childId(parentKey: string, parent: string, ordinal: number): string {
  return hash('md5', `${parentKey}:${parent}:${ordinal}`, 'hex');
}

/** Text that COPY's text format would read differently: a backslash, tab, newline or carriage return. */
const COPY_SPECIAL = /[\\\t\n\r]/;

/**
 * One child value as a COPY text field: the text a `::type` cast of the statement path would read (see
 * `toPgText`), escaped by {@link copyField}. Plain strings and numbers, the common case, skip the conversion,
 * and text without special characters the escaping. Pure.
 */
export function childField(value: unknown, type: string): string {
  const json = type === 'json' || type === 'jsonb';
  if (typeof value === 'string' && !json) return COPY_SPECIAL.test(value) ? copyField(value) : value;
  if (typeof value === 'number' && !json) return String(value);
  return copyField(toPgText(value, type));
}

/** COPY text of the children (about 256 rows a chunk): parent, id, mapped columns; pushes each child and its id as it goes. */
function* copyChunks(plan: ExtractPlan, children: Iterable<ChildRow>, written: ChildRow[], ids: string[]): Generator<string> {
  const { target } = plan;
  let chunk = '';
  let rows = 0;
  for (const child of children) {
    const id = childId(target.parentKey, child.parent, child.ordinal);
    written.push(child);
    ids.push(id);
    chunk += `${childField(child.parent, 'text')}\t${id}`;
    for (const column of target.columns) chunk += `\t${childField(child.values[column.name], column.type)}`;
    chunk += '\n';
    rows += 1;
    if (rows % 256 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Streams `chunks` into `statement` (a `COPY … FROM STDIN`); returns the rows COPY wrote. */
async function copyInto(client: pg.ClientBase, statement: string, chunks: Iterable<string>): Promise<number> {
  const into = client.query(copyFrom(statement));
  await pipeline(Readable.from(chunks, { objectMode: false }), into);
  return into.rowCount;
}

/** The ledger rows of `written` as COPY text chunks. */
function* ledgerChunks(plan: ExtractPlan, written: readonly ChildRow[], ids: readonly string[]): Generator<string> {
  const migration = copyField(plan.migration);
  for (let i = 0; i < written.length; i += 1024) {
    yield written
      .slice(i, i + 1024)
      .map((child, j) => `${migration}\t${childField(child.parent, 'text')}\t${ids[i + j]}\n`)
      .join('');
  }
}

/** The session's staging table for `columns` mapped columns (all text): `pg_temp."_evolve_extract_stage_<n>"`. Pure. */
function stageTable(columns: number): string {
  return `pg_temp.${quoteIdent(`${RESERVED_PREFIX}extract_stage_${columns}`)}`;
}

/**
 * COPYs the children (consumed from `children` as they come; `written` receives each) and records each in the
 * ledger, in the caller's open transaction (nothing commits here; a failure leaves that transaction aborted,
 * so the caller rolls back to its savepoint). Returns the number of ledger rows written (one per child). Not
 * idempotent by itself: the caller deletes what the extraction wrote for these parents first. Locks: ROW
 * EXCLUSIVE on the child table and the ledger, row locks on the rows inserted.
 */
export async function copyChildren(client: pg.ClientBase, plan: ExtractPlan, mode: 'direct' | 'staged', children: Iterable<ChildRow>, written: ChildRow[]): Promise<number> {
  const { target } = plan;
  const ids: string[] = [];
  if (mode === 'direct') {
    const columns = [target.parentKey, target.key.name, ...target.columns.map((column) => column.name)].map(quoteIdent);
    await copyInto(client, `copy ${target.table} (${columns.join(', ')}) from stdin`, copyChunks(plan, children, written, ids));
    if (written.length === 0) return 0;
    return copyInto(client, `copy ${plan.owned} (migration, parent_key, row_key) from stdin`, ledgerChunks(plan, written, ids));
  }
  const stage = stageTable(target.columns.length);
  const values = target.columns.map((_, i) => quoteIdent(`c${i}`));
  await client.query(`create temporary table if not exists ${stage} (p text, id text${values.map((v) => `, ${v} text`).join('')}) on commit delete rows`);
  await copyInto(client, `copy ${stage} from stdin`, copyChunks(plan, children, written, ids));
  if (written.length === 0) return 0;
  const fixed = Object.entries(target.fixed);
  const names = [target.parentKey, target.key.name, ...target.columns.map((column) => column.name), ...fixed.map(([name]) => name)].map(quoteIdent);
  const selects = ['v.p::' + plan.source.key.type, 'v.id', ...target.columns.map((column, i) => `v.${values[i]}::${column.type}`), ...fixed.map(([, expression]) => `(${expression})`)];
  await client.query(`insert into ${target.table} (${names.join(', ')}) select ${selects.join(', ')} from ${stage} v`);
  const owned = await client.query(`insert into ${plan.owned} (migration, parent_key, row_key) select ${quoteLiteral(plan.migration)}, v.p, v.id from ${stage} v`);
  return owned.rowCount ?? 0;
}
