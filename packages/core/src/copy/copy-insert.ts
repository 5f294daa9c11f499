import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../sql.js';
import type { EntryPlan } from './copy-planner.js';
import { COPY_SCHEMA } from './copy-store.js';

/**
 * The insert of a range's staged rows into the target table, and the dead letters on the way: rows whose
 * reference the id map does not hold, and rows the table rejects, found by halving the batch under savepoints
 * (or by the value a conversion error quotes), never by giving up the batch. Runs in the caller's transaction.
 */

/** True for a rejected value (SQLSTATE class 22 data exception, or 23 integrity constraint violation). */
export function isRowProblem(error: unknown): boolean {
  const state = String((error as { code?: string }).code ?? '');
  return state.startsWith('22') || state.startsWith('23');
}

/** Moves the staged rows matching `where` into the dead letters with `reason` (an SQL expression over `st`); returns how many. */
export async function deadLetter(target: pg.ClientBase, plan: EntryPlan, where: string, reason: string): Promise<number> {
  const stage = quoteIdent(plan.stage);
  const { rowCount } = await target.query(
    `with gone as (delete from ${stage} st where ${where} returning st.*)
     insert into ${COPY_SCHEMA}.copy_dead_letter (copy, entry, source_key, reason, row) select $1, $2, st.__key, ${reason}, ${plan.deadRowSql} from gone st`,
    [plan.copy, plan.table.entry],
  );
  return rowCount ?? 0;
}

/**
 * Dead-letters the staged rows whose reference the id map does not hold (nor, for a self-reference, this range):
 * `selfOnly` checks only references to the entry itself (after a row of the range was rejected). Within a tree,
 * a row whose parent just became a dead letter loses its parent too: repeated until none does. Never a silent NULL.
 */
export async function deadLetterUnresolved(target: pg.ClientBase, plan: EntryPlan, selfOnly: boolean): Promise<number> {
  let dead = 0;
  // Deferred references are resolved by the second pass, after both entries are copied.
  for (const column of plan.columns.filter((c) => c.refEntry && !c.deferred && (!selfOnly || c.refEntry === plan.table.entry))) {
    const self = column.refEntry === plan.table.entry;
    const sameRange = self ? ` and not exists (select 1 from ${quoteIdent(plan.stage)} o where o.__key = st.${column.stage})` : '';
    const missing = `st.${column.stage} is not null and not exists (select 1 from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = ${quoteLiteral(column.refEntry as string)} and m.old_key = st.${column.stage})${sameRange}`;
    const reason = `format('%s = %s: no "%s" row with that key was copied', ${quoteLiteral(column.target)}, st.${column.stage}, ${quoteLiteral(column.refEntry as string)})`;
    for (let removed = await deadLetter(target, plan, missing, reason); removed > 0; removed = self ? await deadLetter(target, plan, missing, reason) : 0) dead += removed;
  }
  return dead;
}

/** Dead-letters the staged row `seq` the table rejected with `message`, and the duplicates that collapsed onto it. */
async function rejectRow(target: pg.ClientBase, plan: EntryPlan, seq: number, message: string): Promise<number> {
  const stage = quoteIdent(plan.stage);
  const survivor = await target.query<{ new: string | null; key: string }>(`select __new as new, __key as key from ${stage} where __seq = $1`, [seq]);
  let dead = await deadLetter(target, plan, `st.__seq = ${seq}`, quoteLiteral(`rejected by ${plan.targetQualified}: ${message}`));
  const id = survivor.rows[0]?.new;
  if (id !== null && id !== undefined && plan.table.dedupe) {
    dead += await deadLetter(target, plan, `st.__dup and st.__new = ${quoteLiteral(id)}`, quoteLiteral(`its survivor was rejected by ${plan.targetQualified}: ${message}`));
    await target.query(`delete from ${COPY_SCHEMA}.copy_survivor where copy = $1 and entry = $2 and old_key = $3`, [plan.copy, plan.table.entry, survivor.rows[0]?.key]);
  }
  // Its children in this range (a tree) lose their parent with it.
  return dead + (await deadLetterUnresolved(target, plan, true));
}

/** SQLSTATEs of a value that does not convert to its column's type, whose message quotes the value. */
const CONVERSION_STATES = new Set(['22P02', '22003', '22007', '22008']);

/**
 * For a conversion error (`invalid input syntax for type integer: "A+"`): inserts, one at a time, the surviving
 * staged rows of [lo, hi] holding the quoted value in a column, marking those that go in (`__inserted`, so the
 * span's retry skips them) and dead-lettering those the table rejects. Returns how many rows it tried (0 when
 * the error quotes no value found there: the caller bisects).
 */
async function tryRowsWithValue(target: pg.ClientBase, plan: EntryPlan, lo: number, hi: number, error: unknown): Promise<{ rows: number; inserted: number; dead: number }> {
  const none = { rows: 0, inserted: 0, dead: 0 };
  if (!CONVERSION_STATES.has(String((error as { code?: string }).code ?? ''))) return none;
  const value = /"(.*)"/.exec(error instanceof Error ? error.message : String(error))?.[1];
  const columns = plan.columns.filter((c) => !c.refEntry);
  if (value === undefined || columns.length === 0) return none;
  const stage = quoteIdent(plan.stage);
  const { rows } = await target.query<{ seq: string }>(
    `select __seq::text as seq from ${stage} st where not st.__dup and not st.__inserted and st.__seq between $1 and $2 and $3 in (${columns.map((c) => `st.${c.stage}`).join(', ')}) order by st.__seq`,
    [lo, hi, value],
  );
  let inserted = 0;
  let dead = 0;
  for (const row of rows) {
    const seq = Number(row.seq);
    const one = await insertSpan(target, plan, seq, seq);
    if (one.inserted > 0) await target.query(`update ${stage} set __inserted = true where __seq = $1`, [seq]);
    inserted += one.inserted;
    dead += one.dead;
  }
  return { rows: rows.length, inserted, dead };
}

/**
 * Inserts the surviving staged rows whose `__seq` lies in [lo, hi] under a savepoint; when the table rejects a
 * row (bad input, NOT NULL, unique, check, foreign key: SQLSTATE class 22 or 23) it halves the span and tries
 * each half, down to the single rows at fault, which it dead-letters with the database's message (and the
 * duplicates that collapsed onto them). A few bad rows in a batch cost a few dozen statements, not one per row;
 * a value that does not convert is found by the value its error quotes, without halving.
 */
async function insertSpan(target: pg.ClientBase, plan: EntryPlan, lo: number, hi: number): Promise<{ inserted: number; dead: number }> {
  const attempt = await underSavepoint(target, () => target.query(`${plan.insertSql} and st.__seq between $1 and $2`, [lo, hi]));
  if ('value' in attempt) return { inserted: attempt.value.rowCount ?? 0, dead: 0 };
  const error = attempt.rejected;
  if (lo === hi) return { inserted: 0, dead: await rejectRow(target, plan, lo, rejectionMessage(error)) };
  // A value that does not convert names itself: the rows holding it are tried one by one, then the span again.
  const tried = await tryRowsWithValue(target, plan, lo, hi, error);
  if (tried.rows > 0) {
    const rest = await insertSpan(target, plan, lo, hi);
    return { inserted: rest.inserted + tried.inserted, dead: rest.dead + tried.dead };
  }
  const mid = Math.floor((lo + hi) / 2);
  const first = await insertSpan(target, plan, lo, mid);
  const second = await insertSpan(target, plan, mid + 1, hi);
  return { inserted: first.inserted + second.inserted, dead: first.dead + second.dead };
}

/** The database's words for a rejected row. Pure. */
export function rejectionMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `statement` under a savepoint in the caller's transaction: released when it succeeds; when the table
 * rejects a row (see {@link isRowProblem}) rolled back to and released (no subtransaction stays open until
 * commit) and the error returned, for the caller to narrow the rows down; any other error is thrown.
 */
export async function underSavepoint<T>(target: pg.ClientBase, statement: () => Promise<T>): Promise<{ readonly value: T } | { readonly rejected: unknown }> {
  await target.query('savepoint evolve_copy_span');
  try {
    const value = await statement();
    await target.query('release savepoint evolve_copy_span');
    return { value };
  } catch (error) {
    if (!isRowProblem(error)) throw error;
    await target.query('rollback to savepoint evolve_copy_span');
    await target.query('release savepoint evolve_copy_span');
    return { rejected: error };
  }
}

/** Inserts the surviving staged rows (see {@link insertSpan}); returns rows inserted and dead-lettered. */
export async function insertRows(target: pg.ClientBase, plan: EntryPlan): Promise<{ inserted: number; dead: number }> {
  const { rows } = await target.query<{ lo: string | null; hi: string | null }>(`select min(__seq)::text as lo, max(__seq)::text as hi from ${quoteIdent(plan.stage)} where not __dup`);
  const span = rows[0];
  if (span?.lo == null || span.hi == null) return { inserted: 0, dead: 0 };
  return insertSpan(target, plan, Number(span.lo), Number(span.hi));
}
