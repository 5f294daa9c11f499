import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';
import { sqlExpression, type SqlExpression } from '../extract/dedupe.js';
import { identifierSchema, quoteIdent, quoteLiteral } from '../sql.js';
import { parseOptions } from '../backfill/backfill-options.js';

/**
 * The copy plan: which target tables are filled from which source rows, and how each target column is
 * computed. Source expressions are SQL over the source row (alias `s`), evaluated in the source database;
 * references (`ref`) are old keys, rewritten to the referenced table's new ids in the target through the id map.
 */

/** A target column's value: an SQL expression over the source row, or a reference through the id map. */
export type CopyColumn =
  | { readonly kind: 'expr'; readonly sql: SqlExpression }
  | { readonly kind: 'ref'; readonly entry: string; readonly sql: SqlExpression; readonly deferred?: boolean };

/** The source column `name` as it is. Pure. */
export function col(name: string): CopyColumn {
  return { kind: 'expr', sql: sqlExpression(`s.${quoteIdent(name)}`) };
}

/** A raw SQL expression over the source row `s` (`lower(s.email)`), used as written. Pure. */
export function expr(sql: string): CopyColumn {
  return { kind: 'expr', sql: sqlExpression(sql) };
}

/**
 * A reference to a row of the plan entry `entry`: `source` is the old key (a source column name, or an
 * expression over `s`); the target gets that row's new id from the id map. A key the map does not hold is a
 * dead letter, never a silent NULL; a NULL key stays NULL.
 * `deferred: true` breaks a cycle of references (users ↔ organizations, or a tree whose parents may come after
 * their children): the column is left NULL when the row is copied, its old key kept in `_evolve.copy_deferred`,
 * and set through the id map once both entries are copied (the second pass). The target column must allow NULL;
 * a key the map does not hold then stays listed there and fails validation, naming it. Pure.
 */
export function ref(entry: string, source: string | SqlExpression, options: { readonly deferred?: boolean } = {}): CopyColumn {
  const sql = /^[A-Za-z_][A-Za-z0-9_$]*$/.test(source) ? sqlExpression(`s.${quoteIdent(source)}`) : sqlExpression(source);
  return { kind: 'ref', entry, sql, ...(options.deferred ? { deferred: true } : {}) };
}

/**
 * One JSON object from columns per language (`{ az: 'name_az', ru: 'name_ru', en: 'name_en' }` →
 * `{"az": …, "ru": …, "en": …}`), languages without a value left out; NULL when none has one. Pure.
 */
export function multilingual(columns: Readonly<Record<string, string>>): CopyColumn {
  const entries = Object.entries(columns);
  if (entries.length === 0) throw new InvalidArgumentError('multilingual', 'name at least one language column');
  const pairs = entries.map(([language, column]) => `${quoteLiteral(language)}, nullif(btrim(s.${quoteIdent(column)}::text), '')`).join(', ');
  return expr(`nullif(jsonb_strip_nulls(jsonb_build_object(${pairs})), '{}'::jsonb)`);
}

const rawSql = z.string().trim().min(1) as unknown as z.ZodType<SqlExpression>;
const columnSchema = z.union([
  z.object({ kind: z.literal('expr'), sql: rawSql }),
  z.object({ kind: z.literal('ref'), entry: z.string().min(1), sql: rawSql, deferred: z.boolean().optional() }),
]);

const tableSpec = z.object({
  /** Target table (default: the entry's name); two entries may fill one table (a merge). */
  table: identifierSchema.optional(),
  schema: identifierSchema.default('public'),
  /** Source table (`users`, `edu.users`) or a query (`sqlExpression('select …')`), read as subquery `s`. */
  from: z.string().trim().min(1),
  /** The source key: unique over `from`, orderable; batches are ranges of it. */
  key: identifierSchema,
  /** The target id column and how it is filled: `uuid` (new, recorded in the id map) or `keep` (the source key). `false`: no id (a link table). */
  id: z.union([z.literal(false), z.object({ column: identifierSchema.default('id'), generate: z.enum(['uuid', 'keep']).default('keep') })]).default({ column: 'id', generate: 'keep' }),
  /** Target column → source column name, or `col`/`expr`/`ref`/`multilingual`. Not with `map`. */
  columns: z.record(z.string(), z.union([identifierSchema, columnSchema])).default({}),
  /**
   * A TypeScript transform instead of `columns`: called with each source row (`select *` of `from`; integers
   * as numbers, bigint, numeric, dates and timestamps as their text, json as values), it returns the target
   * columns named in `produces` (a missing one is NULL). It must be deterministic: validation maps the rows
   * again. A row it throws on becomes a dead letter with the error.
   */
  map: z.custom<CopyMap>((value) => typeof value === 'function', 'must be a function (row) => ({ column: value, … })').optional(),
  /** The target columns `map` returns (with `map`). */
  produces: z.array(identifierSchema).default([]),
  /** Columns `map` returns that hold an old key of another entry (column → entry), resolved through its id map. */
  refs: z.record(z.string(), z.string().min(1)).default({}),
  /** Rows with equal values of these expressions collapse into the first copied; their ids map to it. */
  dedupe: z.object({ by: z.array(rawSql).min(1) }).optional(),
  /** Source rows to leave out: they are recorded as dead letters ("filtered"), so counts still add up. */
  where: rawSql.optional(),
  /** Runs with `--phase N`; entries without a phase run in every phase. */
  phase: z.number().int().positive().optional(),
  /** The copy fails when this entry's dead letters exceed this many (default: no limit, reported). */
  maxDeadLetters: z.number().int().nonnegative().optional(),
  /**
   * How `copy catch-up` finds the source rows written since a range was copied: `changedSince` names a source
   * column (or an SQL expression over `s`) holding each row's last write time (`updated_at`, Prisma's
   * `@updatedAt`). Without it, catch-up compares every row of every range by key.
   */
  catchUp: z.object({ changedSince: z.string().trim().min(1) }).optional(),
});

const copySpec = z.object({
  name: z.string().trim().min(1),
  /** Source database URL (default: `SOURCE_DATABASE_URL`; the CLI's `--source-url` wins). */
  source: z.string().optional(),
  /** Target database URL (default: `DATABASE_URL`). */
  target: z.string().optional(),
  batchSize: z.number().int().positive().default(10_000),
  tables: z.record(z.string().min(1), tableSpec).refine((tables) => Object.keys(tables).length > 0, 'name at least one table'),
});

/**
 * An entry typed by its target model, with the generated Prisma client's create input
 * (`copyTable<Prisma.GradeUncheckedCreateInput>()({ … })`): `columns`, `produces` and `refs` may only name the
 * model's fields, and `map` may only return them (an extra or misspelt key in its result is a compile error,
 * whatever else it returns). The names are the model's field names: they are the table's column names unless the
 * schema maps a field (`@map`), which the generated types do not show (the run-time check against the target
 * catalog still names any column that is missing). What the types cannot see is checked when the plan is
 * defined: the id column listed in `columns`, a map result outside `produces` and `refs` (a dead letter). Identity
 * at run time. Pure.
 */
export function copyTable<Model extends object>(): <Result extends object = ModelFields<Model>>(spec: TypedCopyTableSpec<Model, Result>) => CopyTableSpec {
  return (spec) => spec as CopyTableSpec;
}

/** Any subset of `Model`'s fields. */
export type ModelFields<Model extends object> = { readonly [K in keyof Model & string]?: unknown };

/** `Result`, with every key `Model` does not have made impossible (`never`). */
type OnlyModelFields<Result, Model> = Result & { readonly [K in Exclude<keyof Result, keyof Model>]: never };

/** A {@link CopyTableSpec} whose columns are the fields of `Model` (see {@link copyTable}). */
export type TypedCopyTableSpec<Model extends object, Result extends object = ModelFields<Model>> = Omit<CopyTableSpec, 'columns' | 'map' | 'produces' | 'refs'> & {
  readonly columns?: { readonly [K in keyof Model & string]?: string | CopyColumn };
  readonly map?: (row: Readonly<Record<string, unknown>>) => OnlyModelFields<Result, Model>;
  readonly produces?: readonly (keyof Model & string)[];
  readonly refs?: { readonly [K in keyof Model & string]?: string };
};

/** A row transform: source row in, target columns out. */
export type CopyMap = (row: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>;

export type CopyTableSpec = z.input<typeof tableSpec>;
export type CopySpec = z.input<typeof copySpec>;
export type CopyTable = Omit<z.output<typeof tableSpec>, 'catchUp'> & {
  readonly entry: string;
  readonly targetTable: string;
  readonly resolvedColumns: Readonly<Record<string, CopyColumn>>;
  /** The source expression of a row's last write time (from `catchUp.changedSince`), when given. */
  readonly changedSince: SqlExpression | undefined;
};
export interface CopyPlan {
  readonly name: string;
  readonly source: string | undefined;
  readonly target: string | undefined;
  readonly batchSize: number;
  readonly tables: readonly CopyTable[];
}

/**
 * Checks a copy plan and fills its defaults: names a bad field by its path (`tables.users.key`), a reference
 * to an entry that is not in the plan or has no id, and dedupe on an entry without an id. Pure.
 */
export function defineCopy(spec: CopySpec): CopyPlan {
  const parsed = parseOptions(copySpec, spec);
  const tables = Object.entries(parsed.tables).map(([entry, table]): CopyTable => {
    if (table.map && Object.keys(table.columns).length > 0) throw new InvalidArgumentError(`tables.${entry}.columns`, 'give either columns (SQL) or map (TypeScript), not both');
    if (!table.map && (table.produces.length > 0 || Object.keys(table.refs).length > 0)) throw new InvalidArgumentError(`tables.${entry}.produces`, 'produces and refs go with map');
    if (table.map && table.produces.length + Object.keys(table.refs).length === 0) throw new InvalidArgumentError(`tables.${entry}.produces`, 'name the columns map returns');
    // With map, the columns are filled by the transform (no SQL of their own: NULL in the source query).
    const resolvedColumns = table.map
      ? Object.fromEntries([
          ...table.produces.map((name): [string, CopyColumn] => [name, { kind: 'expr', sql: sqlExpression('NULL') }]),
          ...Object.entries(table.refs).map(([name, target]): [string, CopyColumn] => [name, { kind: 'ref', entry: target, sql: sqlExpression('NULL') }]),
        ])
      : Object.fromEntries(Object.entries(table.columns).map(([name, value]) => [name, typeof value === 'string' ? col(value) : (value as CopyColumn)]));
    const { catchUp, ...rest } = table;
    const changedSince = catchUp && (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(catchUp.changedSince) ? sqlExpression(`s.${quoteIdent(catchUp.changedSince)}`) : sqlExpression(catchUp.changedSince));
    return { ...rest, entry, targetTable: table.table ?? entry, resolvedColumns, changedSince };
  });
  for (const table of tables) {
    for (const [column, value] of Object.entries(table.resolvedColumns)) {
      if (value.kind !== 'ref') continue;
      const target = tables.find((t) => t.entry === value.entry);
      if (!target) throw new InvalidArgumentError(`tables.${table.entry}.columns.${column}`, `refers to "${value.entry}", which is not a table of the copy`);
      if (target.id === false) throw new InvalidArgumentError(`tables.${table.entry}.columns.${column}`, `refers to "${value.entry}", which has no id (id: false)`);
    }
    if (table.id === false && Object.values(table.resolvedColumns).some((c) => c.kind === 'ref' && c.deferred)) {
      throw new InvalidArgumentError(`tables.${table.entry}.columns`, 'a deferred reference needs an id column (the second pass finds the row by it)');
    }
    if (table.dedupe && table.id === false) throw new InvalidArgumentError(`tables.${table.entry}.dedupe`, 'dedupe needs an id column (duplicates map to the survivor\'s id)');
    if (table.id !== false && table.resolvedColumns[table.id.column]) throw new InvalidArgumentError(`tables.${table.entry}.columns.${table.id.column}`, `is the id column: it is filled by id.generate (${table.id.generate})`);
  }
  return { name: parsed.name, source: parsed.source, target: parsed.target, batchSize: parsed.batchSize, tables };
}

/**
 * The entries in load order: each after the entries it refers to, deferred references left out (they are set
 * in a second pass); a cycle is refused, naming it. `extraEdges` are the target's foreign keys. Pure.
 */
export function loadOrder(plan: CopyPlan, extraEdges: readonly (readonly [child: string, parent: string])[] = []): CopyTable[] {
  const byEntry = new Map(plan.tables.map((t) => [t.entry, t]));
  const parents = new Map(plan.tables.map((t) => [t.entry, new Set(Object.values(t.resolvedColumns).flatMap((c) => (c.kind === 'ref' && c.entry !== t.entry && !c.deferred ? [c.entry] : [])))]));
  for (const [child, parent] of extraEdges) if (child !== parent && byEntry.has(child) && byEntry.has(parent)) parents.get(child)?.add(parent);
  const ordered: CopyTable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (entry: string, path: readonly string[]): void => {
    if (state.get(entry) === 'done') return;
    if (state.get(entry) === 'visiting') throw new InvalidArgumentError('tables', `the references form a cycle (${[...path.slice(path.indexOf(entry)), entry].join(' → ')}); defer one of them, ref(entry, column, { deferred: true }), to set it in a second pass`);
    state.set(entry, 'visiting');
    for (const parent of parents.get(entry) ?? []) visit(parent, [...path, entry]);
    state.set(entry, 'done');
    ordered.push(byEntry.get(entry) as CopyTable);
  };
  for (const table of plan.tables) visit(table.entry, []);
  return ordered;
}

/** Entries whose id other entries refer to, or that generate or collapse ids: their old→new keys go into the id map. Pure. */
export function needsIdMap(plan: CopyPlan, table: CopyTable): boolean {
  if (table.id === false) return false;
  if (table.id.generate === 'uuid' || table.dedupe) return true;
  return plan.tables.some((t) => Object.values(t.resolvedColumns).some((c) => c.kind === 'ref' && c.entry === table.entry));
}
