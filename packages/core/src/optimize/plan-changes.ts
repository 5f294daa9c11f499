import type pg from 'pg';
import { relationExists } from '../db/table-catalog.js';
import { quoteQualified } from '../sql.js';
import { QUERY_PLANS_TABLE, type PlanMoment } from './watch-queries.js';

/**
 * `prisma-evolve plans`: what each phase did to the plans of the watched queries, from the plans the runner
 * captured before and after it.
 */

/** One captured plan, summed up. */
export interface PlanSummary {
  readonly capturedAt: string;
  /** Captured with EXPLAIN ANALYZE (`run --analyze`): the query was executed, in a transaction rolled back. */
  readonly analyzed: boolean;
  /** The planner's total cost of the top node; null when the query could not be EXPLAINed. */
  readonly totalCost: number | null;
  /** The planner's row estimate of the top node. */
  readonly rows: number | null;
  /** With `analyzed`: the execution time in milliseconds. */
  readonly executionMs: number | null;
  /** Relations read by sequential scans, sorted. */
  readonly seqScans: readonly string[];
  /** Indexes the plan reads, sorted. */
  readonly indexes: readonly string[];
  /** Why EXPLAIN failed (a column the phase dropped, …); null when it did not. */
  readonly error: string | null;
}

/** A watched query across one phase (`plans --json`'s `plans[]`). */
export interface PlanChange {
  readonly query: string;
  readonly phase: string;
  readonly before: PlanSummary | null;
  readonly after: PlanSummary | null;
  /** after / before total cost (0.25: four times cheaper); null when either is missing. */
  readonly costRatio: number | null;
  /** after / before row estimate. */
  readonly rowsRatio: number | null;
  readonly seqScansAppeared: readonly string[];
  readonly seqScansGone: readonly string[];
  readonly indexesNew: readonly string[];
  readonly indexesGone: readonly string[];
}

interface PlanNode {
  readonly 'Node Type'?: string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Total Cost'?: number;
  readonly 'Plan Rows'?: number;
  readonly Plans?: readonly PlanNode[];
}

/** Every node of a plan tree, depth first. Pure. */
function nodes(node: PlanNode | undefined): PlanNode[] {
  return node ? [node, ...(node.Plans ?? []).flatMap(nodes)] : [];
}

/** Sums up an `EXPLAIN (FORMAT JSON)` result. Pure. */
export function summarizePlan(plan: unknown, meta: { capturedAt: string; analyzed: boolean; error: string | null }): PlanSummary {
  const root = (Array.isArray(plan) ? plan[0] : undefined) as { Plan?: PlanNode; 'Execution Time'?: number } | undefined;
  const all = nodes(root?.Plan);
  const sorted = (values: (string | undefined)[]): string[] => [...new Set(values.filter((v): v is string => v !== undefined))].sort();
  return {
    ...meta,
    totalCost: root?.Plan?.['Total Cost'] ?? null,
    rows: root?.Plan?.['Plan Rows'] ?? null,
    executionMs: root?.['Execution Time'] ?? null,
    seqScans: sorted(all.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])),
    indexes: sorted(all.map((n) => n['Index Name'])),
  };
}

const ratio = (after: number | null | undefined, before: number | null | undefined): number | null =>
  after == null || before == null || before === 0 ? null : Math.round((after / before) * 10000) / 10000;
const minus = (a: readonly string[] | undefined, b: readonly string[] | undefined): string[] => (a ?? []).filter((x) => !(b ?? []).includes(x));

/** Compares the plans of one query before and after one phase. Pure. */
export function comparePlans(query: string, phase: string, before: PlanSummary | null, after: PlanSummary | null): PlanChange {
  return {
    query,
    phase,
    before,
    after,
    costRatio: ratio(after?.totalCost, before?.totalCost),
    rowsRatio: ratio(after?.rows, before?.rows),
    seqScansAppeared: before && after ? minus(after.seqScans, before.seqScans) : [],
    seqScansGone: before && after ? minus(before.seqScans, after.seqScans) : [],
    indexesNew: before && after ? minus(after.indexes, before.indexes) : [],
    indexesGone: before && after ? minus(before.indexes, after.indexes) : [],
  };
}

/**
 * The plan changes of every watched query across every phase captured, ordered by query, then by `phaseOrder`
 * (the plan's order; unknown phases last, by capture time). Read-only: one query of the plans table (none yet
 * is an empty list).
 */
export async function readPlanChanges(client: pg.ClientBase, options: { stateSchema: string; phaseOrder?: readonly string[] }): Promise<PlanChange[]> {
  const table = quoteQualified(options.stateSchema, QUERY_PLANS_TABLE);
  if (!(await relationExists(client, table))) return [];
  const { rows } = await client.query<{ query: string; phase: string; moment: PlanMoment; capturedAt: string; analyzed: boolean; plan: unknown; error: string | null }>(
    `SELECT "query", "phase", "moment", to_char("capturedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "capturedAt", "analyzed", "plan", "error"
     FROM ${table} ORDER BY "query", "capturedAt", "moment" DESC`,
  );
  const pairs = new Map<string, { query: string; phase: string; first: string; before: PlanSummary | null; after: PlanSummary | null }>();
  for (const row of rows) {
    const key = JSON.stringify([row.query, row.phase]);
    const pair = pairs.get(key) ?? { query: row.query, phase: row.phase, first: row.capturedAt, before: null, after: null };
    pair[row.moment] = summarizePlan(row.plan, { capturedAt: row.capturedAt, analyzed: row.analyzed, error: row.error });
    pairs.set(key, pair);
  }
  const order = (phase: string): number => {
    const i = options.phaseOrder?.indexOf(phase) ?? -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...pairs.values()]
    .sort((a, b) => (a.query < b.query ? -1 : a.query > b.query ? 1 : order(a.phase) - order(b.phase) || a.first.localeCompare(b.first)))
    .map((p) => comparePlans(p.query, p.phase, p.before, p.after));
}

/** Renders plan changes as the text `plans` prints. Pure. */
export function renderPlanChanges(changes: readonly PlanChange[]): string {
  if (changes.length === 0) return 'no plans captured yet: add watchQueries to the plan and run a phase';
  const cost = (s: PlanSummary | null): string => (s?.error ? `EXPLAIN failed: ${s.error}` : s ? `cost ${s.totalCost}, ${s.rows} rows${s.executionMs === null ? '' : `, ${s.executionMs.toFixed(2)} ms`}` : 'not captured');
  return changes
    .map((c) => {
      const lines = [`${c.query} / ${c.phase}: ${cost(c.before)} -> ${cost(c.after)}${c.costRatio === null ? '' : ` (cost x${c.costRatio})`}`];
      if (c.seqScansGone.length) lines.push(`  sequential scan gone: ${c.seqScansGone.join(', ')}`);
      if (c.seqScansAppeared.length) lines.push(`  sequential scan appeared: ${c.seqScansAppeared.join(', ')}`);
      if (c.indexesNew.length) lines.push(`  now uses: ${c.indexesNew.join(', ')}`);
      if (c.indexesGone.length) lines.push(`  no longer uses: ${c.indexesGone.join(', ')}`);
      return lines.join('\n');
    })
    .join('\n');
}
