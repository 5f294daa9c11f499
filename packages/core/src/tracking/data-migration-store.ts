import type pg from 'pg';
import { InvalidArgumentError, StateTransitionError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';

/** Schema of the toolkit's own bookkeeping tables (checkpoints, range claims). Outside Prisma's view. */
export const DEFAULT_STATE_SCHEMA = '_evolve';
/** Name of the tracking table (seed 003's `DataMigration` model). */
export const DEFAULT_DATA_MIGRATION_TABLE = 'DataMigration';
/** At most this many entries are kept in `DataMigration.errorLog` (newest last). */
export const MAX_ERROR_LOG_ENTRIES = 50;

/** Where the tracking table and the toolkit's state tables live. */
export interface TrackingLocation {
  /** Schema of the `DataMigration` table; `_evolve` unless the app maps the model itself (then its schema). */
  readonly schema: string;
  readonly table: string;
  /** Schema of checkpoints and range claims. */
  readonly stateSchema: string;
}

/** The default location: everything in the `_evolve` schema. */
export const DEFAULT_TRACKING: TrackingLocation = {
  schema: DEFAULT_STATE_SCHEMA,
  table: DEFAULT_DATA_MIGRATION_TABLE,
  stateSchema: DEFAULT_STATE_SCHEMA,
};

/** Status values of `DataMigration.status`. */
export type DataMigrationStatus = 'pending' | 'running' | 'completed' | 'failed' | 'rolling_back' | 'rolled_back';

/**
 * Every status change a tracking row may make, as target → allowed sources. Each write that sets a status
 * checks it in its own `WHERE` (atomically, with no read before): a phase half rolled back cannot be run,
 * a completed row cannot fail, a rolled-back row is only reached through a rollback.
 */
export const STATUS_TRANSITIONS: Readonly<Record<DataMigrationStatus, readonly DataMigrationStatus[]>> = {
  // From completed only by an explicit restart of a data step (`restartStep`).
  pending: ['pending', 'running', 'failed', 'completed', 'rolled_back'],
  running: ['pending', 'running', 'failed', 'rolled_back'],
  completed: ['running', 'completed'],
  failed: ['pending', 'running', 'failed'],
  rolling_back: ['pending', 'running', 'failed', 'completed', 'rolling_back'],
  rolled_back: ['pending', 'running', 'failed', 'completed', 'rolling_back', 'rolled_back'],
};

/** One row of `DataMigration`, as the toolkit reads it. */
export interface DataMigrationRow {
  readonly name: string;
  readonly status: DataMigrationStatus;
  readonly totalRecords: number | null;
  readonly processedRecords: number;
  readonly failedRecords: number;
  readonly resultSummary: unknown;
  readonly errorLog: readonly unknown[];
  readonly rollbackData: unknown;
}

const COLUMNS = [
  'id',
  'name',
  'description',
  'status',
  'startedAt',
  'completedAt',
  'totalRecords',
  'processedRecords',
  'failedRecords',
  'resultSummary',
  'errorLog',
  'isReversible',
  'rollbackData',
  'createdAt',
  'updatedAt',
] as const;

/** Counters are BIGINT (a Prisma `BigInt`); read as JavaScript numbers, exact up to 2^53. */
const COUNTERS = ['totalRecords', 'processedRecords', 'failedRecords'] as const;
const SELECTED = `"name", "status", ${COUNTERS.map((c) => `"${c}"::float8 as "${c}"`).join(', ')}, "resultSummary", "errorLog", "rollbackData"`;

/**
 * Widens INTEGER counters of a tracking table created by an earlier version (or mapped by an app as Prisma
 * `Int`) to BIGINT, so a table of more than 2^31 rows cannot overflow them. Rewrites the small tracking
 * table under ACCESS EXCLUSIVE; runs inside `ensure`'s transaction; a no-op once they are BIGINT.
 */
async function widenCounters(client: pg.ClientBase, qualified: string): Promise<void> {
  const { rows } = await client.query<{ attname: string }>(
    `select attname from pg_attribute where attrelid = $1::regclass and attname = any($2) and atttypid = 'int4'::regtype`,
    [qualified, COUNTERS],
  );
  if (rows.length === 0) return;
  await client.query(`alter table ${qualified} ${rows.map((r) => `alter column ${quoteIdent(r.attname)} type bigint`).join(', ')}`);
}

const BOOTSTRAP_LOCK = 'prisma-evolve:tracking-bootstrap';

/**
 * Reads and writes the `DataMigration` tracking table (seed 003's columns, DDL identical to what Prisma
 * generates for that model, so an app can map it in schema.prisma). Every method takes the client to run
 * on, so callers decide the transaction a write belongs to.
 */
export class DataMigrationStore {
  readonly qualified: string;

  constructor(readonly location: TrackingLocation = DEFAULT_TRACKING) {
    this.qualified = quoteQualified(location.schema, location.table);
  }

  /**
   * Creates the schemas and the tracking table if missing (`IF NOT EXISTS`, serialised by a transaction-level
   * advisory lock so concurrent workers do not race), then checks that an existing table has every column
   * the toolkit writes; a missing one is an `InvalidArgumentError` naming it. Idempotent. Runs
   * `extraDdl` (the callers' own state tables) in the same transaction.
   */
  async ensure(client: pg.ClientBase, extraDdl: readonly string[] = []): Promise<void> {
    const { schema, table, stateSchema } = this.location;
    const index = quoteIdent(`${table}_name_key`.slice(0, 63));
    await client.query('begin');
    try {
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [BOOTSTRAP_LOCK]);
      await client.query(`create schema if not exists ${quoteIdent(schema)}`);
      await client.query(`create schema if not exists ${quoteIdent(stateSchema)}`);
      await client.query(`create table if not exists ${this.qualified} (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "startedAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),
    "totalRecords" BIGINT,
    "processedRecords" BIGINT NOT NULL DEFAULT 0,
    "failedRecords" BIGINT NOT NULL DEFAULT 0,
    "resultSummary" JSONB,
    "errorLog" JSONB NOT NULL DEFAULT '[]',
    "isReversible" BOOLEAN NOT NULL DEFAULT false,
    "rollbackData" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT ${quoteIdent(`${table}_pkey`.slice(0, 63))} PRIMARY KEY ("id"))`);
      await client.query(`create unique index if not exists ${index} on ${this.qualified} ("name")`);
      for (const ddl of extraDdl) await client.query(ddl);
      const { rows } = await client.query<{ attname: string }>(
        `select attname from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
        [this.qualified],
      );
      const present = new Set(rows.map((row) => row.attname));
      const missing = COLUMNS.filter((column) => !present.has(column));
      if (missing.length > 0) {
        throw new InvalidArgumentError(
          'tracking table',
          `${this.qualified} exists but lacks column(s) ${missing.map((c) => `"${c}"`).join(', ')}`,
        );
      }
      await widenCounters(client, this.qualified);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  }

  /** Reads one row by name; `undefined` when there is none. Read-only. */
  async get(client: pg.ClientBase, name: string): Promise<DataMigrationRow | undefined> {
    const { rows } = await client.query<DataMigrationRow>(
      `select ${SELECTED}
       from ${this.qualified} where "name" = $1`,
      [name],
    );
    return rows[0];
  }

  /**
   * Marks `name` running (inserting it if new) unless it is already `completed`, and returns the row as it
   * is afterwards; a row whose status may not become `running` ({@link STATUS_TRANSITIONS}, e.g.
   * `rolling_back`) is a `StateTransitionError`. `startedAt` keeps the first start; `totalRecords` is set only when still unknown. One
   * statement; atomic.
   */
  async start(
    client: pg.ClientBase,
    name: string,
    fields: { description?: string; totalRecords?: number | null; isReversible?: boolean },
  ): Promise<DataMigrationRow> {
    await client.query(
      `insert into ${this.qualified} ("id", "name", "description", "status", "startedAt", "totalRecords", "isReversible", "updatedAt")
       values (gen_random_uuid()::text, $1, $2, 'running', now(), $3, $4, now())
       on conflict ("name") do update set
         "status" = 'running',
         "startedAt" = coalesce(${this.qualified}."startedAt", now()),
         "completedAt" = null,
         "totalRecords" = coalesce(${this.qualified}."totalRecords", excluded."totalRecords"),
         "description" = coalesce(excluded."description", ${this.qualified}."description"),
         "updatedAt" = now()
       where ${this.qualified}."status" = any($5)`,
      [name, fields.description ?? null, fields.totalRecords ?? null, fields.isReversible ?? false, STATUS_TRANSITIONS.running],
    );
    const row = await this.get(client, name);
    if (!row) throw new Error(`tracking row "${name}" vanished right after it was written`);
    if (row.status !== 'running' && row.status !== 'completed') throw new StateTransitionError(name, row.status, 'running');
    return row;
  }

  /**
   * Resets counters and status of `name` to a fresh start (for an explicit restart), where
   * {@link STATUS_TRANSITIONS} lets it become `pending`. One statement.
   */
  async reset(client: pg.ClientBase, name: string): Promise<void> {
    await client.query(
      `update ${this.qualified} set "status" = 'pending', "processedRecords" = 0, "failedRecords" = 0, "totalRecords" = null,
         "resultSummary" = null, "completedAt" = null, "updatedAt" = now() where "name" = $1 and "status" = any($2)`,
      [name, STATUS_TRANSITIONS.pending],
    );
  }

  /**
   * Adds to the counters of `name` and returns the new `processedRecords`. Meant to run inside the
   * transaction of the work it counts, so progress and work commit together.
   */
  async addProgress(client: pg.ClientBase, name: string, processed: number, failed: number): Promise<number> {
    const { rows } = await client.query<{ processedRecords: number }>(
      `update ${this.qualified} set "processedRecords" = "processedRecords" + $2, "failedRecords" = "failedRecords" + $3,
         "updatedAt" = now() where "name" = $1 returning "processedRecords"::float8 as "processedRecords"`,
      [name, processed, failed],
    );
    return rows[0]?.processedRecords ?? 0;
  }

  /**
   * The one status transition: moves `name` to `status` (and sets `resultSummary` when given; `completed`
   * also stamps `completedAt`) if {@link STATUS_TRANSITIONS} allows it from the status the row has, checked
   * in the same statement. Returns the status it had. A row that does not exist, or whose status may not
   * move to `status`, is a `StateTransitionError` naming both (`hint` says what to do instead).
   */
  async transition(client: pg.ClientBase, name: string, status: DataMigrationStatus, options: { resultSummary?: unknown; hint?: string } = {}): Promise<DataMigrationStatus> {
    const { rows } = await client.query<{ previous: DataMigrationStatus }>(
      `update ${this.qualified} t set "status" = $2,
         "completedAt" = case when $2 = 'completed' then now() else t."completedAt" end,
         "resultSummary" = coalesce($3::jsonb, t."resultSummary"), "updatedAt" = now()
       from (select "status" as previous from ${this.qualified} where "name" = $1 for update) old
       where t."name" = $1 and old.previous = any($4) returning old.previous`,
      [name, status, options.resultSummary === undefined ? null : JSON.stringify(options.resultSummary), STATUS_TRANSITIONS[status]],
    );
    const previous = rows[0]?.previous;
    if (previous !== undefined) return previous;
    throw new StateTransitionError(name, (await this.get(client, name))?.status ?? 'absent', status, options.hint);
  }

  /** {@link transition} to `status` with an optional `resultSummary` (the status a unit ends in). */
  async finish(client: pg.ClientBase, name: string, status: DataMigrationStatus, resultSummary?: unknown): Promise<void> {
    await this.transition(client, name, status, resultSummary === undefined ? {} : { resultSummary });
  }

  /**
   * Appends `entry` (with a timestamp) to `errorLog` of `name`, keeping the newest
   * {@link MAX_ERROR_LOG_ENTRIES}, and optionally sets the status where {@link STATUS_TRANSITIONS} allows
   * it (the entry is logged either way). One statement.
   */
  async logError(client: pg.ClientBase, name: string, entry: Record<string, unknown>, status?: DataMigrationStatus): Promise<void> {
    await client.query(
      `update ${this.qualified} set
         "errorLog" = (select coalesce(jsonb_agg(e order by ord), '[]'::jsonb) from (
            select e, ord from jsonb_array_elements("errorLog" || jsonb_build_array($2::jsonb)) with ordinality x(e, ord)
            order by ord desc limit ${MAX_ERROR_LOG_ENTRIES}) kept),
         "status" = case when "status" = any($4) then coalesce($3, "status") else "status" end, "updatedAt" = now()
       where "name" = $1`,
      [name, JSON.stringify({ at: new Date().toISOString(), ...entry }), status ?? null, status ? STATUS_TRANSITIONS[status] : []],
    );
  }

  /** Rows whose name starts with `prefix` (matched literally), ordered by name. Read-only. */
  async list(client: pg.ClientBase, prefix: string): Promise<DataMigrationRow[]> {
    const { rows } = await client.query<DataMigrationRow>(
      `select ${SELECTED}
       from ${this.qualified} where left("name", length($1)) = $1 order by "name"`,
      [prefix],
    );
    return rows;
  }

  /** Stores `data` as `rollbackData` of `name` (what a rollback needs, captured before the change); `isReversible` is set when given. */
  async setRollbackData(client: pg.ClientBase, name: string, data: unknown, isReversible?: boolean): Promise<void> {
    await client.query(`update ${this.qualified} set "rollbackData" = $2::jsonb, "isReversible" = coalesce($3, "isReversible"), "updatedAt" = now() where "name" = $1`, [
      name,
      JSON.stringify(data),
      isReversible ?? null,
    ]);
  }


  /** Raises the counters of `name` to at least the given values (for steps that count their own work). */
  async raiseCounts(client: pg.ClientBase, name: string, processed: number, failed: number): Promise<void> {
    await client.query(
      `update ${this.qualified} set "processedRecords" = greatest("processedRecords", $2), "failedRecords" = greatest("failedRecords", $3),
         "updatedAt" = now() where "name" = $1`,
      [name, processed, failed],
    );
  }

  /**
   * Marks row `row` and the rows under it (`row/…`, its units), where {@link STATUS_TRANSITIONS} lets their
   * status move to `status`, with it, clearing counters and rollback data (a rolled-back step, a restarted
   * one); with `childrenOnly`, only the rows under it. A row whose name merely starts with the same text
   * (`step` and `step_two`) is not touched. One statement.
   */
  async resetRow(client: pg.ClientBase, row: string, status: DataMigrationStatus, options: { childrenOnly?: boolean } = {}): Promise<void> {
    await client.query(
      `update ${this.qualified} set "status" = $2, "processedRecords" = 0, "failedRecords" = 0, "totalRecords" = null,
         "rollbackData" = null, "completedAt" = null, "updatedAt" = now()
       where ((not $4 and "name" = $1) or left("name", length($1) + 1) = $1 || '/') and "status" = any($3)`,
      [row, status, STATUS_TRANSITIONS[status], options.childrenOnly === true],
    );
  }

}
