import { createHash } from 'node:crypto';
import { boundedName } from '../naming.js';
import { identifierProblem, quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { commentText, literal, objectKey, stepName } from './check-support.js';
import { pathSegments, zodForCandidate, type CandidateKey, type ColumnShape, type TableCandidate } from './json-shapes.js';

/**
 * The fix `analyze --fix` writes for a `json-should-be-table` finding: a child table for the list's elements, an
 * `extractJson` data step that fills it (the check's zod shapes, one per variant path; invalid documents
 * recorded as dead letters, never failing the run), its parity check, and a contract step that drops the JSON
 * column (backed up first, so a rollback puts it back), refused while the child table is empty although documents
 * hold elements ({@link unextractedGuard}). All of it is TypeScript source for the fix module: database-derived
 * names go only into string literals, and into comments through `commentText`.
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

/** The child table a fix creates for `table.column`: `TutorProfileAvailability` (or `tutor_profile_availability`), cut to 63 bytes (`boundedName`). Pure. */
export function childTableName(table: string, column: string): string {
  return boundedName(snake(table) ? `${table}_${column}` : `${table}${upperFirst(column)}`);
}

/** The child's column holding the parent's key: `tutorProfileId` (or `tutor_profile_id`), cut to 63 bytes. Pure. */
export function parentKeyColumn(table: string): string {
  return boundedName(snake(table) ? `${table}_id` : `${lowerFirst(table)}Id`);
}

/** The name of the extraction's data step (its tracking row is `phase:<phase>/<this>`), unquoted. Pure. */
export function extractionStepName(table: string, column: string): string {
  return JSON.parse(stepName(`extract_${table}_${column}`)) as string;
}

const sha8 = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8);

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

/**
 * The column of an element key that is no valid column name (empty, a control character, over 63 bytes): control
 * characters become `_`, an empty name `element`, and the name ends with 8 hex characters of the key's sha256, cut to
 * 63 bytes. Deterministic, and two keys never share a column. Pure.
 */
function validColumn(key: string): string {
  const cleaned = key.replace(/[\u0000-\u001f\u007f]/g, '_') || 'element';
  if (cleaned === key) return boundedName(key);
  return boundedName(`${cleaned}_${sha8(key)}`);
}

/**
 * The child's columns: one per element key, renamed when it would take the id's or the parent key's name, or is
 * no valid column name ({@link validColumn}); a name taken by an earlier key gets a numbered suffix. Every key
 * keeps a column, so nothing the shapes accept is dropped. Pure.
 */
function elementColumns(candidate: TableCandidate, parentKey: string, table: string): JsonFix['columns'] {
  const taken = new Set(['id', parentKey]);
  const rename = (key: string): string => (snake(table) ? `element_${key}` : `element${upperFirst(key)}`);
  return candidate.keys.map((k) => {
    const wanted = identifierProblem(k.key) === undefined ? (taken.has(k.key) ? rename(k.key) : k.key) : validColumn(k.key);
    let column = boundedName(wanted);
    for (let n = 2; taken.has(column); n += 1) column = boundedName(`${wanted}_${n}`);
    taken.add(column);
    return { key: k.key, column, type: sqlTypeForKey(k), nullable: k.presence < 0.95 || k.types.includes('null') };
  });
}

/** A TypeScript identifier for generated constants; a name that had to change ends with a hash of itself, so two never meet. Pure. */
const constName = (text: string): string => {
  const name = text.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_');
  return name === text ? name : `${name}_${sha8(text)}`;
};

/**
 * The `shapes` of the extraction (TypeScript source): the bare list, or one shape per variant path, nested objects
 * down to the list (`$.schedule.slots`: `z.object({ "schedule": z.object({ "slots": z.array(…) }) })`) transformed to
 * it. Keys are string literals. Pure.
 */
export function shapesSource(candidate: TableCandidate, element: string): string {
  return candidate.paths
    .map((path) => {
      const segments = pathSegments(path);
      if (segments.length === 0) return `list: z.array(${element})`;
      const shape = segments.reduceRight((inner, key) => `z.object({ ${objectKey(key)}: ${inner} })`, `z.array(${element})`);
      return `${literal(segments.join('.'))}: ${shape}.transform((doc) => doc${segments.map((key) => `[${literal(key)}]`).join('')})`;
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

/**
 * The SQL of the extraction's `remaining` guard, which the contract's drop of the JSON column carries (`requires`):
 * true while the child table is empty although a document holds a non-empty list at one of the shapes' paths. An
 * extraction whose shapes matched nothing (every document a dead letter) cannot have its column dropped, by `run`
 * or by a plain `prisma migrate deploy`; it reads only the two tables, so a shadow database (no data) passes. Pure.
 */
export function unextractedGuard(shape: ColumnShape, candidate: TableCandidate, childTable: string): string {
  const doc = `t.${quoteIdent(shape.column)}::jsonb`;
  const lists = candidate.paths.map((path) => {
    const segments = pathSegments(path);
    const at = segments.length === 0 ? doc : `(${doc} #> ARRAY[${segments.map(quoteLiteral).join(', ')}]::text[])`;
    return `(jsonb_typeof(${at}) = 'array' AND jsonb_array_length(${at}) > 0)`;
  });
  return `NOT EXISTS (SELECT 1 FROM ${quoteQualified(shape.schema, childTable)}) AND EXISTS (SELECT 1 FROM ${quoteQualified(shape.schema, shape.table)} t WHERE ${lists.join(' OR ')})`;
}

/** The `extractJson` data step (rolled back by `undoExtraction`) and its parity check. Pure. */
function extractionSteps(n: FixNames, guard: string): [string, string] {
  const { shape, childTable, base } = n;
  const extract = `dataStep(
        ${literal(extractionStepName(shape.table, shape.column))},
        async (context) => {
          const result = await extractJson({ ...${base}, database: context.databaseUrl, name: context.name, tracking: context.tracking, signal: context.signal, ...(context.onProgress ? { onProgress: context.onProgress } : {}) });
          return { processed: result.scanned, failed: result.invalid, canceled: result.status === 'canceled', summary: { children: result.children, invalid: result.invalid } };
        },
        {
          description: ${literal(`extract "${shape.table}"."${shape.column}" into "${childTable}"`)},
          down: async (context) => void (await undoExtraction({ database: context.databaseUrl, name: context.name, spec: ${base}, tracking: context.tracking })),
          // The contract's drop refuses while this holds: no child row although documents hold elements.
          remaining: ${literal(guard)},
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
    `/** ${commentText(`The elements of "${shape.table}"."${shape.column}" (${candidate.paths.join(' | ')}), as the sample showed them.`)} */
const ${element} = ${zodForCandidate(candidate)};
/** ${commentText(`Where "${shape.table}"."${shape.column}" goes: one "${childTable}" row per element; documents no shape accepts are recorded (dead letters), not fatal.`)} */
const ${base} = {
  source: { ${schema}table: ${literal(shape.table)}, column: ${literal(shape.column)} },
  target: { ${schema}table: ${literal(childTable)}, parentKey: ${literal(parentKey)}, idColumn: 'id' },
  shapes: {
    ${shapesSource(candidate, element)},
  },
  map: mapColumns((e: z.infer<typeof ${element}>) => ({ ${columns.map((c) => `${objectKey(c.column)}: e[${literal(c.key)}] ?? null`).join(', ')} }), [${columns.map((c) => literal(c.column)).join(', ')}]),
  onInvalid: 'record' as const,
};`,
  ];
  const names: FixNames = { shape, childTable, parentKey, base, schema };
  const drop = `schemaStep(${stepName(`drop_${shape.table}_${shape.column}`)}, step(dropColumn, { ${schema}table: ${literal(shape.table)}, column: ${literal(shape.column)} }), { requires: [\`\${EXPAND}/${extractionStepName(shape.table, shape.column)}\`] })`;
  return { childTable, parentKey, columns, declarations, steps: [createTableStep(names, parent, columns), ...extractionSteps(names, unextractedGuard(shape, candidate, childTable))], contract: [drop] };
}
