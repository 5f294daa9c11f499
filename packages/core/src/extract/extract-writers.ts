import type pg from 'pg';
import { inBatchTransaction, type BatchTimeouts } from '../backfill/batch-transaction.js';
import type { BatchOutcome, BatchRequest, BatchWriter, CheckpointWriter } from '../backfill/batch-writer.js';
import { toPgText } from '../backfill/computed-batch-writer.js';
import { probeBatchEnd } from '../backfill/batch-probe.js';
import { keyOrder, keyRangePredicate, keyTextOf, keyTextSelect, type KeyColumn } from '../backfill/keyset-sql.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteLiteral } from '../sql.js';
import { parseDocument, type ShapeSet } from './document-parser.js';
import { fastArraySql, fastMappedSql, type FastMap } from './fast-map-sql.js';

/** The parent a TypeScript map sees: its key (text) and the columns named in `source.select`. */
export interface ExtractParent {
  readonly key: string;
  readonly row: Readonly<Record<string, unknown>>;
}

/** What to do with a document no shape accepts. */
export type InvalidPolicy = 'fail' | 'skip' | 'record';

/** The resolved pieces both extraction writers share. */
export interface ExtractPlan {
  readonly migration: string;
  /** Quoted source table, its single key column and the JSON column. */
  readonly source: { readonly table: string; readonly key: KeyColumn; readonly column: string; readonly where: string; readonly select: readonly string[] };
  /** Quoted target table and its columns. */
  readonly target: {
    readonly table: string;
    readonly parentKey: string;
    readonly idColumn: string | undefined;
    readonly columns: readonly { readonly name: string; readonly type: string }[];
    readonly fixed: Readonly<Record<string, string>>;
    readonly distinctOn: readonly string[];
    /** The target's single-column primary key and its type: how the rows the extraction wrote are recorded. */
    readonly key: { readonly name: string; readonly type: string };
  };
  readonly deadLetters: string;
  /** The ledger of child rows this extraction wrote (`migration, parent_key, row_key`): what re-runs and undo may delete. */
  readonly owned: string;
  readonly onInvalid: InvalidPolicy;
}

/** A document no shape accepted, under `onInvalid: 'fail'`. */
export class InvalidDocumentError extends InvalidArgumentError {
  constructor(table: string, column: string, key: string, issues: readonly string[]) {
    super('document', `${table}.${quoteIdent(column)} of key ${key} matches none of the shapes: ${issues.slice(0, 5).join('; ')}`);
  }
}

function problemText(issue: { shape: string; path: string; message: string }): string {
  return `${issue.path || '(document)'}: ${issue.message} (closest shape: ${issue.shape})`;
}

/** `(parentKey, id?, columns..., fixed...)` of the child insert, and the SELECT expressions that fill them. */
function insertColumns(plan: ExtractPlan, values: (column: { name: string; type: string }) => string, parent: string, ordinal: string): { names: string; selects: string; quoted: readonly string[] } {
  const names = [quoteIdent(plan.target.parentKey)];
  const selects = [parent];
  if (plan.target.idColumn) {
    names.push(quoteIdent(plan.target.idColumn));
    selects.push(`md5(${quoteLiteral(plan.target.parentKey)} || ':' || ${parent}::text || ':' || ${ordinal})`);
  }
  for (const column of plan.target.columns) {
    names.push(quoteIdent(column.name));
    selects.push(values(column));
  }
  for (const [name, expression] of Object.entries(plan.target.fixed)) {
    names.push(quoteIdent(name));
    selects.push(`(${expression})`);
  }
  return { names: names.join(', '), selects: selects.join(', '), quoted: names };
}

/**
 * Deletes the children this extraction wrote for `keys` in an earlier run (from its ledger), never rows the
 * application wrote for the same parents, and their dead letters. `keysSql` selects the parent keys (as
 * text) with `params`.
 */
async function clearPrevious(client: pg.ClientBase, plan: ExtractPlan, keysSql: string, params: readonly unknown[]): Promise<void> {
  await client.query(
    `with gone as (delete from ${plan.owned} o where o.migration = ${quoteLiteral(plan.migration)} and o.parent_key in (${keysSql}) returning o.row_key)
     delete from ${plan.target.table} c where c.${quoteIdent(plan.target.key.name)} = any(array(select row_key::${plan.target.key.type} from gone))`,
    [...params],
  );
  await client.query(`delete from ${plan.deadLetters} where migration = ${quoteLiteral(plan.migration)} and parent_key in (${keysSql})`, [...params]);
}

/**
 * How a child insert treats a row that already has its deterministic id (`idColumn` is the target's key):
 * a row no extraction recorded (written by a version without the ledger) is the same child, so it is
 * replaced and adopted. A row another extraction recorded is left alone and not returned, so the batch
 * comes up short and fails closed (see {@link assertAllWritten}). Without deterministic ids nothing can be
 * the same child. Pure.
 */
function onSameChild(plan: ExtractPlan, names: readonly string[]): string {
  if (!plan.target.idColumn || plan.target.idColumn !== plan.target.key.name) return '';
  const id = quoteIdent(plan.target.idColumn);
  const updates = names.filter((name) => name !== id).map((name) => `${name} = excluded.${name}`);
  return ` on conflict (${id}) do update set ${updates.join(', ')}
     where not exists (select 1 from ${plan.owned} other where other.row_key = ${plan.target.table}.${id}::text and other.migration <> ${quoteLiteral(plan.migration)})`;
}

/** Refuses a batch that wrote fewer children than it meant to: their ids belong to another extraction's rows. */
function assertAllWritten(plan: ExtractPlan, expected: number, written: number): void {
  if (written < expected) {
    throw new InvalidArgumentError(
      'target.idColumn',
      `${expected - written} child row(s) of ${plan.target.table} already exist with the ids extraction "${plan.migration}" would write, and another extraction recorded them as its own; undo that extraction first, or write to another table`,
    );
  }
}

/** `insert` of child rows recorded in the ledger (the statement's row count is the number of children). Pure. */
function ownedInsert(plan: ExtractPlan, insert: string, names: readonly string[]): string {
  return `with ins as (${insert}${onSameChild(plan, names)} returning ${quoteIdent(plan.target.key.name)}::text as row_key, ${quoteIdent(plan.target.parentKey)}::text as parent_key)
     insert into ${plan.owned} (migration, parent_key, row_key) select ${quoteLiteral(plan.migration)}, parent_key, row_key from ins on conflict do nothing`;
}

/**
 * Extraction with zod shapes and a TypeScript `map`. Per batch, in one short transaction:
 * 1. Read the next `size` parents.
 * 2. Parse each document (first matching shape wins).
 * 3. Delete the children this extraction wrote for these parents in an earlier run (its ledger says
 *    which; rows the application wrote are left alone) and their dead letters, so a re-run never
 *    duplicates anything.
 * 4. Insert every child of the batch with one `INSERT … SELECT FROM unnest(…)` and record invalid
 *    documents, then checkpoint.
 * The source column is only read.
 */
export class ShapeExtractWriter<Element> implements BatchWriter {
  constructor(
    private readonly plan: ExtractPlan,
    private readonly shapes: ShapeSet<Element>,
    private readonly map: (element: Element, parent: ExtractParent) => Readonly<Record<string, unknown>>,
  ) {}

  async validate(client: pg.ClientBase, timeouts: BatchTimeouts): Promise<void> {
    await inBatchTransaction(client, timeouts, () => client.query(`explain select 1 from ${this.plan.source.table} t where ${this.plan.source.where}`));
  }

  async run(client: pg.ClientBase, request: BatchRequest, timeouts: BatchTimeouts, checkpoint: CheckpointWriter): Promise<BatchOutcome> {
    const { plan } = this;
    return inBatchTransaction(client, timeouts, async () => {
      const params: unknown[] = [];
      const range = keyRangePredicate('t', [plan.source.key], request.after, request.upTo, params);
      params.push(request.size);
      const { rows } = await client.query(
        `select ${keyTextSelect('t', [plan.source.key])}, t.${quoteIdent(plan.source.column)} as doc${plan.source.select.map((c, i) => `, t.${quoteIdent(c)} as ${quoteIdent(`p${i}`)}`).join('')} from ${plan.source.table} t
         where ${range} and (${plan.source.where}) order by ${keyOrder('t', [plan.source.key], 'asc')} limit $${params.length}`,
        params,
      );
      const keys = rows.map((row) => keyTextOf(row, [plan.source.key])[0] as string);
      const children: { parent: string; ordinal: number; values: Readonly<Record<string, unknown>> }[] = [];
      const dead: { parent: string; issues: string[]; raw: unknown }[] = [];
      for (const [i, row] of rows.entries()) {
        const parent = keys[i] as string;
        const parsed = parseDocument(row['doc'], this.shapes);
        const parentRow = Object.fromEntries(plan.source.select.map((column, c) => [column, row[`p${c}`]]));
        if (parsed.kind === 'invalid') {
          const issues = parsed.issues.map(problemText);
          if (plan.onInvalid === 'fail') throw new InvalidDocumentError(plan.source.table, plan.source.column, parent, issues);
          dead.push({ parent, issues, raw: row['doc'] });
          continue;
        }
        if (parsed.kind === 'empty') continue;
        const seen = new Set<string>();
        parsed.elements.forEach((element, index) => {
          const values = this.map(element, { key: parent, row: parentRow });
          if (plan.target.distinctOn.length > 0) {
            const identity = JSON.stringify(plan.target.distinctOn.map((column) => values[column] ?? null));
            if (seen.has(identity)) return;
            seen.add(identity);
          }
          children.push({ parent, ordinal: index + 1, values });
        });
      }
      await clearPrevious(client, plan, 'select unnest($1::text[])', [keys]);
      let inserted = 0;
      if (children.length > 0) {
        const arrays: (string | null)[][] = [children.map((c) => c.parent), children.map((c) => String(c.ordinal))];
        for (const column of plan.target.columns) arrays.push(children.map((c) => toPgText(c.values[column.name], column.type)));
        const aliases = ['p', 'o', ...plan.target.columns.map((_, i) => `c${i}`)];
        const position = new Map(plan.target.columns.map((column, i) => [column.name, i]));
        const { names, selects, quoted } = insertColumns(plan, (column) => `v.${quoteIdent(`c${position.get(column.name)}`)}::${column.type}`, `v.p::${plan.source.key.type}`, 'v.o');
        const result = await client.query(
          ownedInsert(
            plan,
            `insert into ${plan.target.table} (${names}) select ${selects}
             from unnest(${arrays.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as v(${aliases.map(quoteIdent).join(', ')})`,
            quoted,
          ),
          arrays,
        );
        inserted = result.rowCount ?? 0;
        assertAllWritten(plan, children.length, inserted);
      }
      if (plan.onInvalid === 'record' && dead.length > 0) {
        await client.query(
          `insert into ${plan.deadLetters} (migration, parent_key, issues, raw)
           select $1, d.k, d.i::jsonb, d.r::jsonb from unnest($2::text[], $3::text[], $4::text[]) as d(k, i, r)`,
          [plan.migration, dead.map((d) => d.parent), dead.map((d) => JSON.stringify(d.issues)), dead.map((d) => JSON.stringify(d.raw))],
        );
      }
      const last = keys.length > 0 ? [keys[keys.length - 1] as string] : request.after;
      const outcome: BatchOutcome = { last, scanned: rows.length, updated: inserted, skipped: dead.length, rangeDone: rows.length < request.size };
      await checkpoint(client, outcome);
      return outcome;
    });
  }
}

/**
 * The fast path for declarative maps: the same per-batch protocol as {@link ShapeExtractWriter}, but
 * parsing, validation, mapping and de-duplication happen in PostgreSQL. One `INSERT … SELECT … FROM
 * jsonb_array_elements(…)` writes the batch's children and, in the same statement, its dead letters.
 * Nothing crosses into JavaScript. A document is refused as a whole when its array is not found or any
 * required column of any element is missing or invalid, exactly as a zod shape refuses it.
 */
export class FastExtractWriter implements BatchWriter {
  constructor(
    private readonly plan: ExtractPlan,
    private readonly map: FastMap,
  ) {}

  async validate(client: pg.ClientBase, timeouts: BatchTimeouts): Promise<void> {
    await inBatchTransaction(client, timeouts, () => client.query(`explain ${this.pipeline('false')}`, []));
  }

  async run(client: pg.ClientBase, request: BatchRequest, timeouts: BatchTimeouts, checkpoint: CheckpointWriter): Promise<BatchOutcome> {
    const { plan } = this;
    const key = [plan.source.key];
    return inBatchTransaction(client, timeouts, async () => {
      const found = await probeBatchEnd(client, plan.source.table, key, request, plan.source.where);
      if (!found) {
        const empty: BatchOutcome = { last: request.after, scanned: 0, updated: 0, skipped: 0, rangeDone: true };
        await checkpoint(client, empty);
        return empty;
      }
      const { last } = found;
      const params: unknown[] = [];
      const range = keyRangePredicate('t', key, request.after, last, params);
      const keysSql = `select t.${quoteIdent(plan.source.key.name)}::text from ${plan.source.table} t where ${range} and (${plan.source.where})`;
      await clearPrevious(client, plan, keysSql, params);
      const { rows } = await client.query<{ inserted: string; expected: string; invalid: string; sample: unknown }>(this.pipeline(range), params);
      const result = rows[0];
      assertAllWritten(plan, Number(result?.expected ?? 0), Number(result?.inserted ?? 0));
      const invalid = Number(result?.invalid ?? 0);
      if (invalid > 0 && plan.onInvalid === 'fail') {
        const sample = (result?.sample ?? []) as { pk: string; issues: string[] }[];
        throw new InvalidDocumentError(plan.source.table, plan.source.column, sample[0]?.pk ?? '?', sample[0]?.issues ?? []);
      }
      const scanned = found.count;
      const outcome: BatchOutcome = { last, scanned, updated: Number(result?.inserted ?? 0), skipped: invalid, rangeDone: scanned < request.size };
      await checkpoint(client, outcome);
      return outcome;
    });
  }

  /** The per-batch statement over the parents matching `range` (alias `t`). Pure. */
  private pipeline(range: string): string {
    const { plan } = this;
    const { cte, byName } = this.stages(range);
    const targetColumns = plan.target.columns.map((column) => {
      const source = byName.get(column.name);
      if (!source) throw new InvalidArgumentError('fast.columns', `target column "${column.name}" has no declarative mapping`);
      return { ...column, source };
    });
    const { names, selects, quoted } = insertColumns(plan, (column) => `${targetColumns.find((c) => c.name === column.name)?.source}::${column.type}`, 'm.pk', 'm.ord');
    const dead =
      plan.onInvalid === 'record'
        ? `insert into ${plan.deadLetters} (migration, parent_key, issues, raw) select ${quoteLiteral(plan.migration)}, b.pk::text, b.issues, d.doc from bad b join docs d on d.pk = b.pk returning 1`
        : 'select 1 where false';
    return `${cte}, dead as (
        ${dead}
      ), ins as (
        insert into ${plan.target.table} (${names}) select ${selects} from kept m${onSameChild(plan, quoted)}
        returning ${quoteIdent(plan.target.key.name)}::text as row_key, ${quoteIdent(plan.target.parentKey)}::text as parent_key
      ), owned as (
        insert into ${plan.owned} (migration, parent_key, row_key) select ${quoteLiteral(plan.migration)}, parent_key, row_key from ins on conflict do nothing returning 1
      )
      select (select count(*) from owned)::text as inserted, (select count(*) from kept)::text as expected, (select count(*) from bad)::text as invalid,
             (select count(*) from dead)::text as recorded,
             (select jsonb_agg(jsonb_build_object('pk', pk::text, 'issues', issues)) from (select * from bad limit 3) s) as sample`;
  }

  /**
   * Per parent matching `range`: the number of children its document yields, or -1 when it is invalid
   * (for verification). Read-only SQL. Pure.
   */
  countSql(range: string): string {
    return `${this.stages(range).cte}
      select d.pk::text as k, case when b.pk is not null then -1 else coalesce(c.n, 0) end::int as n
      from docs d left join bad b on b.pk = d.pk left join (select pk, count(*) as n from kept group by pk) c on c.pk = d.pk`;
  }

  /** The read-only stages: parents, docs, elems, mapped, problems, bad, kept (valid, de-duplicated). */
  private stages(range: string): { cte: string; byName: Map<string, string> } {
    const { plan, map } = this;
    const columns = Object.entries(map.columns);
    // Missing without a default, or present but invalid (even where a default exists).
    const required = columns.map(([name, column], i) => {
      const invalid = column.default === undefined ? `${quoteIdent(`c${i}`)} is null` : `${quoteIdent(`c${i}`)} is null and ${quoteIdent(`p${i}`)}`;
      return `select pk, 'element ' || ord || ': "' || ${quoteLiteral(name)} || '" is missing or invalid' as reason from mapped where ${invalid}`;
    });
    const needsObject = columns.some(([, column]) => column.from.length > 0);
    const shapes = ['a bare array', ...map.arrays.map((key) => `an object with an array "${key}"`)].join(' or ');
    const problems = [
      `select pk, ${quoteLiteral(`the document is not ${shapes}`)} as reason from docs where arr is null`,
      ...(needsObject ? [`select pk, 'element ' || ord || ' is not an object' as reason from elems where jsonb_typeof(el) <> 'object'`] : []),
      ...required,
    ];
    const byName = new Map(columns.map(([name], i) => [name, `m.${quoteIdent(`c${i}`)}`]));
    const distinct = plan.target.distinctOn.map((name) => byName.get(name) ?? quoteIdent(name));
    const cte = `with parents as (
        select t.${quoteIdent(plan.source.key.name)} as pk, t.${quoteIdent(plan.source.column)}::jsonb as doc from ${plan.source.table} t where ${range} and (${plan.source.where})
      ), docs as (
        select pk, doc, ${fastArraySql(map)} as arr from parents
      ), elems as (
        select d.pk, e.ord, e.el from docs d cross join lateral jsonb_array_elements(coalesce(d.arr, '[]'::jsonb)) with ordinality e(el, ord)
      ), mapped as (
        ${fastMappedSql(map, 'elems')}
      ), problems as (
        ${problems.join('\n        union all ')}
      ), bad as (
        select pk, jsonb_agg(reason order by reason) as issues from problems group by pk
      ), kept as (
        select ${distinct.length > 0 ? `distinct on (m.pk, ${distinct.join(', ')}) ` : ''}m.* from mapped m
        where not exists (select 1 from bad b where b.pk = m.pk)
        order by m.pk${distinct.length > 0 ? `, ${distinct.join(', ')}` : ''}, m.ord
      )`;
    return { cte, byName };
  }
}
