import pg from 'pg';
import { runBatchedTableJob, type BackfillResult } from '../backfill/backfill.js';
import type { BackfillCommonOptions } from '../backfill/backfill-options.js';
import { readTableInfo, requireColumns } from '../db/table-catalog.js';
import { withClient } from '../db/with-client.js';
import { ColumnNotFoundError, InvalidArgumentError, NoUsableKeyError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { DataMigrationStore, DEFAULT_TRACKING, type TrackingLocation } from '../tracking/data-migration-store.js';
import type { ShapeSet } from './document-parser.js';
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

/** An extraction resolved against the catalog. */
export interface Resolved {
  readonly plan: ExtractPlan;
  readonly tracking: TrackingLocation;
  readonly sourceSchema: string;
}

/** Reads the catalog for an extraction and builds its plan; errors name the option at fault. Read-only. */
export async function resolve(client: pg.ClientBase, options: ExtractDefinition<unknown>, name: string): Promise<Resolved> {
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


/** The connection string of `database` (a URL, or a pool created from one). Pure. */
export function connectionString(database: string | pg.Pool): string {
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
