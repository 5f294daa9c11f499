import pg from 'pg';
import { runBatchedTableJob, type BackfillResult } from '../backfill/backfill.js';
import type { BackfillCommonOptions } from '../backfill/backfill-options.js';
import { readTableInfo, relationExists, requireColumns, type TableInfo } from '../db/table-catalog.js';
import { withClient } from '../db/with-client.js';
import { ColumnNotFoundError, InvalidArgumentError, NoUsableKeyError } from '../errors.js';
import { runBatchedStatement } from '../operations/batched-statement.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { DataMigrationStore, DEFAULT_TRACKING, type TrackingLocation } from '../tracking/data-migration-store.js';
import { parseDocument, type ShapeSet } from './document-parser.js';
import type { ExtractParent, ExtractPlan, InvalidPolicy } from './extract-plan.js';
import { ShapeExtractWriter } from './extract-writers.js';

/** Name of the dead-letter table (in the tracking state schema). */
export const DEAD_LETTER_TABLE = 'extract_dead_letter';
/** The ledger of child rows each extraction wrote, in the state schema: re-runs and undo delete only these. */
export const OWNED_ROWS_TABLE = 'extract_owned_rows';
/** Dead letters copied into `DataMigration.errorLog` after a run, at most. */
export const ERROR_LOG_SAMPLE = 10;

/** Batching options `extractJson` shares with `backfill`. */
export type ExtractBatchingOptions = Pick<
  BackfillCommonOptions,
  | 'database'
  | 'name'
  | 'description'
  | 'workers'
  | 'batch'
  | 'rangeRows'
  | 'leaseMs'
  | 'lockTimeoutMs'
  | 'statementTimeoutMs'
  | 'maxAttempts'
  | 'pauseMs'
  | 'throttle'
  | 'health'
  | 'restart'
  | 'signal'
  | 'onProgress'
  | 'onBatch'
  | 'onPause'
  | 'tracking'
  | 'workerLabel'
>;

/** Where the documents are and where their elements go. */
export interface ExtractSpec {
  /**
   * Parent table (single-column primary key) and its JSON column; `where` filters parents (alias `t`);
   * `select` names parent columns handed to a TypeScript map as `parent.row` (e.g. its tenant).
   */
  readonly source: { readonly schema?: string; readonly table: string; readonly column: string; readonly where?: string; readonly select?: readonly string[] };
  /**
   * Child table: `parentKey` receives the parent's key. `idColumn`, when given, receives a deterministic id
   * `md5('<parentKey column>:' || parent key || ':' || ordinal)`, so a re-run writes the same ids. `fixed` gives other columns SQL
   * expressions (e.g. `{ updatedAt: 'now()' }`). `distinctOn` keeps the first element per parent for each
   * value of these columns (e.g. one vote per user).
   */
  readonly target: {
    readonly schema?: string;
    readonly table: string;
    readonly parentKey: string;
    readonly idColumn?: string;
    readonly fixed?: Readonly<Record<string, string>>;
    readonly distinctOn?: readonly string[];
  };
  /** `record` (default): dead-letter table + `failedRecords`; `skip`: count only; `fail`: stop at the first. */
  readonly onInvalid?: InvalidPolicy;
}

/** `extractJson` with zod shapes and a TypeScript map. */
export interface ExtractWithShapes<Element> extends ExtractSpec {
  readonly shapes: ShapeSet<Element>;
  /** Child column values of one element; every key must be a column of the target table. */
  readonly map: (element: Element, parent: ExtractParent) => Readonly<Record<string, unknown>>;
}

/** What is extracted and how: validated shapes with a map, and where the tracking tables live. */
export type ExtractDefinition<Element> = ExtractWithShapes<Element> & { readonly tracking?: Partial<TrackingLocation> };

/** Options of `extractJson`. */
export type ExtractJsonOptions<Element> = ExtractBatchingOptions & ExtractWithShapes<Element>;

/** What `extractJson` did. */
export interface ExtractResult extends BackfillResult {
  /** Child rows written by this call. */
  readonly children: number;
  /** Documents no shape accepted (dead letters with `record`). */
  readonly invalid: number;
}

interface Resolved {
  readonly plan: ExtractPlan;
  readonly tracking: TrackingLocation;
  readonly sourceSchema: string;
}

async function resolve(client: pg.ClientBase, options: ExtractDefinition<unknown>, name: string): Promise<Resolved> {
  const tracking = { ...DEFAULT_TRACKING, ...options.tracking };
  const sourceSchema = options.source.schema ?? 'public';
  const source = await readTableInfo(client, sourceSchema, options.source.table);
  if (source.primaryKey.length !== 1) {
    throw new NoUsableKeyError(source.qualified, 'extraction needs a single-column primary key on the parent table (its value goes into the children)');
  }
  const keyName = source.primaryKey[0] as string;
  const documentColumn = source.columns.get(options.source.column);
  if (!documentColumn) throw new ColumnNotFoundError(source.qualified, options.source.column, '"source.column"');
  if (documentColumn.type !== 'jsonb' && documentColumn.type !== 'json') {
    throw new InvalidArgumentError('source.column', `${source.qualified}."${options.source.column}" is ${documentColumn.type}, not json/jsonb`);
  }
  requireColumns(source, options.source.select ?? [], '"source.select"');
  const target = await readTableInfo(client, options.target.schema ?? sourceSchema, options.target.table);
  const require = (column: string, role: string): { name: string; type: string } => {
    const info = target.columns.get(column);
    if (!info) throw new ColumnNotFoundError(target.qualified, column, role);
    return { name: column, type: info.type };
  };
  require(options.target.parentKey, '"target.parentKey"');
  if (target.primaryKey.length !== 1) {
    throw new NoUsableKeyError(target.qualified, 'extraction needs a single-column primary key on the child table, to record which rows it wrote (re-runs and undo delete only those)');
  }
  const targetKey = target.primaryKey[0] as string;
  if (options.target.idColumn) require(options.target.idColumn, '"target.idColumn"');
  for (const column of Object.keys(options.target.fixed ?? {})) require(column, '"target.fixed"');
  for (const column of options.target.distinctOn ?? []) require(column, '"target.distinctOn"');
  const mapped = await mappedColumns(options);
  const encoding = await client.query<{ encoding: string }>(`select current_setting('server_encoding') as encoding`);
  const columns = mapped.map((column) => require(column, 'the values "map" returns'));
  return {
    tracking,
    sourceSchema,
    plan: {
      migration: name,
      source: {
        table: source.qualified,
        key: { name: keyName, type: source.columns.get(keyName)?.type ?? 'text' },
        column: options.source.column,
        where: options.source.where ?? 'true',
        select: options.source.select ?? [],
      },
      target: {
        table: target.qualified,
        parentKey: options.target.parentKey,
        idColumn: options.target.idColumn,
        columns,
        fixed: options.target.fixed ?? {},
        distinctOn: options.target.distinctOn ?? [],
        key: { name: targetKey, type: target.columns.get(targetKey)?.type ?? 'text' },
      },
      deadLetters: quoteQualified(tracking.stateSchema, DEAD_LETTER_TABLE),
      owned: quoteQualified(tracking.stateSchema, OWNED_ROWS_TABLE),
      onInvalid: options.onInvalid ?? 'record',
      serverUtf8: encoding.rows[0]?.encoding === 'UTF8',
    },
  };
}

/** The columns a TypeScript map writes: declared by `columns` on the map function, or probed from the first element. */
async function mappedColumns(options: ExtractWithShapes<unknown>): Promise<string[]> {
  const declared = (options.map as { columns?: readonly string[] }).columns;
  if (declared) return [...declared];
  throw new InvalidArgumentError('map', 'declare the child columns it returns: attach them as `map.columns` (use mapColumns(fn, [...]))');
}

/** Attaches the list of child columns a map returns, so the insert statement is known before the first batch. */
export function mapColumns<Element, Row extends Readonly<Record<string, unknown>>>(
  map: (element: Element, parent: ExtractParent) => Row,
  columns: readonly (keyof Row & string)[],
): ((element: Element, parent: ExtractParent) => Row) & { columns: readonly string[] } {
  return Object.assign(map, { columns });
}

async function ensureDeadLetters(client: pg.ClientBase, tracking: TrackingLocation): Promise<void> {
  await new DataMigrationStore(tracking).ensure(client, [
    `create table if not exists ${quoteQualified(tracking.stateSchema, DEAD_LETTER_TABLE)} (
       migration text not null, parent_key text not null, issues jsonb not null, raw jsonb,
       recorded_at timestamptz not null default now(), primary key (migration, parent_key))`,
    `create table if not exists ${quoteQualified(tracking.stateSchema, OWNED_ROWS_TABLE)} (
       migration text not null, parent_key text not null, row_key text not null, primary key (migration, row_key))`,
    `create index if not exists ${quoteIdent(`${OWNED_ROWS_TABLE}_parent_idx`)} on ${quoteQualified(tracking.stateSchema, OWNED_ROWS_TABLE)} (migration, parent_key)`,
  ]);
}


function connectionString(database: string | pg.Pool): string {
  if (typeof database === 'string') return database;
  const url = database.options.connectionString;
  if (!url) throw new InvalidArgumentError('database', 'extraction needs a connection string (or a pool created from one)');
  return url;
}

/**
 * Moves JSON documents into child rows, batched over the parents in keyset order, with the backfill
 * engine's machinery: checkpoints in each batch's transaction, resume after a crash, progress,
 * cancellation, parallel workers, lock timeouts with retries. Documents are validated by zod `shapes` and
 * mapped by `map` in this process, one batch ahead of the batch being written.
 *
 * Guarantees:
 * - **Transactional batches**: a batch's children, their ledger rows, its dead letters and its checkpoint
 *   commit together or not at all.
 * - **Idempotent**: each batch deletes the children (and dead letters) this extraction recorded for its
 *   parents before writing theirs, in the same transaction, and child ids are deterministic. A re-run or a
 *   resume therefore never duplicates anything; rows the application wrote are never deleted.
 * - **Fails closed** on children another extraction recorded under the same ids (nothing of that batch is
 *   written).
 * - **Invalid documents** (no shape accepts them) never stop the run unless `onInvalid: 'fail'`. They go
 *   to `_evolve.extract_dead_letter` with their parent key, the issue paths and the raw value; a sample
 *   goes to `DataMigration.errorLog`; they are counted in `failedRecords`.
 * - The source column is only read.
 * - **Locks**: row locks on the children of one batch; ACCESS SHARE on the source and the child table
 *   (ROW EXCLUSIVE on the child table while writing).
 * - Children are streamed with `COPY` when their ids are deterministic text keys and no `fixed` expression
 *   applies, and inserted with one `INSERT … SELECT` per batch otherwise (see `writeChildBatch`).
 */
export async function extractJson<Element>(options: ExtractJsonOptions<Element>): Promise<ExtractResult> {
  const url = connectionString(options.database);
  const name = options.name ?? `extract ${options.source.table}.${options.source.column} -> ${options.target.table}`;
  const resolved = await withClient(url, async (client) => {
    const found = await resolve(client, options as ExtractJsonOptions<unknown>, name);
    await ensureDeadLetters(client, found.tracking);
    return found;
  });
  const { plan } = resolved;
  const result = await runBatchedTableJob(
    {
      ...options,
      name,
      schema: resolved.sourceSchema,
      table: options.source.table,
      coverage: false,
      total: 'estimate',
    },
    async () => ({
      writer: new ShapeExtractWriter(plan, options.shapes, options.map),
      fingerprint: {
        mode: 'shapes',
        column: plan.source.column,
        where: plan.source.where,
        target: plan.target,
        // Named as before the fast path was removed, so runs started earlier keep their spec hash and resume.
        fast: Object.keys(options.shapes),
        onInvalid: plan.onInvalid,
      },
    }),
  );
  if (result.status === 'completed' && plan.onInvalid === 'record') {
    await withClient(url, async (client) => {
      const { rows } = await client.query<{ parent_key: string; issues: unknown }>(
        `select parent_key, issues from ${plan.deadLetters} where migration = $1 order by parent_key limit ${ERROR_LOG_SAMPLE}`,
        [name],
      );
      if (rows.length > 0) {
        await new DataMigrationStore(resolved.tracking).logError(client, name, { error: 'invalid documents (sample)', deadLetters: rows });
      }
    });
  }
  return { ...result, children: result.updated, invalid: result.skipped };
}

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
  {
    const { plan } = await resolve(client, options as ExtractDefinition<unknown>, 'verify');
    const key = quoteIdent(plan.source.key.name);
    const parent = quoteIdent(plan.target.parentKey);
    let after: string | null = null;
    const totals = { parents: 0, valid: 0, invalid: 0, expected: 0, children: 0, mismatchCount: 0 };
    const mismatches: { key: string; expected: number; actual: number }[] = [];
    for (;;) {
      const page: pg.QueryResult<{ k: string; doc: unknown }> = await client.query<{ k: string; doc: unknown }>(
        `select t.${key}::text as k, t.${quoteIdent(plan.source.column)} as doc from ${plan.source.table} t
         where (${plan.source.where}) ${after === null ? '' : `and t.${key} > $1::${plan.source.key.type}`} order by t.${key} limit 5000`,
        after === null ? [] : [after],
      );
      const rows = page.rows;
      if (rows.length === 0) break;
      after = rows[rows.length - 1]?.k ?? null;
      const keys = rows.map((row) => row.k);
      const expected = new Map<string, number>();
      for (const row of rows) expected.set(row.k, expectedCount(parseDocument(row.doc, options.shapes), options, row.k));
      const { rows: actual } = await client.query<{ k: string; n: number }>(
        `select ${parent}::text as k, count(*)::int as n from ${plan.target.table} where ${parent} = any($1::${plan.source.key.type}[]) group by 1`,
        [keys],
      );
      const counts = new Map(actual.map((row) => [row.k, row.n]));
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
    function record(k: string, expected: number, actual: number): void {
      totals.mismatchCount += 1;
      if (mismatches.length < 10) mismatches.push({ key: k, expected, actual });
    }
    return {
      parents: totals.parents,
      validDocuments: totals.valid,
      invalidDocuments: totals.invalid,
      expectedChildren: totals.expected,
      children: totals.children,
      mismatches,
      mismatchCount: totals.mismatchCount,
      ok: totals.mismatchCount === 0,
    };
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

/**
 * Removes what an extraction wrote: the child rows its ledger records (for parents matching
 * `source.where` when given; never rows the application wrote itself, even for the same parents), in
 * batches of short transactions, then the dead letters and checkpoints of `name`, and resets its tracking
 * row so the extraction can run again. Idempotent. Returns the number of recorded rows removed (rows the
 * application had deleted already count too).
 */
export async function undoExtraction(options: { database: string; name: string; spec: ExtractSpec; tracking?: Partial<TrackingLocation>; signal?: AbortSignal }): Promise<number> {
  const tracking = { ...DEFAULT_TRACKING, ...options.tracking };
  const sourceSchema = options.spec.source.schema ?? 'public';
  const owned = quoteQualified(tracking.stateSchema, OWNED_ROWS_TABLE);
  const result = await withClient(options.database, async (client) => {
    const source = await readTableInfo(client, sourceSchema, options.spec.source.table);
    const target = await readTableInfo(client, options.spec.target.schema ?? sourceSchema, options.spec.target.table);
    return { source, target, ledger: await relationExists(client, owned) };
  });
  const deleted = result.ledger ? await removeOwnedRows(options, owned, result) : 0;
  await withClient(options.database, async (client) => {
    await client.query(`delete from ${quoteQualified(tracking.stateSchema, DEAD_LETTER_TABLE)} where migration = $1`, [options.name]).catch(() => undefined);
    await client.query(`delete from ${quoteQualified(tracking.stateSchema, 'backfill_state')} where migration = $1`, [options.name]).catch(() => undefined);
    // A later extractJson of the same name must run again, not report "already completed".
    await new DataMigrationStore(tracking).reset(client, options.name).catch(() => undefined);
  });
  return deleted;
}

/** Deletes, in batches, the child rows the ledger records for `options.name` (restricted by `source.where`). */
async function removeOwnedRows(
  options: { database: string; name: string; spec: ExtractSpec; signal?: AbortSignal },
  owned: string,
  result: { source: TableInfo; target: TableInfo },
): Promise<number> {
  const targetKey = result.target.primaryKey[0];
  if (result.target.primaryKey.length !== 1 || !targetKey) throw new NoUsableKeyError(result.target.qualified, 'undoExtraction needs the single-column primary key the extraction recorded rows by');
  const keyType = result.target.columns.get(targetKey)?.type ?? 'text';
  const parents = options.spec.source.where
    ? ` and x.parent_key in (select t.${quoteIdent(result.source.primaryKey[0] ?? 'id')}::text from ${result.source.qualified} t where ${options.spec.source.where})`
    : '';
  const deleted = await runBatchedStatement(
    options.database,
    options.name,
    result.target.qualified,
    `with gone as (delete from ${owned} o where o.ctid in (select x.ctid from ${owned} x where x.migration = ${quoteLiteral(options.name)}${parents} limit 5000) returning o.row_key),
          removed as (delete from ${result.target.qualified} c where c.${quoteIdent(targetKey)} = any(array(select row_key::${keyType} from gone)) returning 1)
     select row_key from gone`,
    { timeouts: { lockMs: 2_000, statementMs: 60_000 }, ...(options.signal ? { signal: options.signal } : {}) },
  );
  return deleted.rows;
}
