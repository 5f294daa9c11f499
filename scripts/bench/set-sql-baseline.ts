/**
 * The set-SQL baseline of `pnpm bench extract-json`: one `INSERT … SELECT … FROM jsonb_array_elements(…)`
 * statement over the whole table, with the same validation rules as the availability shapes written as SQL
 * expressions. These builders were the toolkit's declarative "fast path" (`fast-map-sql.ts`), removed from
 * `@prisma-evolve/core` because it was slower than the validated path (docs/extraction.md); they live on
 * here unchanged, so the baseline statement and its figures stay comparable with earlier runs.
 */
import { quoteIdent, quoteLiteral } from '@prisma-evolve/core';
import { DAY_NUMBERS } from '../../prisma/legacy-shapes.js';


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

/**
 * A declarative mapping: where the element array is, and how each child column is read. Rules shared
 * with zod shapes that mirror it: of several keys, the first present one is read; JSON `null` counts as
 * absent; an object document uses the first array key it has.
 */
export interface FastMap {
  /** Object keys under which the element array may be found; a bare array document is always accepted. */
  readonly arrays: readonly string[];
  readonly columns: Readonly<Record<string, FastColumn>>;
}

const JSON_TYPE: Record<FastColumn['type'], string> = { int: 'number', numeric: 'number', text: 'string', boolean: 'boolean' };

function literal(value: FastScalar): string {
  if (typeof value === 'string') return quoteLiteral(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (!Number.isFinite(value)) throw new Error(`${value} is not a finite number`);
  return String(value);
}

function sqlType(type: FastColumn['type']): string {
  return type === 'int' ? 'integer' : type === 'numeric' ? 'double precision' : type;
}

/**
 * SQL of one column over the element `el` (jsonb), in three stages so each is computed once per element:
 * `raw` reads the value (first present key), `typed` converts `r<i>` (NULL when the JSON type is wrong or
 * the string is not in the lookup), `final` applies bounds, pattern and default to `t<i>`/`r<i>`. The
 * result is NULL when the value is absent without a default or present but invalid. Pure.
 */
function fastColumnStages(column: FastColumn, i: number): { raw: string; typed: string; final: string; present: string } {
  const raw = column.from.length === 0 ? 'el' : column.from.length === 1 ? `el -> ${quoteLiteral(column.from[0] as string)}` : `COALESCE(${column.from.map((key) => `el -> ${quoteLiteral(key)}`).join(', ')})`;
  const r = `r${i}`;
  const t = `t${i}`;
  const text = `(${r} #>> '{}')`;
  const type = sqlType(column.type);
  // Numbers go through numeric, so a value out of the target type's range is invalid instead of an error
  // that would abort the batch; 1.0 counts as the integer 1, as it does in JavaScript.
  const number = `(${text})::numeric`;
  const direct =
    column.type === 'int'
      ? `CASE WHEN jsonb_typeof(${r}) = 'number' AND ${number} = trunc(${number}) AND ${number} BETWEEN -2147483648 AND 2147483647 THEN ${number}::integer END`
      : column.type === 'numeric'
        ? `CASE WHEN jsonb_typeof(${r}) = 'number' AND abs(${number}) <= 1e308 THEN ${number}::double precision END`
        : `CASE WHEN jsonb_typeof(${r}) = ${quoteLiteral(JSON_TYPE[column.type])} THEN ${text}::${type} END`;
  const lookup = column.lookup
    ? `CASE WHEN jsonb_typeof(${r}) = 'string' THEN CASE lower(regexp_replace(${text}, '^[[:space:]]+|[[:space:]]+$', '', 'g')) ${Object.entries(column.lookup)
        .map(([key, value]) => `WHEN ${quoteLiteral(key.trim().toLowerCase())} THEN ${literal(value)}::${type}`)
        .join(' ')} END END`
    : undefined;
  const typed = lookup ? `COALESCE(${direct}, ${lookup})` : direct;
  const checks: string[] = [];
  if (column.min !== undefined) checks.push(`${t} >= ${column.min}`);
  if (column.max !== undefined) checks.push(`${t} <= ${column.max}`);
  if (column.pattern !== undefined) checks.push(`${t} ~ ${quoteLiteral(column.pattern)}`);
  const checked = checks.length > 0 ? `CASE WHEN ${checks.join(' AND ')} THEN ${t} END` : t;
  const absent = `(${r} IS NULL OR jsonb_typeof(${r}) = 'null')`;
  const final = `CASE WHEN ${absent} THEN ${column.default === undefined ? 'NULL' : `${literal(column.default)}::${type}`} ELSE ${checked} END`;
  return { raw, typed, final, present: `NOT ${absent}` };
}

/**
 * A SELECT over `elements` (a relation with `pk`, `ord`, `el`) giving `pk`, `ord`, `el`, and per mapped
 * column `c<i>` (its value, NULL when invalid or absent without default) and `p<i>` (whether the element
 * has it), each computed once per element. Pure.
 */
export function fastMappedSql(map: FastMap, elements: string): string {
  const stages = Object.values(map.columns).map((column, i) => fastColumnStages(column, i));
  const raw = stages.map((stage, i) => `${stage.raw} as r${i}`).join(', ');
  const typed = stages.map((stage, i) => `r${i}, ${stage.typed} as t${i}`).join(', ');
  const final = stages.map((stage, i) => `${stage.final} as ${quoteIdent(`c${i}`)}, ${stage.present} as ${quoteIdent(`p${i}`)}`).join(', ');
  return `select pk, ord, el, ${final} from (select pk, ord, el, ${typed} from (select pk, ord, el, ${raw} from ${elements}) raw_values) typed_values`;
}

/** SQL turning the document `doc` into its element array, or NULL when it has none of the shapes. Pure. */
export function fastArraySql(map: FastMap): string {
  const keyed = map.arrays.map((key) => `WHEN jsonb_typeof(doc) = 'object' AND jsonb_typeof(doc -> ${quoteLiteral(key)}) = 'array' THEN doc -> ${quoteLiteral(key)}`);
  return `CASE WHEN doc IS NULL OR jsonb_typeof(doc) = 'null' THEN '[]'::jsonb WHEN jsonb_typeof(doc) = 'array' THEN doc ${keyed.join(' ')} END`;
}

/** Seed 003's availability rules, declaratively (the same documents `availabilityShapes` accepts). */
export const availabilitySql: FastMap = {
  arrays: ['slots', 'weekly'],
  columns: {
    dayOfWeek: { from: ['dayOfWeek', 'day'], type: 'int', lookup: DAY_NUMBERS, min: 0, max: 6 },
    startTime: { from: ['start', 'startTime'], type: 'text', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
    endTime: { from: ['end', 'endTime'], type: 'text', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
    isRecurring: { from: ['recurring'], type: 'boolean', default: true },
    timezone: { from: ['timezone'], type: 'text', default: 'Australia/Sydney' },
  },
};

/**
 * The single-statement limit into `table`: the same safe expressions, no batching, no dead letters, no
 * ledger, bad elements dropped.
 */
export function setSqlStatement(table: string): string {
  const names = Object.keys(availabilitySql.columns);
  const elements = `(select p.id as pk, e.ord, e.el from (select id, availability as doc from bench_profile) p
      cross join lateral jsonb_array_elements(coalesce(${fastArraySql(availabilitySql).replaceAll('doc', 'p.doc')}, '[]'::jsonb)) with ordinality e(el, ord)) elements`;
  return `insert into ${table} ("id", "profileId", ${names.map(quoteIdent).join(', ')})
    select md5(m.pk || ':' || m.ord), m.pk, ${names.map((_, i) => `m.${quoteIdent(`c${i}`)}`).join(', ')}
    from (${fastMappedSql(availabilitySql, elements)}) m
    where ${names.map((_, i) => `m.${quoteIdent(`c${i}`)} is not null`).join(' and ')}`;
}
