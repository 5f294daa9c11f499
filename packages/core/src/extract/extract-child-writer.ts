import type pg from 'pg';
import { toPgText } from '../backfill/computed-batch-writer.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteLiteral } from '../sql.js';
import { copyChildren, copyMode, type ChildRow } from './extract-child-copy.js';
import type { ExtractPlan } from './extract-plan.js';

/**
 * How a batch's children are written, inside the batch's open transaction (the caller commits them together
 * with the checkpoint), by the first writer that applies:
 * - **COPY** (`extract-child-copy.ts`) when this process knows every child's key: the key is the
 *   deterministic `idColumn` (a text column) and the server encodes text as UTF-8. Streamed while the
 *   children are produced, under a savepoint. A row the table refuses (an id that already exists, a value that
 *   does not convert, a constraint; see {@link refusedByTable}) rolls the savepoint back and the batch is
 *   written by the statement below, which adopts or refuses existing ids and reports errors exactly as it
 *   always has.
 * - **One `INSERT … SELECT … FROM unnest(…)`** otherwise: the insert and its ledger rows in one statement
 *   (`RETURNING` the keys PostgreSQL assigned), existing ids handled by `ON CONFLICT` (see {@link onSameChild}).
 */

/** `(parentKey, id?, columns..., fixed...)` of the child insert, and the SELECT expressions that fill them. Pure. */
function insertColumns(plan: ExtractPlan, values: (column: { name: string; type: string }) => string, parent: string, ordinal: string): { names: string; selects: string; quoted: readonly string[] } {
  const names = [quoteIdent(plan.target.parentKey)];
  const selects = [parent];
  if (plan.target.idColumn) {
    names.push(quoteIdent(plan.target.idColumn));
    selects.push(`md5(${quoteLiteral(plan.target.parentKey)} || ':' || ${parent}::text || ':' || ${ordinal})`);
  }
  for (const column of plan.target.columns) {
    names.push(quoteIdent(column.name));
    selects.push(values(column));
  }
  for (const [name, expression] of Object.entries(plan.target.fixed)) {
    names.push(quoteIdent(name));
    selects.push(`(${expression})`);
  }
  return { names: names.join(', '), selects: selects.join(', '), quoted: names };
}

/**
 * How a child insert treats a row that already has its deterministic id (`idColumn` is the target's key):
 * a row no extraction recorded (written by a version without the ledger) is the same child, so it is
 * replaced and adopted. A row another extraction recorded is left alone and not returned, so the batch
 * comes up short and fails closed (see {@link assertAllWritten}). Without deterministic ids nothing can be
 * the same child. Pure.
 */
function onSameChild(plan: ExtractPlan, names: readonly string[]): string {
  if (!plan.target.idColumn || plan.target.idColumn !== plan.target.key.name) return '';
  const id = quoteIdent(plan.target.idColumn);
  const updates = names.filter((name) => name !== id).map((name) => `${name} = excluded.${name}`);
  return ` on conflict (${id}) do update set ${updates.join(', ')}
     where not exists (select 1 from ${plan.owned} other where other.row_key = ${plan.target.table}.${id}::text and other.migration <> ${quoteLiteral(plan.migration)})`;
}

/** Refuses a batch that wrote fewer children than it meant to: their ids belong to another extraction's rows. */
function assertAllWritten(plan: ExtractPlan, expected: number, written: number): void {
  if (written < expected) {
    throw new InvalidArgumentError(
      'target.idColumn',
      `${expected - written} child row(s) of ${plan.target.table} already exist with the ids extraction "${plan.migration}" would write, and another extraction recorded them as its own; undo that extraction first, or write to another table`,
    );
  }
}

/** `insert` of child rows recorded in the ledger (the statement's row count is the number of children). Pure. */
function ownedInsert(plan: ExtractPlan, insert: string, names: readonly string[]): string {
  return `with ins as (${insert}${onSameChild(plan, names)} returning ${quoteIdent(plan.target.key.name)}::text as row_key, ${quoteIdent(plan.target.parentKey)}::text as parent_key)
     insert into ${plan.owned} (migration, parent_key, row_key) select ${quoteLiteral(plan.migration)}, parent_key, row_key from ins on conflict do nothing`;
}

/** A document no shape accepted, as the dead-letter table records it. */
export interface DeadLetter {
  readonly parent: string;
  readonly issues: readonly string[];
  readonly raw: unknown;
}

/** A batch to write: its parents' keys (text), its children (possibly produced lazily, while they are written) and, once those are consumed, its dead letters. */
export interface ChildBatch {
  readonly parents: readonly string[];
  readonly children: Iterable<ChildRow>;
  readonly dead: readonly DeadLetter[];
}

/**
 * An error the statement path may not share: a value the table refused (SQLSTATE class 22 data exception or 23
 * integrity constraint violation), or class 42 (e.g. a role without the TEMPORARY privilege the staging table
 * needs). The statement path then writes the batch, or reports the same error in its own words. Timeouts,
 * deadlocks and lost connections are not among them: the batch is retried whole instead.
 */
function refusedByTable(error: unknown): boolean {
  const state = String((error as { code?: unknown }).code ?? '');
  return state.startsWith('22') || state.startsWith('23') || state.startsWith('42');
}

/**
 * Deletes the children this extraction wrote for the batch's parents in an earlier run (from its ledger),
 * never rows the application wrote for the same parents, and their dead letters.
 */
async function clearPrevious(client: pg.ClientBase, plan: ExtractPlan, parents: readonly string[]): Promise<void> {
  const migration = quoteLiteral(plan.migration);
  await client.query(
    `with gone as (delete from ${plan.owned} o where o.migration = ${migration} and o.parent_key = any($1::text[]) returning o.row_key),
          children as (delete from ${plan.target.table} c where c.${quoteIdent(plan.target.key.name)} = any(array(select row_key::${plan.target.key.type} from gone)) returning 1)
     delete from ${plan.deadLetters} where migration = ${migration} and parent_key = any($1::text[])`,
    [parents],
  );
}

/** Records the batch's invalid documents (with `onInvalid: 'record'`). */
async function recordDeadLetters(client: pg.ClientBase, plan: ExtractPlan, dead: readonly DeadLetter[]): Promise<void> {
  if (plan.onInvalid !== 'record' || dead.length === 0) return;
  await client.query(
    `insert into ${plan.deadLetters} (migration, parent_key, issues, raw)
     select $1, d.k, d.i::jsonb, d.r::jsonb from unnest($2::text[], $3::text[], $4::text[]) as d(k, i, r)`,
    [plan.migration, dead.map((d) => d.parent), dead.map((d) => JSON.stringify(d.issues)), dead.map((d) => JSON.stringify(d.raw))],
  );
}

/** Inserts the children and their ledger rows with one statement over `unnest` of text arrays; returns the rows recorded. */
async function insertChildren(client: pg.ClientBase, plan: ExtractPlan, children: readonly ChildRow[]): Promise<number> {
  if (children.length === 0) return 0;
  const arrays: (string | null)[][] = [children.map((c) => c.parent), children.map((c) => String(c.ordinal))];
  for (const column of plan.target.columns) arrays.push(children.map((c) => toPgText(c.values[column.name], column.type)));
  const aliases = ['p', 'o', ...plan.target.columns.map((_, i) => `c${i}`)];
  const position = new Map(plan.target.columns.map((column, i) => [column.name, i]));
  const { names, selects, quoted } = insertColumns(plan, (column) => `v.${quoteIdent(`c${position.get(column.name)}`)}::${column.type}`, `v.p::${plan.source.key.type}`, 'v.o');
  const result = await client.query(
    ownedInsert(
      plan,
      `insert into ${plan.target.table} (${names}) select ${selects}
       from unnest(${arrays.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as v(${aliases.map(quoteIdent).join(', ')})`,
      quoted,
    ),
    arrays,
  );
  return result.rowCount ?? 0;
}

/**
 * Writes one batch inside the caller's open transaction (nothing commits here; the caller checkpoints and
 * commits): deletes what this extraction wrote for the batch's parents before (its ledger says which), writes
 * the children, records each in the ledger, and records the dead letters. Returns the children written.
 * - With a COPY writer (see the module comment), under a savepoint; `nothingBefore` (no ledger row or dead
 *   letter of this extraction existed when the run began) skips the delete. When the table refuses a row,
 *   the savepoint is rolled back and the batch is written by the statement path, from a clean slate.
 * - Otherwise: the delete, then one `INSERT … SELECT FROM unnest(…)` with the ledger in the same statement.
 * Fails closed (throws, so the caller rolls back) when fewer children were written than produced: their ids
 * belong to another extraction's rows. Locks: row locks on the children written and deleted.
 */
export async function writeChildBatch(client: pg.ClientBase, plan: ExtractPlan, batch: ChildBatch, nothingBefore: boolean): Promise<number> {
  const written: ChildRow[] = [];
  const children = batch.children[Symbol.iterator]();
  // Without `return`, so a COPY that stops early does not close the producer: the statement path goes on from there.
  const rest: Iterable<ChildRow> = { [Symbol.iterator]: () => ({ next: () => children.next() }) };
  const mode = copyMode(plan);
  if (mode !== 'none') {
    await client.query('savepoint evolve_extract_batch');
    try {
      if (!nothingBefore) await clearPrevious(client, plan, batch.parents);
      const copied = await copyChildren(client, plan, mode, rest, written);
      await recordDeadLetters(client, plan, batch.dead);
      await client.query('release savepoint evolve_extract_batch');
      assertAllWritten(plan, written.length, copied);
      return copied;
    } catch (error) {
      if (!refusedByTable(error)) throw error;
      // Released too, so the statement path does not run in a subtransaction of its own until commit.
      await client.query('rollback to savepoint evolve_extract_batch; release savepoint evolve_extract_batch');
    }
  }
  const all = [...written, ...rest];
  await clearPrevious(client, plan, batch.parents);
  const inserted = await insertChildren(client, plan, all);
  assertAllWritten(plan, all.length, inserted);
  await recordDeadLetters(client, plan, batch.dead);
  return inserted;
}
