import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../sql.js';
import { objectKey } from './check-support.js';

/**
 * JSON shape inference for `analyze`: samples each json/jsonb column (bounded: at most `sample` documents,
 * `TABLESAMPLE SYSTEM` on large tables), infers the variants of its documents (their top-level keys, or "array"),
 * the keys, types and presence of its objects, and the arrays of objects inside, and ranks the columns that
 * should be a table. For each candidate it writes the zod shapes and an `extractJson` call to start from.
 */

/** What is known about the values at one place of the documents. */
export interface ValueShape {
  /** How many values were seen here, by JSON type (`object`, `array`, `string`, `number`, `boolean`, `null`). */
  readonly types: Record<string, number>;
  /** For objects: each key, in how many of the objects, and its values' shape. */
  readonly keys: Record<string, { count: number; shape: ValueShape }>;
  /** For arrays: the shape of their elements, and how many elements in all. */
  readonly elements: ValueShape | undefined;
  elementCount: number;
  /** Of the numbers: how many are integers, and how many of those fit a 4-byte `integer`; of the strings, how many are timestamps with a zone. */
  readonly formats: { integer: number; int4: number; timestamp: number };
}

/** A column's inferred shape. */
export interface ColumnShape {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly sampled: number;
  /** Variants by signature (`{a, b}` for an object's keys, `array`, `string`, …), most frequent first, with their share. */
  readonly variants: readonly { readonly signature: string; readonly documents: number }[];
  readonly root: ValueShape;
  /** The arrays of objects inside (path `$`, `$.slots`, `$.weekly`), each with its element keys: table candidates. */
  readonly candidates: readonly TableCandidate[];
}

/** An array of objects that could be a table of its own (one list, found at one or more paths: the variants). */
export interface TableCandidate {
  /** Where the list is, per variant (`$` for a bare array, `$.slots`, `$.schedule.slots`; a key that is not a plain name as `$["a.b"]`: {@link pathSegments}). */
  readonly paths: readonly string[];
  /** Share of the sampled documents holding it (0–1). */
  readonly presence: number;
  readonly elementsPerDocument: number;
  /** Element keys with their presence among elements (0–1), JSON types and the formats every value had. */
  readonly keys: readonly CandidateKey[];
  /** presence × (½ + ½ key consistency, the share of element keys always present), 0–1: higher, more table-like. */
  readonly score: number;
  /** Elements seen (for merging). */
  readonly elements: number;
}

/** One key of a list's elements. */
export interface CandidateKey {
  readonly key: string;
  readonly presence: number;
  readonly types: readonly string[];
  /** Every number seen is an integer (`int4`: and fits a 4-byte integer); every string is an ISO timestamp with a zone. */
  readonly formats: { readonly integer: boolean; readonly int4: boolean; readonly timestamp: boolean };
}

const emptyShape = (): ValueShape => ({ types: {}, keys: {}, elements: undefined, elementCount: 0, formats: { integer: 0, int4: 0, timestamp: 0 } });

/** An ISO 8601 date and time with a zone (`Z` or an offset): what `timestamptz` reads without guessing. */
export const TIMESTAMP_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

/** The formats every value of a shape had (vacuously true with no value of that type). Pure. */
function formatsOf(shape: ValueShape): CandidateKey['formats'] {
  const numbers = shape.types['number'] ?? 0;
  return { integer: shape.formats.integer === numbers, int4: shape.formats.int4 === numbers, timestamp: shape.formats.timestamp === (shape.types['string'] ?? 0) };
}

/** Adds a value to a shape. */
function observe(shape: ValueShape, value: unknown): void {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  shape.types[type] = (shape.types[type] ?? 0) + 1;
  if (typeof value === 'number' && Number.isInteger(value)) {
    shape.formats.integer += 1;
    if (Math.abs(value) <= 2_147_483_647) shape.formats.int4 += 1;
  }
  if (typeof value === 'string' && TIMESTAMP_WITH_ZONE.test(value) && !Number.isNaN(Date.parse(value))) shape.formats.timestamp += 1;
  if (Array.isArray(value)) {
    const elements = shape.elements ?? emptyShape();
    (shape as { elements: ValueShape }).elements = elements;
    shape.elementCount += value.length;
    for (const element of value) observe(elements, element);
  } else if (type === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      const slot = (shape.keys[key] ??= { count: 0, shape: emptyShape() });
      slot.count += 1;
      observe(slot.shape, inner);
    }
  }
}

/** The variant of a document: its sorted top-level keys, or its JSON type. Pure. */
function signature(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return `{${Object.keys(value).sort().join(', ')}}`;
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** The table-likeness of a list: how often it is there, and how consistent its elements' keys are. Pure. */
function score(presence: number, keys: TableCandidate['keys']): number {
  const consistent = keys.length === 0 ? 0 : keys.filter((k) => k.presence >= 0.95).length / keys.length;
  return Math.round(Math.min(1, presence) * (0.5 + 0.5 * consistent) * 100) / 100;
}

/**
 * Lists at different paths whose elements share most keys (Jaccard ≥ ½) are one list in different variants
 * (`[…]`, `{slots: […]}`, `{weekly: […]}`): merged, their presences add up and their keys are counted over all
 * elements. Pure.
 */
function mergeVariants(candidates: readonly TableCandidate[]): TableCandidate[] {
  const groups: TableCandidate[][] = [];
  const keySet = (group: readonly TableCandidate[]): Set<string> => new Set(group.flatMap((c) => c.keys.map((k) => k.key)));
  for (const candidate of [...candidates].sort((a, b) => b.presence - a.presence)) {
    const own = new Set(candidate.keys.map((k) => k.key));
    const group = groups.find((g) => {
      const theirs = keySet(g);
      const shared = [...own].filter((k) => theirs.has(k)).length;
      return shared / new Set([...own, ...theirs]).size >= 0.5;
    });
    if (group) group.push(candidate);
    else groups.push([candidate]);
  }
  return groups.map((group) => {
    if (group.length === 1) return group[0] as TableCandidate;
    const elements = group.reduce((sum, c) => sum + c.elements, 0);
    const keys = [...keySet(group)]
      .map((key) => {
        const inGroup = group.map((c) => ({ c, k: c.keys.find((k) => k.key === key) }));
        const presence = inGroup.reduce((sum, { c, k }) => sum + (k ? k.presence * c.elements : 0), 0) / Math.max(1, elements);
        const formats = inGroup.flatMap(({ k }) => (k ? [k.formats] : []));
        const all = (name: keyof CandidateKey['formats']): boolean => formats.every((f) => f[name]);
        return { key, presence, types: [...new Set(inGroup.flatMap(({ k }) => k?.types ?? []))].sort(), formats: { integer: all('integer'), int4: all('int4'), timestamp: all('timestamp') } };
      })
      .sort((a, b) => b.presence - a.presence || (a.key < b.key ? -1 : 1));
    const presence = Math.min(1, group.reduce((sum, c) => sum + c.presence, 0));
    const documents = group.reduce((sum, c) => sum + (c.elementsPerDocument ? c.elements / c.elementsPerDocument : 0), 0);
    return { paths: group.flatMap((c) => c.paths), presence, elementsPerDocument: documents ? elements / documents : 0, keys, score: score(presence, keys), elements };
  });
}

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;

/** The path of `key` under `path`: `$.slots` for a plain key, `$["a.b"]` (a JSON string) for any other. Pure. */
export function childPath(path: string, key: string): string {
  return PLAIN_KEY.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * The keys of a candidate's path, outermost first: `$` → `[]`, `$.schedule.slots` → `["schedule", "slots"]`,
 * `$["a.b"].c` → `["a.b", "c"]` (what {@link childPath} writes). Pure.
 */
export function pathSegments(path: string): string[] {
  if (!path.startsWith('$')) throw new Error(`not a candidate path: ${path}`);
  const segments: string[] = [];
  const token = /\.([A-Za-z_$][\w$]*)|\[("(?:[^"\\]|\\.)*")\]/y;
  token.lastIndex = 1;
  while (token.lastIndex < path.length) {
    const at = token.lastIndex;
    const match = token.exec(path);
    if (!match) throw new Error(`not a candidate path at ${at}: ${path}`);
    segments.push(match[1] ?? (JSON.parse(match[2] as string) as string));
  }
  return segments;
}

/** Arrays of objects at `shape` and below, as candidates (paths `$`, `$.key`, `$.key[]` for nested). Pure. */
function findCandidates(shape: ValueShape, path: string, documents: number, out: TableCandidate[] = []): TableCandidate[] {
  const elements = shape.elements;
  const objects = elements?.types['object'] ?? 0;
  if (elements && objects > 0) {
    const keys = Object.entries(elements.keys)
      .map(([key, slot]): CandidateKey => ({ key, presence: slot.count / objects, types: Object.keys(slot.shape.types).sort(), formats: formatsOf(slot.shape) }))
      .sort((a, b) => b.presence - a.presence || (a.key < b.key ? -1 : 1));
    const arrays = shape.types['array'] ?? 0;
    const presence = arrays / documents;
    out.push({ paths: [path], presence, elementsPerDocument: arrays ? shape.elementCount / arrays : 0, keys, score: score(presence, keys), elements: objects });
  }
  for (const [key, slot] of Object.entries(shape.keys)) findCandidates(slot.shape, childPath(path, key), documents, out);
  // Lists nested inside list elements are left out: their presence would count arrays per element, not per document.
  return out;
}

/**
 * Samples and infers the shape of one json/jsonb column (read-only; one query, at most `sample` documents:
 * `TABLESAMPLE SYSTEM` when the table's row estimate is over ten times that).
 */
export async function inferColumnShape(client: pg.ClientBase, schema: string, table: string, column: string, sample = 2000): Promise<ColumnShape> {
  const relation = quoteQualified(schema, table);
  const { rows: estimate } = await client.query<{ rows: number }>(`select greatest(reltuples, 0)::float8 as rows from pg_class where oid = $1::regclass`, [relation]);
  const rows = estimate[0]?.rows ?? 0;
  const tablesample = rows > sample * 10 ? ` tablesample system (${Math.min(100, Math.max(0.01, ((sample * 3) / rows) * 100)).toFixed(4)})` : '';
  const { rows: docs } = await client.query<{ doc: unknown }>(`select ${quoteIdent(column)}::jsonb as doc from ${relation}${tablesample} where ${quoteIdent(column)} is not null limit ${Math.trunc(sample)}`);
  const root = emptyShape();
  const variants = new Map<string, number>();
  for (const { doc } of docs) {
    observe(root, doc);
    const key = signature(doc);
    variants.set(key, (variants.get(key) ?? 0) + 1);
  }
  return {
    schema,
    table,
    column,
    sampled: docs.length,
    variants: [...variants].map(([sig, documents]) => ({ signature: sig, documents })).sort((a, b) => b.documents - a.documents),
    root,
    candidates: docs.length ? mergeVariants(findCandidates(root, '$', docs.length)).sort((a, b) => b.score - a.score) : [],
  };
}

/**
 * A zod schema (TypeScript source) for the elements of a candidate: keys present in 95 % or more required;
 * numbers that were all integers must be integers (of 4 bytes when they all fit), strings that were all zoned
 * timestamps must be, so a value the sample did not show fails validation (a dead letter) instead of the column's
 * cast. Pure.
 */
export function zodForCandidate(candidate: TableCandidate): string {
  const zodType = (k: CandidateKey): string => {
    const number = k.formats.integer ? (k.formats.int4 ? 'z.number().int().min(-2147483648).max(2147483647)' : 'z.number().int()') : 'z.number()';
    const string = k.formats.timestamp && k.types.includes('string') ? `z.string().regex(${TIMESTAMP_WITH_ZONE.toString()})` : 'z.string()';
    const known = k.types.filter((t) => t !== 'null').map((t) => ({ string, number, boolean: 'z.boolean()', object: 'z.record(z.string(), z.unknown())', array: 'z.array(z.unknown())' })[t] ?? 'z.unknown()');
    const base = known.length === 0 ? 'z.null()' : known.length === 1 ? (known[0] as string) : `z.union([${known.join(', ')}])`;
    return k.types.includes('null') && known.length > 0 ? `${base}.nullable()` : base;
  };
  const fields = candidate.keys.map((k) => `  ${PLAIN_KEY.test(k.key) && k.key !== '__proto__' ? k.key : objectKey(k.key)}: ${zodType(k)}${k.presence >= 0.95 ? '' : '.optional()'},`);
  return `z.object({\n${fields.join('\n')}\n})`;
}
