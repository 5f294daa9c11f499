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
  | 'INVALID_ARGUMENT';

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

function describeEngineError(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === 'object' && cause !== null) {
    const record = cause as Record<string, unknown>;
    if (typeof record['message'] === 'string') return record['message'];
    return JSON.stringify(cause);
  }
  return String(cause);
}
