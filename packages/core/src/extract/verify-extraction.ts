import type pg from 'pg';
import { withClient } from '../db/with-client.js';
import { quoteIdent } from '../sql.js';
import { parseDocument } from './document-parser.js';
import { connectionString, resolve, type ExtractDefinition, type ExtractJsonOptions, type ExtractWithShapes } from './extract-json.js';
import type { ExtractPlan } from './extract-plan.js';

/** Per-parent parity of an extraction. */
export interface ExtractionReport {
  readonly parents: number;
  /** Parents whose document was valid (or empty). */
  readonly validDocuments: number;
  readonly invalidDocuments: number;
  /** Children the valid documents should have (after `distinctOn`). */
  readonly expectedChildren: number;
  readonly children: number;
  /** Parents whose child count differs, with both counts (at most 10). */
  readonly mismatches: readonly { readonly key: string; readonly expected: number; readonly actual: number }[];
  readonly mismatchCount: number;
  readonly ok: boolean;
}

/**
 * Checks an extraction parent by parent. It re-parses every document the way the extraction does and
 * compares the number of valid elements with the child rows of that parent. Read-only (no locks beyond
 * ACCESS SHARE); pages through the parents by key.
 */
export async function verifyExtraction<Element>(options: ExtractJsonOptions<Element>): Promise<ExtractionReport> {
  return withClient(connectionString(options.database), (client) => verifyExtractionOn(client, options));
}

/** {@link verifyExtraction} on a connection you hold (e.g. in a plan's verify step). Read-only. */
export async function verifyExtractionOn<Element>(client: pg.ClientBase, options: ExtractDefinition<Element>): Promise<ExtractionReport> {
  const { plan } = await resolve(client, options as ExtractDefinition<unknown>, 'verify');
  const key = quoteIdent(plan.source.key.name);
  const totals: Totals = { parents: 0, valid: 0, invalid: 0, expected: 0, children: 0, mismatchCount: 0, mismatches: [] };
  let after: string | null = null;
  for (;;) {
    const { rows }: pg.QueryResult<{ k: string; doc: unknown }> = await client.query<{ k: string; doc: unknown }>(
      `select t.${key}::text as k, t.${quoteIdent(plan.source.column)} as doc from ${plan.source.table} t
       where (${plan.source.where}) ${after === null ? '' : `and t.${key} > $1::${plan.source.key.type}`} order by t.${key} limit 5000`,
      after === null ? [] : [after],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.k ?? null;
    const expected = new Map(rows.map((row) => [row.k, expectedCount(parseDocument(row.doc, options.shapes), options, row.k)]));
    await comparePage(client, plan, expected, totals);
  }
  return {
    parents: totals.parents,
    validDocuments: totals.valid,
    invalidDocuments: totals.invalid,
    expectedChildren: totals.expected,
    children: totals.children,
    mismatches: totals.mismatches,
    mismatchCount: totals.mismatchCount,
    ok: totals.mismatchCount === 0,
  };
}

/** Running totals of a verification. */
interface Totals {
  parents: number;
  valid: number;
  invalid: number;
  expected: number;
  children: number;
  mismatchCount: number;
  readonly mismatches: { key: string; expected: number; actual: number }[];
}

/** Counts the child rows of one page of parents and adds the page to `totals` (`expected` -1: invalid document). Read-only. */
async function comparePage(client: pg.ClientBase, plan: ExtractPlan, expected: ReadonlyMap<string, number>, totals: Totals): Promise<void> {
  const parent = quoteIdent(plan.target.parentKey);
  const keys = [...expected.keys()];
  const { rows } = await client.query<{ k: string; n: number }>(
    `select ${parent}::text as k, count(*)::int as n from ${plan.target.table} where ${parent} = any($1::${plan.source.key.type}[]) group by 1`,
    [keys],
  );
  const counts = new Map(rows.map((row) => [row.k, row.n]));
  const record = (k: string, want: number, got: number): void => {
    totals.mismatchCount += 1;
    if (totals.mismatches.length < 10) totals.mismatches.push({ key: k, expected: want, actual: got });
  };
  for (const k of keys) {
    const want = expected.get(k) ?? 0;
    const got = counts.get(k) ?? 0;
    totals.parents += 1;
    totals.children += got;
    if (want < 0) {
      totals.invalid += 1;
      if (got !== 0) record(k, 0, got);
      continue;
    }
    totals.valid += 1;
    totals.expected += want;
    if (want !== got) record(k, want, got);
  }
}

/** Expected children of one parsed document; -1 for an invalid one. */
function expectedCount<Element>(parsed: ReturnType<typeof parseDocument<Element>>, options: ExtractWithShapes<Element>, key: string): number {
  if (parsed.kind === 'invalid') return -1;
  if (parsed.kind === 'empty') return 0;
  const distinctOn = options.target.distinctOn ?? [];
  if (distinctOn.length === 0) return parsed.elements.length;
  const seen = new Set(parsed.elements.map((element) => JSON.stringify(distinctOn.map((column) => options.map(element, { key, row: {} })[column] ?? null))));
  return seen.size;
}
