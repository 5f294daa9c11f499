import type pg from 'pg';
import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';
import type { SqlExpression } from '../extract/dedupe.js';
import { quoteIdent, quoteQualified } from '../sql.js';

/**
 * Watched queries: named queries of a plan (`watchQueries` in `definePlan`) whose `EXPLAIN (FORMAT JSON)` the
 * runner captures before and after every phase, so `prisma-evolve plans` can show what each phase did to them.
 */

/** One watched query: raw SQL written by the plan's author (used as written) and its `$1…` parameters. */
export interface WatchQuery {
  readonly sql: SqlExpression;
  readonly params?: readonly unknown[];
  /**
   * With `run --analyze`, EXPLAIN ANALYZE executes the query. Its transaction is READ ONLY (a write fails and
   * is recorded) unless this is `true`: then the write runs, holds its locks until the rollback, advances
   * sequences and fires side effects a rollback cannot undo. Off by default.
   */
  readonly writes?: boolean;
}

/** The plan's watched queries, by name. */
export type WatchQueries = Readonly<Record<string, WatchQuery>>;

const QUERY_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** The zod schema of `watchQueries`: names of letters, digits, `_`, `-`, `.`; one non-empty statement each. */
export const watchQueriesSchema = z.record(
  z.string().regex(QUERY_NAME, 'a watched query name starts with a letter and uses letters, digits, "_", "-" and "."'),
  z.object({
    sql: z
      .string()
      .trim()
      .min(1, 'must be a non-empty SQL query')
      .refine((sql) => !/;\s*\S/.test(sql.replace(/'(?:[^']|'')*'/g, "''")), 'must be one statement (EXPLAIN takes one)'),
    params: z.array(z.unknown()).optional(),
    writes: z.boolean().optional(),
  }).strict(),
);

/** Validates a plan's `watchQueries`; the first problem is an `InvalidArgumentError` naming the query and field. Pure. */
export function parseWatchQueries(raw: unknown): WatchQueries {
  const parsed = watchQueriesSchema.safeParse(raw);
  if (parsed.success) return parsed.data as WatchQueries;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `watchQueries.${issue.path.map(String).join('.')}` : 'watchQueries';
  throw new InvalidArgumentError(where, issue?.message ?? 'invalid watched queries');
}

/** Before or after a phase. */
export type PlanMoment = 'before' | 'after';

/** The table plans are kept in, in the toolkit's state schema. */
export const QUERY_PLANS_TABLE = 'query_plans';

/** DDL of the plans table (idempotent). */
export function queryPlansDdl(stateSchema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(stateSchema)};
CREATE TABLE IF NOT EXISTS ${quoteQualified(stateSchema, QUERY_PLANS_TABLE)} (
  "query" text NOT NULL, "phase" text NOT NULL, "moment" text NOT NULL CHECK ("moment" IN ('before', 'after')),
  "capturedAt" timestamptz NOT NULL DEFAULT now(), "analyzed" boolean NOT NULL, "sql" text NOT NULL, "plan" jsonb, "error" text,
  PRIMARY KEY ("query", "phase", "moment"))`;
}

/**
 * EXPLAINs one query on `client` inside a transaction that is always rolled back, READ ONLY unless the query
 * says `writes: true`: with `analyze`, EXPLAIN ANALYZE executes the query, a write then fails (recorded), and
 * whatever an allowed write did is undone. Sent with the extended protocol, so a second statement hidden in the
 * SQL is refused by the server, never run. Under `lock_timeout` and `statement_timeout` (set locally; 0 means
 * none). Returns the plan, or the error's message: never throws for the query's own failure.
 */
export async function explainQuery(
  client: pg.ClientBase,
  query: WatchQuery,
  options: { analyze: boolean; lockTimeoutMs: number; statementTimeoutMs: number },
): Promise<{ plan: unknown; error: null } | { plan: null; error: string }> {
  await client.query(query.writes ? 'BEGIN' : 'BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(0, Math.round(options.lockTimeoutMs))}; SET LOCAL statement_timeout = ${Math.max(0, Math.round(options.statementTimeoutMs))}`);
    const explain = options.analyze ? 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)' : 'EXPLAIN (FORMAT JSON)';
    const { rows } = await client.query<{ 'QUERY PLAN': unknown }>({ text: `${explain} ${query.sql}`, values: [...(query.params ?? [])], queryMode: 'extended' } as pg.QueryConfig);
    return { plan: rows[0]?.['QUERY PLAN'] ?? null, error: null };
  } catch (error) {
    return { plan: null, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * Captures the plan of every watched query for `phase` at `moment` into the plans table (created if missing).
 * `replace` overwrites an earlier capture (a fresh start of the phase, or its end); otherwise an existing one is
 * kept (a resumed phase keeps the plans from before its first start). A query that cannot be EXPLAINed (a column
 * the phase dropped) is recorded with its error. Each EXPLAIN runs in its own rolled-back transaction.
 * Returns what was captured, by query.
 */
export async function capturePlans(
  client: pg.ClientBase,
  options: { stateSchema: string; phase: string; moment: PlanMoment; queries: WatchQueries; analyze: boolean; replace: boolean; lockTimeoutMs: number; statementTimeoutMs: number },
): Promise<{ query: string; error: string | null }[]> {
  await client.query(queryPlansDdl(options.stateSchema));
  const table = quoteQualified(options.stateSchema, QUERY_PLANS_TABLE);
  const captured: { query: string; error: string | null }[] = [];
  for (const [name, query] of Object.entries(options.queries)) {
    if (!options.replace) {
      const { rows } = await client.query(`SELECT 1 FROM ${table} WHERE "query" = $1 AND "phase" = $2 AND "moment" = $3`, [name, options.phase, options.moment]);
      if (rows.length > 0) continue;
    }
    const result = await explainQuery(client, query, options);
    await client.query(
      `INSERT INTO ${table} ("query", "phase", "moment", "analyzed", "sql", "plan", "error") VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
       ON CONFLICT ("query", "phase", "moment") DO UPDATE SET "capturedAt" = now(), "analyzed" = EXCLUDED."analyzed", "sql" = EXCLUDED."sql", "plan" = EXCLUDED."plan", "error" = EXCLUDED."error"`,
      [name, options.phase, options.moment, options.analyze, query.sql, result.plan === null ? null : JSON.stringify(result.plan), result.error],
    );
    captured.push({ query: name, error: result.error });
  }
  return captured;
}
