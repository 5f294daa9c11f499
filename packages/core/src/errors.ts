/**
 * The error hierarchy of `@prisma-evolve/core`. Every error has a literal `code`, a lower-case message that
 * names identifiers in double quotes, and keeps the underlying error as `cause`.
 */

/** Codes of every error the core package throws; callers switch on them exhaustively. */
export type EvolveErrorCode =
  | 'CONNECTION_FAILED'
  | 'DATABASE_ERROR'
  | 'SCHEMA_ENGINE_FAILED'
  | 'MIGRATIONS_DIR_INVALID'
  | 'INVALID_ARGUMENT'
  | 'TABLE_NOT_FOUND'
  | 'COLUMN_NOT_FOUND'
  | 'NO_USABLE_KEY'
  | 'BACKFILL_BATCH_FAILED'
  | 'BACKFILL_SPEC_CHANGED'
  | 'COVERAGE_BELOW_THRESHOLD'
  | 'PHASE_NOT_FOUND'
  | 'PHASE_DEPENDENCY_UNMET'
  | 'PRECHECK_FAILED'
  | 'VERIFICATION_FAILED'
  | 'PHASE_FAILED'
  | 'ROLLBACK_REFUSED'
  | 'USAGE'
  | 'RUNNER_BUSY'
  | 'INVALID_STATE_TRANSITION'
  | 'COPY_FAILED';

/** Base class of every error thrown by prisma-evolve. */
export class EvolveError extends Error {
  /** A stable machine-readable code. */
  readonly code: EvolveErrorCode;

  constructor(code: EvolveErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The database server could not be reached or refused the connection; names the host and port. */
export class ConnectionFailedError extends EvolveError {
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, reason: string, options?: { cause?: unknown }) {
    super('CONNECTION_FAILED', `cannot connect to postgresql at "${host}:${port}": ${reason}`, options);
    this.host = host;
    this.port = port;
  }
}

/** A statement failed on the server; carries SQLSTATE, the SQL and its parameters. */
export class DatabaseError extends EvolveError {
  readonly sqlState: string | undefined;
  readonly sql: string;
  readonly params: readonly unknown[];

  constructor(sql: string, params: readonly unknown[], cause: unknown) {
    const sqlState = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('DATABASE_ERROR', `statement failed${sqlState ? ` (sqlstate ${sqlState})` : ''}: ${reason}`, { cause });
    this.sqlState = sqlState;
    this.sql = sql;
    this.params = params;
  }
}

/** Prisma's schema engine (WebAssembly build) reported an error. */
export class SchemaEngineError extends EvolveError {
  readonly operation: string;

  constructor(operation: string, cause: unknown) {
    super('SCHEMA_ENGINE_FAILED', `prisma schema engine "${operation}" failed: ${describeEngineError(cause)}`, { cause });
    this.operation = operation;
  }
}

/** A Prisma migrations directory is missing or malformed; names the path. */
export class MigrationsDirError extends EvolveError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super('MIGRATIONS_DIR_INVALID', `migrations directory "${path}": ${reason}`);
    this.path = path;
  }
}

/** A caller passed an argument the toolkit cannot act on; names the argument. */
export class InvalidArgumentError extends EvolveError {
  readonly argument: string;

  constructor(argument: string, reason: string) {
    super('INVALID_ARGUMENT', `invalid "${argument}": ${reason}`);
    this.argument = argument;
  }
}

/** A table the caller named does not exist (or is not an ordinary/partitioned table) in the schema. */
export class TableNotFoundError extends EvolveError {
  readonly schema: string;
  readonly table: string;

  constructor(schema: string, table: string) {
    super('TABLE_NOT_FOUND', `table "${schema}"."${table}" does not exist`);
    this.schema = schema;
    this.table = table;
  }
}

/** A column the caller named does not exist on the table; `role` says where it was named (e.g. "set"). */
export class ColumnNotFoundError extends EvolveError {
  readonly table: string;
  readonly column: string;

  constructor(table: string, column: string, role: string) {
    super('COLUMN_NOT_FOUND', `column "${column}" (named in ${role}) does not exist on table ${table}`);
    this.table = table;
    this.column = column;
  }
}

/** A table has no primary key or usable unique key to walk in keyset order. */
export class NoUsableKeyError extends EvolveError {
  readonly table: string;

  constructor(table: string, reason: string) {
    super('NO_USABLE_KEY', `table ${table} cannot be walked in batches: ${reason}`);
    this.table = table;
  }
}

/** A backfill batch kept failing after its bounded retries; the checkpoint before it is intact. */
export class BackfillBatchFailedError extends EvolveError {
  readonly migration: string;
  readonly table: string;
  /** Text form of the last key committed before the failing batch (`null`: none yet in this range). */
  readonly cursor: readonly string[] | null;
  readonly attempts: number;

  constructor(migration: string, table: string, cursor: readonly string[] | null, attempts: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const after = cursor ? `after key (${cursor.join(', ')})` : 'at the start of its range';
    super(
      'BACKFILL_BATCH_FAILED',
      `backfill "${migration}" on ${table}: batch ${after} failed after ${attempts} attempt(s): ${reason}`,
      { cause },
    );
    this.migration = migration;
    this.table = table;
    this.cursor = cursor;
    this.attempts = attempts;
  }
}

/** A backfill is resumed with a different spec than the one its checkpoints were written for. */
export class BackfillSpecChangedError extends EvolveError {
  readonly migration: string;

  constructor(migration: string) {
    super(
      'BACKFILL_SPEC_CHANGED',
      `backfill "${migration}" has checkpoints from a different spec (table, key, set, where or joins changed); ` +
        'pass restart: true to discard them and start over, or use a new name',
    );
    this.migration = migration;
  }
}

/** After a run, too few rows satisfy the target predicate; carries samples of the keys that do not. */
export class CoverageBelowThresholdError extends EvolveError {
  readonly migration: string;
  readonly table: string;
  readonly coverage: number;
  readonly threshold: number;
  readonly remaining: number;
  readonly samples: readonly (readonly string[])[];

  constructor(
    migration: string,
    table: string,
    result: { coverage: number; threshold: number; remaining: number; samples: readonly (readonly string[])[] },
  ) {
    const percent = (value: number): string => `${(value * 100).toFixed(2)}%`;
    const shown = result.samples.map((key) => `(${key.join(', ')})`).join(', ');
    super(
      'COVERAGE_BELOW_THRESHOLD',
      `backfill "${migration}" on ${table}: coverage ${percent(result.coverage)} is below the threshold ` +
        `${percent(result.threshold)}; ${result.remaining} row(s) do not satisfy the target${shown ? `, e.g. keys ${shown}` : ''}`,
    );
    this.migration = migration;
    this.table = table;
    this.coverage = result.coverage;
    this.threshold = result.threshold;
    this.remaining = result.remaining;
    this.samples = result.samples;
  }
}

/** A phase name that the plan does not have. */
export class PhaseNotFoundError extends EvolveError {
  readonly phase: string;

  constructor(phase: string, known: readonly string[]) {
    super('PHASE_NOT_FOUND', `unknown phase "${phase}"; the plan has ${known.map((n) => `"${n}"`).join(', ') || 'no phases'}`);
    this.phase = phase;
  }
}

/** A phase was asked to run before the phases it depends on completed. */
export class PhaseDependencyError extends EvolveError {
  readonly phase: string;
  readonly missing: readonly string[];

  constructor(phase: string, missing: readonly string[]) {
    super('PHASE_DEPENDENCY_UNMET', `phase "${phase}" depends on ${missing.map((n) => `"${n}"`).join(', ')}, which ${missing.length > 1 ? 'have' : 'has'} not completed`);
    this.phase = phase;
    this.missing = missing;
  }
}

/** A step's prechecks (orphans, duplicates, violations, NULLs, volatile default) found a problem; nothing ran. */
export class PrecheckFailedError extends EvolveError {
  readonly step: string;
  readonly problems: readonly string[];

  constructor(step: string, problems: readonly string[]) {
    super('PRECHECK_FAILED', `step "${step}" cannot run: ${problems.join('; ')}`);
    this.step = step;
    this.problems = problems;
  }
}

/** Post-conditions of a step did not hold after it ran. */
export class VerificationFailedError extends EvolveError {
  readonly step: string;
  readonly failed: readonly string[];

  constructor(step: string, failed: readonly string[]) {
    super('VERIFICATION_FAILED', `step "${step}" did not verify: ${failed.join('; ')}`);
    this.step = step;
    this.failed = failed;
  }
}

/** A phase stopped at a step; the phase is `failed` with the error in `errorLog`, and `run` resumes it. */
export class PhaseFailedError extends EvolveError {
  readonly phase: string;
  readonly step: string;

  constructor(phase: string, step: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('PHASE_FAILED', `phase "${phase}" failed at step "${step}": ${reason}`, { cause });
    this.phase = phase;
    this.step = step;
  }
}

/** A rollback that would break something (a dependent phase is applied, a contract step ran). */
export class RollbackRefusedError extends EvolveError {
  readonly phase: string;

  constructor(phase: string, reason: string) {
    super('ROLLBACK_REFUSED', `cannot roll back phase "${phase}": ${reason}`);
    this.phase = phase;
  }
}

function describeEngineError(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === 'object' && cause !== null) {
    const record = cause as Record<string, unknown>;
    if (typeof record['message'] === 'string') return record['message'];
    return JSON.stringify(cause);
  }
  return String(cause);
}

/**
 * A command line was malformed (unknown command or flag, missing argument, no database given): the CLI
 * exits 2 on it. `flag` names the flag or argument at fault when there is one.
 */
export class UsageError extends EvolveError {
  readonly flag: string | undefined;

  constructor(message: string, flag?: string) {
    super('USAGE', message);
    this.flag = flag;
  }
}

/** Another `run`, `rollback` or `deploy` holds the database's runner lease; names the holder. */
export class RunnerBusyError extends EvolveError {
  readonly holder: string;

  constructor(command: string, holder: string) {
    super('RUNNER_BUSY', `cannot ${command}: another prisma-evolve runner is working on this database: ${holder}; wait for it (or pass --wait SECONDS)`);
    this.holder = holder;
  }
}

/** A tracking row cannot move to the status asked for from the one it has (e.g. run a phase that is half rolled back). */
export class StateTransitionError extends EvolveError {
  readonly row: string;
  readonly from: string;
  readonly to: string;

  constructor(row: string, from: string, to: string, hint = '') {
    super('INVALID_STATE_TRANSITION', `"${row}" is ${from} and cannot become ${to}${hint ? `: ${hint}` : ''}`);
    this.row = row;
    this.from = from;
    this.to = to;
  }
}

/**
 * A legacy copy cannot go on, or its result does not hold up: names the copy, the plan entry (target table)
 * and what is wrong (a reference to an entry not copied yet, a cycle, dead letters over the threshold, a
 * source key that is not unique). Nothing committed is lost; fix the cause and run the copy again.
 */
export class CopyFailedError extends EvolveError {
  readonly copy: string;
  readonly entry: string | undefined;

  constructor(copy: string, entry: string | undefined, reason: string, options?: { cause?: unknown }) {
    super('COPY_FAILED', `copy "${copy}"${entry ? `, table "${entry}"` : ''}: ${reason}`, options);
    this.copy = copy;
    this.entry = entry;
  }
}
