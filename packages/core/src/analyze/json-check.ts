import type pg from 'pg';
import { identifierProblem, quoteQualified } from '../sql.js';
import { commentText, literal, objectKey, USER_TABLES } from './check-support.js';
import { childTableName, extractionStepName, jsonTableFix, parentKeyColumn, shapesSource, type ParentKey } from './json-fix.js';
import { inferColumnShape, zodForCandidate, type ColumnShape } from './json-shapes.js';
import type { AnalyzeFinding, StaticCheck } from './static-checks.js';

/**
 * The JSON check of `analyze` (kind `runtime`: it samples data): for every json/jsonb column, the variants of its
 * documents and the arrays of objects inside them. A column whose most table-like list of objects is in half the
 * documents or more should be a table: the finding carries the element's zod schema and an `extractJson` call to
 * start from. A column of several object variants without such a list is reported as such, with the presence
 * of each key (a `shapes` set is what reads it).
 *
 * `--fix` writes the table, its extraction and the contract that drops the column (json-fix.ts). Once the child
 * table the fix names exists with a foreign key to the column's table and the extraction finished (its tracking row
 * `…/extract_<table>_<column>` is `completed`; with no such row, the child table holds rows), the column is reported
 * as `json-extracted` instead: what is left is the contract. A child table that exists before the extraction finished
 * (created, then the extraction failed or was canceled) keeps the finding and its steps. Variants get no steps:
 * which spelling wins is for the code reading them. Columns whose schema, table or column name is no valid
 * identifier (control characters, over 63 bytes) are left out: the toolkit cannot name them.
 */

/** What the fix needs to know about the column's table: its key, and the child table the fix would create. */
export interface JsonFixContext {
  /** The table's single-column primary key, or null (no extraction possible: it keys children by it). */
  readonly parent: ParentKey | null;
  /**
   * The child table the fix names: absent; present with a foreign key to this table and the extraction finished
   * (extracted) or not (created); or taken by a table that does not reference this one.
   */
  readonly child: 'absent' | 'created' | 'extracted' | 'taken';
}

const percent = (part: number, whole: number): string => `${Math.round((part / Math.max(1, whole)) * 100)} %`;

/** The top-level keys of a column's objects with the share of objects holding each, most present first. Pure. */
function keyPresence(shape: ColumnShape): string {
  const objects = shape.root.types['object'] ?? 0;
  return Object.entries(shape.root.keys)
    .sort(([, a], [, b]) => b.count - a.count)
    .map(([key, slot]) => `${key} ${percent(slot.count, objects)}`)
    .join(', ');
}

/** The `json-extracted` finding: the child table exists, the contract phase is what is left. Pure. */
function extractedFinding(shape: ColumnShape, location: AnalyzeFinding['prisma'], object: string): AnalyzeFinding {
  const child = childTableName(shape.table, shape.column);
  return {
    check: 'json-extracted',
    kind: 'runtime',
    severity: 'info',
    object,
    prisma: location,
    message: `"${shape.table}"."${shape.column}" has been extracted into "${child}" (it exists with a foreign key to "${shape.table}" and the extraction completed); drop the column in the contract phase (analyze_fixes_contract) once no code reads it`,
    fix: { prisma: `remove the field for "${shape.column}" from the model of "${shape.table}"`, steps: [] },
  };
}

/** The finding for one inferred column, or undefined when it is one plain variant. Pure. */
export function jsonFinding(shape: ColumnShape, location: AnalyzeFinding['prisma'], fixContext: JsonFixContext = { parent: null, child: 'absent' }): AnalyzeFinding | undefined {
  const variants = shape.variants.slice(0, 5).map((v) => `${v.signature} ${percent(v.documents, shape.sampled)}`).join(', ');
  const best = shape.candidates[0];
  const object = `${shape.schema}.${shape.table}.${shape.column}`;
  if (best && best.presence >= 0.5) {
    if (fixContext.child === 'extracted') return extractedFinding(shape, location, object);
    const child = childTableName(shape.table, shape.column);
    const zod = zodForCandidate(best);
    const fix = fixContext.parent && (fixContext.child === 'absent' || fixContext.child === 'created') ? jsonTableFix(shape, best, fixContext.parent) : undefined;
    const created = fixContext.child === 'created' ? ` ("${child}" exists, but its extraction has not completed: run the steps, or resume the phase)` : '';
    const why = fix ? '' : fixContext.parent ? ` (no steps: a table "${child}" exists already)` : ` (no steps: "${shape.table}" has no single-column primary key to key the children by)`;
    // Names go through string literals and comments through commentText: the keys come from the sampled documents.
    const columns = fix?.columns ?? best.keys.map((k) => ({ key: k.key, column: k.key }));
    const code = `const element = ${zod};
// ${commentText(`The variants seen: ${variants}. One shape per variant, each normalising its document to the list (${best.paths.join(', ')}).`)}
await extractJson({
  database: url,
  name: ${literal(`${shape.table}_${shape.column}`)},
  source: { ${shape.schema === 'public' ? '' : `schema: ${literal(shape.schema)}, `}table: ${literal(shape.table)}, column: ${literal(shape.column)} },
  target: { table: ${literal(child)}, parentKey: ${literal(parentKeyColumn(shape.table))} },
  shapes: { ${shapesSource(best, 'element').replace(/,\n {4}/g, ', ')} },
  map: mapColumns((e) => ({ ${columns.map((c) => `${objectKey(c.column)}: e[${literal(c.key)}]`).join(', ')} }), [${columns.map((c) => literal(c.column)).join(', ')}]),
  onInvalid: 'record',
});`;
    return {
      check: 'json-should-be-table',
      kind: 'runtime',
      severity: 'info',
      object,
      prisma: location,
      message: `"${shape.table}"."${shape.column}": ${shape.sampled} sampled documents in ${shape.variants.length} variant(s) (${variants}); ${best.paths.join(' | ')} ${best.paths.length > 1 ? 'are one list of objects (in as many variants), together' : 'is an array of objects'} in ${percent(best.presence * shape.sampled, shape.sampled)} of them, ${best.elementsPerDocument.toFixed(1)} per document, with keys ${best.keys.map((k) => `${k.key}${k.presence < 0.95 ? '?' : ''}`).join(', ')} (score ${best.score}): a table of its own${created}`,
      fix: {
        prisma: `a model ${child} { id, ${fix?.parentKey ?? 'parent key'}, ${columns.map((c) => c.column).join(', ')} } related to ${shape.table}`,
        steps: fix ? fix.steps : [`// extract "${shape.table}"."${shape.column}" by hand${why}`],
        ...(fix ? { declarations: fix.declarations, contract: fix.contract } : {}),
        code,
      },
    };
  }
  const objects = shape.variants.filter((v) => v.signature.startsWith('{'));
  if (objects.length > 1) {
    return {
      check: 'json-variants',
      kind: 'runtime',
      severity: 'info',
      object,
      prisma: location,
      message: `"${shape.table}"."${shape.column}": ${shape.sampled} sampled documents in ${shape.variants.length} variants (${variants}); keys of its objects: ${keyPresence(shape)}: code reading it must handle each. --fix writes no step: which spelling to keep, and whether any code still reads another, is yours to decide`,
      fix: null,
    };
  }
  return undefined;
}

/**
 * Whether the extraction `--fix` writes for `table.column` finished: its step's tracking row (`phase:<phase>/<step>`,
 * in any `DataMigration` table with `name` and `status`) is `completed`; with no such row (extracted another way),
 * whether `child` holds rows. Read-only.
 */
async function extractionFinished(client: pg.ClientBase, schema: string, table: string, column: string, child: string): Promise<boolean> {
  const { rows: trackers } = await client.query<{ relation: string }>(
    `select format('%I.%I', n.nspname, c.relname) as relation from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relname = 'DataMigration' and c.relkind in ('r', 'p')
       and (select count(*) from pg_attribute a where a.attrelid = c.oid and a.attname in ('name', 'status') and not a.attisdropped) = 2`,
  );
  const suffix = `/${extractionStepName(table, column)}`;
  const statuses: string[] = [];
  for (const { relation } of trackers) {
    const { rows } = await client.query<{ status: string }>(`select status::text as status from ${relation} where right(name, length($1)) = $1`, [suffix]);
    statuses.push(...rows.map((r) => r.status));
  }
  if (statuses.length > 0) return statuses.includes('completed');
  const { rows } = await client.query<{ filled: boolean }>(`select exists (select 1 from ${quoteQualified(schema, child)}) as filled`);
  return rows[0]?.filled ?? false;
}

/** The table's single-column primary key and the state of the child table the fix names (catalog reads, and the extraction's tracking row). */
async function fixContextOf(client: pg.ClientBase, schema: string, table: string, column: string): Promise<JsonFixContext> {
  const relation = quoteQualified(schema, table);
  const { rows: key } = await client.query<{ name: string; type: string }>(
    `select a.attname::text as name, format_type(a.atttypid, a.atttypmod) as type
     from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
     where i.indrelid = $1::regclass and i.indisprimary and i.indnatts = 1`,
    [relation],
  );
  const { rows: child } = await client.query<{ references: boolean }>(
    `select exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'f' and k.confrelid = $3::regclass) as references
     from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
    [schema, childTableName(table, column), relation],
  );
  const parent = key[0] ?? null;
  if (child.length === 0) return { parent, child: 'absent' };
  if (!child[0]?.references) return { parent, child: 'taken' };
  return { parent, child: (await extractionFinished(client, schema, table, column, childTableName(table, column))) ? 'extracted' : 'created' };
}

/** The JSON check over every json/jsonb column of the application's tables. */
export const jsonShapes: StaticCheck = {
  id: 'json-shapes',
  reports: ['json-should-be-table', 'json-variants', 'json-extracted'],
  severity: 'info',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; column: string }>(
      `select n.nspname::text as schema, c.relname::text as table, a.attname::text as column
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and a.attnum > 0 and not a.attisdropped and a.atttypid in ('json'::regtype, 'jsonb'::regtype) order by 1, 2, 3`,
    );
    const findings: AnalyzeFinding[] = [];
    for (const row of rows) {
      if ([row.schema, row.table, row.column].some((name) => identifierProblem(name) !== undefined)) continue;
      const shape = await inferColumnShape(context.client, row.schema, row.table, row.column);
      const finding = jsonFinding(shape, context.prisma?.columns.get(`${row.schema}.${row.table}.${row.column}`) ?? null, await fixContextOf(context.client, row.schema, row.table, row.column));
      if (finding) findings.push(finding);
    }
    return findings;
  },
};
