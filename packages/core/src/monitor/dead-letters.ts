import type pg from 'pg';
import { relationExists } from '../db/table-catalog.js';
import { quoteQualified } from '../sql.js';

/** The extraction dead letters table (see `DEAD_LETTER_TABLE` of extract-json), named here to read it. */
const EXTRACT_TABLE = 'extract_dead_letter';
/** The legacy copy's dead letters table, in the same state schema. */
const COPY_TABLE = 'copy_dead_letter';
/** Largest page {@link readDeadLetters} returns. */
export const MAX_DEAD_LETTER_PAGE = 200;
/** Dead letters the counts look at, at most: `total` and the reason counts stop there (`capped`). */
export const DEAD_LETTER_COUNT_LIMIT = 100_000;
/** Deepest `offset` {@link readDeadLetters} pages to. */
export const MAX_DEAD_LETTER_OFFSET = 10_000;
/** `statement_timeout` of each of its reads (ms). */
export const DEAD_LETTER_STATEMENT_TIMEOUT_MS = 5_000;

/** One rejected input row: which step (extraction name or `copy/table`), its key and why. */
export interface DeadLetter {
  readonly source: 'extract' | 'copy';
  readonly step: string;
  readonly key: string;
  readonly reason: string;
  readonly at: string;
  /** The rejected value or row, cut to 500 characters. */
  readonly sample: string | null;
}

/** A page of dead letters, with counts per step and reason over all of them. */
export interface DeadLetterPage {
  /** Dead letters in all, counted up to {@link DEAD_LETTER_COUNT_LIMIT}. */
  readonly total: number;
  /** True when there are more than `total` (the counts stopped at the limit). */
  readonly capped: boolean;
  readonly reasons: ReadonlyArray<{ readonly source: DeadLetter['source']; readonly step: string; readonly reason: string; readonly count: number }>;
  readonly items: readonly DeadLetter[];
}

/**
 * Reads the dead letters of extractions and of legacy copies (whichever tables exist), newest first:
 * `limit` (at most {@link MAX_DEAD_LETTER_PAGE}) from `offset` (at most {@link MAX_DEAD_LETTER_OFFSET}),
 * optionally of one step only, with the count of each reason (the first issue's message of an extraction's
 * document). Bounded: the counts look at {@link DEAD_LETTER_COUNT_LIMIT} rows at most (`capped` says when
 * there are more), and the reads run in one read-only transaction under `statement_timeout`
 * ({@link DEAD_LETTER_STATEMENT_TIMEOUT_MS}). Read-only; plain SELECTs. `client` must have no transaction open.
 */
export async function readDeadLetters(
  client: pg.ClientBase,
  stateSchema: string,
  options: { step?: string; offset?: number; limit?: number } = {},
): Promise<DeadLetterPage> {
  const parts: string[] = [];
  const extract = quoteQualified(stateSchema, EXTRACT_TABLE);
  const copy = quoteQualified(stateSchema, COPY_TABLE);
  if (await relationExists(client, extract)) {
    parts.push(`select 'extract' as source, migration as step, parent_key as key,
       coalesce(issues -> 0 ->> 'message', issues ->> 0, issues::text) as reason, recorded_at as at, left(raw::text, 500) as sample from ${extract}`);
  }
  if (await relationExists(client, copy)) {
    parts.push(`select 'copy', copy || '/' || entry, source_key, reason, at, left(row::text, 500) from ${copy}`);
  }
  if (parts.length === 0) return { total: 0, capped: false, reasons: [], items: [] };
  const all = `(${parts.join(' union all ')}) d where ($1::text is null or d.step = $1)`;
  const limit = Math.min(Math.max(1, options.limit ?? 50), MAX_DEAD_LETTER_PAGE);
  const offset = Math.min(Math.max(0, options.offset ?? 0), MAX_DEAD_LETTER_OFFSET);
  const counted = `(select * from ${all} limit ${DEAD_LETTER_COUNT_LIMIT + 1}) c`;
  await client.query(`begin transaction read only; set local statement_timeout = ${DEAD_LETTER_STATEMENT_TIMEOUT_MS}`);
  try {
    const { rows: total } = await client.query<{ n: number }>(`select count(*)::int as n from ${counted}`, [options.step ?? null]);
    const n = total[0]?.n ?? 0;
    const { rows: reasons } = await client.query<{ source: DeadLetter['source']; step: string; reason: string; count: number }>(
      `select source, step, reason, count(*)::int as count from (select * from ${all} limit ${DEAD_LETTER_COUNT_LIMIT}) c group by 1, 2, 3 order by 4 desc, 2, 3 limit 100`,
      [options.step ?? null],
    );
    const { rows: items } = await client.query<DeadLetter>(
      `select source, step, key, reason, to_char(at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at, sample
       from ${all} order by d.at desc, d.step, d.key offset $2 limit $3`,
      [options.step ?? null, offset, limit],
    );
    await client.query('commit');
    return { total: Math.min(n, DEAD_LETTER_COUNT_LIMIT), capped: n > DEAD_LETTER_COUNT_LIMIT, reasons, items };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
