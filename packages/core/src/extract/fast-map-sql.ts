import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteLiteral } from '../sql.js';

/** A scalar a declarative column may produce. */
export type FastScalar = string | number | boolean;

/** How one child column is read from an element, declaratively (so it can run as SQL). */
export interface FastColumn {
  /** Keys to read, first present wins; `[]` reads the element itself (arrays of scalars). */
  readonly from: readonly string[];
  readonly type: 'int' | 'numeric' | 'text' | 'boolean';
  /** Case- and whitespace-insensitive lookup of string values (e.g. day names to numbers). */
  readonly lookup?: Readonly<Record<string, FastScalar>>;
  /** Used when the value is absent (missing or JSON null); a present but invalid value is an error. */
  readonly default?: FastScalar;
  /** Inclusive bounds for numbers. */
  readonly min?: number;
  readonly max?: number;
  /** POSIX regular expression a text value must match. */
  readonly pattern?: string;
}

/** A declarative mapping: where the element array is, and how each child column is read. */
export interface FastMap {
  /** Object keys under which the element array may be found; a bare array document is always accepted. */
  readonly arrays: readonly string[];
  readonly columns: Readonly<Record<string, FastColumn>>;
}

const JSON_TYPE: Record<FastColumn['type'], string> = { int: 'number', numeric: 'number', text: 'string', boolean: 'boolean' };

function literal(value: FastScalar): string {
  if (typeof value === 'string') return quoteLiteral(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (!Number.isFinite(value)) throw new InvalidArgumentError('fast map default', `${value} is not a finite number`);
  return String(value);
}

function sqlType(type: FastColumn['type']): string {
  return type === 'int' ? 'integer' : type === 'numeric' ? 'double precision' : type;
}

/**
 * SQL of one column over the element `el` (jsonb): the typed value, or NULL when it is absent without a
 * default or present but invalid (wrong JSON type, not in the lookup, out of range, not matching the
 * pattern). Pure.
 */
export function fastColumnSql(column: FastColumn): string {
  const raw = column.from.length === 0 ? 'el' : `COALESCE(${column.from.map((key) => `el -> ${quoteLiteral(key)}`).join(', ')})`;
  const text = `(${raw} #>> '{}')`;
  const type = sqlType(column.type);
  const direct =
    column.type === 'int'
      ? `CASE WHEN jsonb_typeof(${raw}) = 'number' AND ${text} ~ '^-?[0-9]+$' THEN ${text}::integer END`
      : `CASE WHEN jsonb_typeof(${raw}) = ${quoteLiteral(JSON_TYPE[column.type])} THEN ${text}::${type} END`;
  const lookup = column.lookup
    ? `CASE WHEN jsonb_typeof(${raw}) = 'string' THEN (SELECT x.v FROM (VALUES ${Object.entries(column.lookup)
        .map(([key, value]) => `(${quoteLiteral(key.trim().toLowerCase())}, ${literal(value)}::${type})`)
        .join(', ')}) x(k, v) WHERE x.k = lower(btrim(${text}))) END`
    : undefined;
  let typed = lookup ? `COALESCE(${direct}, ${lookup})` : direct;
  const checks: string[] = [];
  if (column.min !== undefined) checks.push(`(${typed}) >= ${column.min}`);
  if (column.max !== undefined) checks.push(`(${typed}) <= ${column.max}`);
  if (column.pattern !== undefined) checks.push(`(${typed}) ~ ${quoteLiteral(column.pattern)}`);
  if (checks.length > 0) typed = `CASE WHEN ${checks.join(' AND ')} THEN ${typed} END`;
  const absent = `(${raw} IS NULL OR jsonb_typeof(${raw}) = 'null')`;
  return `CASE WHEN ${absent} THEN ${column.default === undefined ? 'NULL' : `${literal(column.default)}::${type}`} ELSE ${typed} END`;
}

/** SQL turning the document `doc` into its element array, or NULL when it has none of the shapes. Pure. */
export function fastArraySql(map: FastMap): string {
  const keyed = map.arrays.map((key) => `WHEN jsonb_typeof(doc) = 'object' AND jsonb_typeof(doc -> ${quoteLiteral(key)}) = 'array' THEN doc -> ${quoteLiteral(key)}`);
  return `CASE WHEN doc IS NULL OR jsonb_typeof(doc) = 'null' THEN '[]'::jsonb WHEN jsonb_typeof(doc) = 'array' THEN doc ${keyed.join(' ')} END`;
}

/** Quoted column list of a fast map, in declaration order. Pure. */
export function fastColumns(map: FastMap): string[] {
  return Object.keys(map.columns).map(quoteIdent);
}
