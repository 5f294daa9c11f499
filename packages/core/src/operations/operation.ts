import type pg from 'pg';
import type { z } from 'zod';
import type { BackfillProgress } from '../backfill/progress-tracker.js';
import type { CatalogSnapshot } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { MAX_IDENTIFIER_BYTES } from '../sql.js';
import type { TrackingLocation } from '../tracking/data-migration-store.js';

/** PostgreSQL's table lock modes, weakest first. */
export type LockLevel =
  | 'ACCESS SHARE'
  | 'ROW SHARE'
  | 'ROW EXCLUSIVE'
  | 'SHARE UPDATE EXCLUSIVE'
  | 'SHARE'
  | 'SHARE ROW EXCLUSIVE'
  | 'EXCLUSIVE'
  | 'ACCESS EXCLUSIVE';

/** One SQL statement of a plan, with the strongest lock it takes on an existing table. */
export interface PlannedStatement {
  readonly sql: string;
  /** `null` when it only touches objects it creates itself. */
  readonly lock: LockLevel | null;
  /** True when it reads the table's rows while holding `lock` (a scan, a validation, an index build). */
  readonly scansData: boolean;
}

/**
 * Statements that run together: in one transaction (`transactional`) or, for the few statements
 * PostgreSQL refuses inside one (`CONCURRENTLY`), alone. Each SQL unit becomes one Prisma migration folder.
 */
export interface SqlUnit {
  readonly kind: 'sql';
  /** Short snake_case label, part of the folder name. */
  readonly name: string;
  readonly transactional: boolean;
  readonly statements: readonly PlannedStatement[];
  /** For `CREATE INDEX CONCURRENTLY`: the index an earlier failed try may have left INVALID (dropped first). */
  readonly buildsIndex?: { readonly schema: string; readonly name: string };
}

/** What a data unit gets to run with. */
export interface DataUnitContext {
  readonly databaseUrl: string;
  /** Unique tracking name of this unit (its `DataMigration` row and checkpoints). */
  readonly name: string;
  readonly tracking: TrackingLocation;
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: BackfillProgress) => void;
}

/** What a data unit did. */
export interface DataOutcome {
  readonly processed: number;
  readonly failed: number;
  readonly canceled: boolean;
  readonly summary?: unknown;
}

/**
 * Work on rows (a backfill, copying orphans away) that runs in short batches outside any migration
 * folder, resumable by its name. `remaining`, when set, is a SQL boolean that is true while the work is
 * unfinished: later folders that depend on it carry it as a guard.
 */
export interface DataUnit {
  readonly kind: 'data';
  readonly name: string;
  readonly description: string;
  readonly remaining?: string;
  /**
   * Does the work in batches that each commit on their own; idempotent (a rerun after a crash continues
   * from the last committed batch) and stops early, resumably, when `context.signal` aborts.
   */
  run(context: DataUnitContext): Promise<DataOutcome>;
}

/** A step of a plan: SQL (a migration folder) or data. */
export type PlannedUnit = SqlUnit | DataUnit;

/** The plan of one operation against one catalog. */
export interface OperationPlan {
  /** The expand stage: what `up` does. Compatible with the old and the new application code. */
  readonly expand: readonly PlannedUnit[];
  /** Undoes `expand` exactly (the catalog afterwards equals the one planned against). */
  readonly down: readonly PlannedUnit[];
  /** The contract stage (expand/contract operations only): removes what old code needed. Irreversible. */
  readonly contract: readonly PlannedUnit[];
}

/** A table (or one column of it) an operation creates. */
export interface CreatedObject {
  readonly schema: string;
  readonly table: string;
  readonly column?: string;
}

/** One post-condition and whether it holds. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The stage an operation is at: after `expand` or after `contract`. */
export type Stage = 'expand' | 'contract';

/**
 * An expand/contract schema operation. `plan` is pure: the same spec and catalog always give the same
 * SQL, which is what makes `plan`/`--dry-run` free and migration folders reproducible. `precheck` reads
 * data the plan depends on (orphans, duplicates, violations, volatile defaults) and throws before anything
 * runs when the operation cannot go ahead. `verify` reads the catalog (and data where needed).
 */
export interface Operation<Spec, Input = Spec> {
  readonly kind: string;
  readonly spec: z.ZodType<Spec, Input>;
  /** One line saying what the operation does to which table and column, for plans and folder headers. Pure. */
  describe(spec: Spec): string;
  /** The expand, down and contract units for `spec` against `catalog`; throws naming the object when it cannot apply. Pure. */
  plan(spec: Spec, catalog: CatalogSnapshot): OperationPlan;
  /** Reads the data the plan depends on and reports what would stop it (orphans, duplicates, NULLs); read-only, no locks beyond reads. */
  precheck?(spec: Spec, client: pg.ClientBase, catalog: CatalogSnapshot): Promise<readonly Check[]>;
  /** Tables and columns the expand stage creates, so later steps of a phase may name them before they exist. */
  creates?(spec: Spec): readonly CreatedObject[];
  /** The post-conditions of `stage` (catalog and, where needed, data); read-only. */
  verify(spec: Spec, client: pg.ClientBase, stage: Stage): Promise<readonly Check[]>;
}

/** An operation together with a parsed spec: what a phase step holds. */
export interface OperationStep<Spec = unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the step erases the input type
  readonly operation: Operation<Spec, any>;
  readonly spec: Spec;
}

/**
 * Parses `raw` with the operation's zod schema; the first problem becomes an `InvalidArgumentError`
 * naming the operation and the field path. Pure.
 */
export function parseSpec<Spec, Input>(operation: Operation<Spec, Input>, raw: unknown): Spec {
  const parsed = operation.spec.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'spec';
  throw new InvalidArgumentError(`${operation.kind}.${path}`, issue?.message ?? 'invalid spec');
}

/** Binds an operation to a spec after validating it: `step(createIndex, { … })`. */
export function step<Spec, Input>(operation: Operation<Spec, Input>, raw: Input): OperationStep<Spec> {
  return { operation, spec: parseSpec(operation, raw) };
}

/**
 * A name the way Prisma derives it (`Table_col1_col2_suffix`); throws `InvalidArgumentError` naming the
 * spec field when it would exceed 63 bytes (Prisma and PostgreSQL would truncate it differently), so the
 * caller gives one explicitly. Pure.
 */
export function prismaStyleName(table: string, columns: readonly string[], suffix: 'idx' | 'key' | 'fkey' | 'check', field: string): string {
  const name = `${table}_${columns.join('_')}_${suffix}`;
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new InvalidArgumentError(field, `the derived name "${name}" is longer than ${MAX_IDENTIFIER_BYTES} bytes; give one explicitly`);
  }
  return name;
}

/** A transactional SQL unit of one statement. Pure. */
export function sqlUnit(name: string, statement: PlannedStatement, transactional = true): SqlUnit {
  return { kind: 'sql', name, transactional, statements: [statement] };
}
