import { identifierProblem } from '../sql.js';
import { literal, stepName } from './check-support.js';
import { zodForCandidate, type CandidateKey, type ColumnShape, type TableCandidate } from './json-shapes.js';

/**
 * The fix `analyze --fix` writes for a `json-should-be-table` finding: a child table for the list's elements, an
 * `extractJson` data step that fills it (the check's zod shapes, one per variant path; invalid documents
 * recorded as dead letters, never failing the run), its parity check, and a contract step that drops the JSON
 * column (backed up first, so a rollback puts it back). All of it is TypeScript source for the fix module.
 */

/** The parent's single-column primary key. */
export interface ParentKey {
  readonly name: string;
  /** Its SQL type as `format_type` spells it (`text`, `integer`, `uuid`, …). */
  readonly type: string;
}

/** What the fix writes, and the names it chose. */
export interface JsonFix {
  readonly childTable: string;
  readonly parentKey: string;
  /** Element key → child column. */
  readonly columns: readonly { readonly key: string; readonly column: string; readonly type: string; readonly nullable: boolean }[];
  readonly declarations: readonly string[];
  readonly steps: readonly string[];
  readonly contract: readonly string[];
}

const upperFirst = (text: string): string => (text.charAt(0).toUpperCase() ?? '') + text.slice(1);
const lowerFirst = (text: string): string => (text.charAt(0).toLowerCase() ?? '') + text.slice(1);
const snake = (table: string): boolean => /^[a-z0-9_]+$/.test(table);

/** The child table a fix creates for `table.column`: `TutorProfileAvailability` (or `tutor_profile_availability`). Pure. */
export function childTableName(table: string, column: string): string {
  return snake(table) ? `${table}_${column}` : `${table}${upperFirst(column)}`;
}

/** The child's column holding the parent's key: `tutorProfileId` (or `tutor_profile_id`). Pure. */
export function parentKeyColumn(table: string): string {
  return snake(table) ? `${table}_id` : `${lowerFirst(table)}Id`;
}

/**
 * The SQL type of an element key, as its sampled values allow: one JSON type maps to `TEXT`, `TIMESTAMPTZ` (every
 * string a zoned ISO timestamp), `INTEGER`/`BIGINT` (every number an integer), `NUMERIC` or `BOOLEAN`; anything
 * else (objects, arrays, several types) stays `JSONB`. Pure.
 */
export function sqlTypeForKey(key: CandidateKey): string {
  const known = key.types.filter((t) => t !== 'null');
  if (known.length !== 1) return 'JSONB';
  switch (known[0]) {
    case 'string':
      return key.formats.timestamp ? 'TIMESTAMPTZ' : 'TEXT';
    case 'number':
      return key.formats.integer ? (key.formats.int4 ? 'INTEGER' : 'BIGINT') : 'NUMERIC';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'JSONB';
  }
}

/** The child's columns: one per element key, renamed when it would take the id's or the parent key's name. Pure. */
function elementColumns(candidate: TableCandidate, parentKey: string, table: string): JsonFix['columns'] {
  const reserved = new Set(['id', parentKey]);
  const rename = (key: string): string => (snake(table) ? `element_${key}` : `element${upperFirst(key)}`);
  return candidate.keys
    .map((k) => ({ key: k.key, column: reserved.has(k.key) ? rename(k.key) : k.key, type: sqlTypeForKey(k), nullable: k.presence < 0.95 || k.types.includes('null') }))
    .filter((c) => identifierProblem(c.column) === undefined);
}

/** A TypeScript identifier for generated constants. Pure. */
const constName = (text: string): string => text.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_');

/** The `shapes` of the extraction: the bare list, or the list under each variant's key. Pure. */
function shapesSource(candidate: TableCandidate, element: string): string {
  return candidate.paths
    .map((path) => {
      if (path === '$') return `list: z.array(${element})`;
      const key = literal(path.slice(2));
      return `${key}: z.object({ ${key}: z.array(${element}) }).transform((doc) => doc[${key}])`;
    })
    .join(',\n    ');
}

/** Names one fix uses, shared by its pieces. */
interface FixNames {
  readonly shape: ColumnShape;
  readonly childTable: string;
  readonly parentKey: string;
  /** The generated constant holding the extraction's definition. */
  readonly base: string;
  /** `schema: "…", ` for a schema other than public, else empty. */
  readonly schema: string;
}

/** The `createTable` step of the child table: id, parent key (foreign key, index), one column per element key. Pure. */
function createTableStep(n: FixNames, parent: ParentKey, columns: JsonFix['columns']): string {
  const { shape, childTable, parentKey, schema } = n;
  return `schemaStep(${stepName(`${childTable}_table`)}, step(createTable, {
        ${schema}table: ${literal(childTable)},
        columns: [
          { name: 'id', type: 'TEXT' },
          { name: ${literal(parentKey)}, type: ${literal(parent.type.toUpperCase())}, nullable: false },
          ${columns.map((c) => `{ name: ${literal(c.column)}, type: ${literal(c.type)}${c.nullable ? '' : ', nullable: false'} },`).join('\n          ')}
        ],
        primaryKey: ['id'],
        indexes: [{ columns: [${literal(parentKey)}] }],
        foreignKeys: [{ columns: [${literal(parentKey)}], references: { table: ${literal(shape.table)}, columns: [${literal(parent.name)}] }, onDelete: 'CASCADE' }],
      }))`;
}

/** The `extractJson` data step (rolled back by `undoExtraction`) and its parity check. Pure. */
function extractionSteps(n: FixNames): [string, string] {
  const { shape, childTable, base } = n;
  const extract = `dataStep(
        ${stepName(`extract_${shape.table}_${shape.column}`)},
        async (context) => {
          const result = await extractJson({ ...${base}, database: context.databaseUrl, name: context.name, tracking: context.tracking, signal: context.signal, ...(context.onProgress ? { onProgress: context.onProgress } : {}) });
          return { processed: result.scanned, failed: result.invalid, canceled: result.status === 'canceled', summary: { children: result.children, invalid: result.invalid } };
        },
        {
          description: ${literal(`extract "${shape.table}"."${shape.column}" into "${childTable}"`)},
          down: async (context) => void (await undoExtraction({ database: context.databaseUrl, name: context.name, spec: ${base}, tracking: context.tracking })),
        },
      )`;
  const parity = `{
        kind: 'verify',
        name: ${stepName(`${childTable}_parity`)},
        async check(client) {
          const report = await verifyExtractionOn(client, ${base});
          return [{ name: ${literal(`"${childTable}" parity with "${shape.table}"."${shape.column}"`)}, ok: report.ok, detail: \`\${report.children} children of \${report.validDocuments} valid documents, \${report.invalidDocuments} invalid (dead letters), \${report.mismatchCount} mismatches\` }];
        },
      }`;
  return [extract, parity];
}

/**
 * The fix of one `json-should-be-table` finding (see the module comment). `parent` is the table's single-column
 * primary key. Deterministic for the same shape. Pure.
 */
export function jsonTableFix(shape: ColumnShape, candidate: TableCandidate, parent: ParentKey): JsonFix {
  const childTable = childTableName(shape.table, shape.column);
  const parentKey = parentKeyColumn(shape.table);
  const columns = elementColumns(candidate, parentKey, shape.table);
  const base = constName(`${shape.table}_${shape.column}`);
  const element = `${base}_element`;
  const schema = shape.schema === 'public' ? '' : `schema: ${literal(shape.schema)}, `;
  const declarations = [
    `/** The elements of "${shape.table}"."${shape.column}" (${candidate.paths.join(' | ')}), as the sample showed them. */
const ${element} = ${zodForCandidate(candidate)};
/** Where "${shape.table}"."${shape.column}" goes: one "${childTable}" row per element; documents no shape accepts are recorded (dead letters), not fatal. */
const ${base} = {
  source: { ${schema}table: ${literal(shape.table)}, column: ${literal(shape.column)} },
  target: { ${schema}table: ${literal(childTable)}, parentKey: ${literal(parentKey)}, idColumn: 'id' },
  shapes: {
    ${shapesSource(candidate, element)},
  },
  map: mapColumns((e: z.infer<typeof ${element}>) => ({ ${columns.map((c) => `${literal(c.column)}: e[${literal(c.key)}] ?? null`).join(', ')} }), [${columns.map((c) => literal(c.column)).join(', ')}]),
  onInvalid: 'record' as const,
};`,
  ];
  const names: FixNames = { shape, childTable, parentKey, base, schema };
  const drop = `schemaStep(${stepName(`drop_${shape.table}_${shape.column}`)}, step(dropColumn, { ${schema}table: ${literal(shape.table)}, column: ${literal(shape.column)} }))`;
  return { childTable, parentKey, columns, declarations, steps: [createTableStep(names, parent, columns), ...extractionSteps(names)], contract: [drop] };
}
