import type pg from 'pg';
import { quoteIdent } from '../sql.js';
import { queryWithTimeouts, type BatchTimeouts } from './batch-transaction.js';
import { keyOrder, keyTextOf, keyTextSelect, type KeyColumn, type KeyText } from './keyset-sql.js';

/** Rows listed when coverage is short. */
export const DEFAULT_COVERAGE_SAMPLES = 10;

/** The share of rows that satisfy a step's target predicate after it ran. */
export interface CoverageReport {
  readonly total: number;
  readonly satisfied: number;
  /** satisfied / total; 1 for an empty table. */
  readonly coverage: number;
  readonly threshold: number;
  readonly passed: boolean;
  /** Keys (text form) of up to `samples` rows that do not satisfy it, lowest first. */
  readonly samples: readonly KeyText[];
}

/**
 * Counts the rows of `table` (under `alias`) for which `satisfied` is true and compares the share with
 * `threshold`. Read-only; one scan of the table under the given timeouts (ACCESS SHARE lock only), plus
 * one index-ordered read for the samples when it falls short.
 */
export async function measureCoverage(
  client: pg.ClientBase,
  timeouts: BatchTimeouts,
  spec: { table: string; alias: string; key: readonly KeyColumn[]; satisfied: string; threshold: number; samples: number },
): Promise<CoverageReport> {
  const predicate = `coalesce((${spec.satisfied}), false)`;
  const { rows } = await queryWithTimeouts<{ total: string; satisfied: string }>(
    client,
    timeouts,
    `select count(*)::text as total, count(*) filter (where ${predicate})::text as satisfied from ${spec.table} as ${quoteIdent(spec.alias)}`,
    [],
  );
  const total = Number(rows[0]?.total ?? 0);
  const satisfied = Number(rows[0]?.satisfied ?? 0);
  const coverage = total === 0 ? 1 : satisfied / total;
  const passed = coverage >= spec.threshold;
  let samples: KeyText[] = [];
  if (satisfied < total && spec.samples > 0) {
    const sampled = await queryWithTimeouts(
      client,
      timeouts,
      `select ${keyTextSelect(spec.alias, spec.key)} from ${spec.table} as ${quoteIdent(spec.alias)} where not ${predicate}
       order by ${keyOrder(spec.alias, spec.key, 'asc')} limit $1`,
      [spec.samples],
    );
    samples = sampled.rows.map((row) => keyTextOf(row, spec.key));
  }
  return { total, satisfied, coverage, threshold: spec.threshold, passed, samples };
}
