import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, DriverAdapterError } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';
import { SchemaEngineError } from '../errors.js';
import { quoteIdent } from '../sql.js';

export type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

// Node has WebAssembly, but TypeScript declares it only in the DOM lib; this is the slice used here.
type WasmImports = Record<string, unknown>;
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Record<string, WasmImports>): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: WasmApi };

let bindingsReady: Promise<void> | undefined;

/**
 * Instantiates Prisma's schema engine WebAssembly module once per process. The package's own entry
 * point imports the `.wasm` as an ES module, which Node cannot do, so the bytes are loaded here and
 * handed to the wasm-bindgen glue. Idempotent: later calls share the first instantiation.
 */
function loadBindings(): Promise<void> {
  bindingsReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
    const { instance } = await wasmApi.instantiate(bytes, { './schema_engine_bg.js': withUnrefTimers(engineBindings) });
    const glue = engineBindings as unknown as { __wbg_set_wasm(exports: Record<string, unknown>): void };
    glue.__wbg_set_wasm(instance.exports);
    const start = instance.exports['__wbindgen_start'];
    if (typeof start === 'function') start();
  })();
  return bindingsReady;
}

/**
 * The engine races its advisory-lock wait against a 10 s `setTimeout` that it never clears, which
 * kept every CLI process alive for 10 s after its work was done. Its timers are unref'd instead: the
 * engine's connection pool stays open (and so keeps the process alive) for as long as it works.
 */
function withUnrefTimers(bindings: object): WasmImports {
  const imports: WasmImports = { ...(bindings as WasmImports) };
  for (const [name, value] of Object.entries(imports)) {
    if (!name.startsWith('__wbg_setTimeout_') || typeof value !== 'function') continue;
    imports[name] = (...args: unknown[]) => {
      const timer = (value as (...inner: unknown[]) => unknown)(...args);
      (timer as { unref?: () => void } | undefined)?.unref?.();
      return timer;
    };
  }
  return imports;
}

/** What `withSchemaEngine` knows about the engine's session beyond the engine's own API. */
export interface EngineSession {
  /** The PostgreSQL error (with SQLSTATE) of the last migration script that failed, if any. */
  lastScriptError(): pg.DatabaseError | undefined;
}

/** Options of {@link withSchemaEngine}. */
export interface SchemaEngineOptions {
  /** The database the engine works on. */
  readonly databaseUrl: string;
  /** Prisma schema files the engine is constructed with, as `[path, content]` pairs. */
  readonly datamodels?: ReadonlyArray<readonly [string, string]>;
  /** Receives the engine's JSON log lines; silent by default. */
  readonly onLog?: (line: string) => void;
  /**
   * Session settings for every connection the engine opens (e.g. `{ lock_timeout: '2000' }`), passed as
   * startup options so they also cover each migration script.
   */
  readonly sessionSettings?: Readonly<Record<string, string>>;
  /**
   * The server on which a throwaway shadow database is created when the engine needs one (diffs from a
   * migrations directory, `createMigration`); default: `databaseUrl`'s server. Its role needs CREATEDB.
   */
  readonly shadowServerUrl?: string;
}

/** PostgreSQL's one-byte `"char"` type (pg_catalog columns such as `pg_class.relkind`). */
const CHAR_OID = 18;
/** `text`: how a `"char"` value (already a one-character string in pg's text format) is described instead. */
const TEXT_OID = 25;

type PerformIO = (query: unknown) => Promise<{ fields: Array<{ dataTypeID: number }>; rows: unknown[] }>;

/**
 * `@prisma/adapter-pg` has no column type for `"char"` (OID 18) and refuses every result holding one with
 * `UnsupportedNativeDataType`, so the engine cannot describe a database (prisma/orm#27403): describing
 * selects `pg_class.relkind` and friends. Such a value arrives as a one-character text string, so the
 * field is described as `text` before the adapter maps it. Applies to `queryable` and to every
 * transaction it opens.
 */
function describeCharAsText<Q extends object>(queryable: Q): Q {
  const target = queryable as unknown as { performIO?: PerformIO; startTransaction?: (...args: unknown[]) => Promise<object> };
  const performIO = target.performIO?.bind(queryable);
  if (performIO) {
    target.performIO = async (query) => {
      const result = await performIO(query);
      for (const field of result?.fields ?? []) if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
      return result;
    };
  }
  const startTransaction = target.startTransaction?.bind(queryable);
  if (startTransaction) target.startTransaction = async (...args) => describeCharAsText(await startTransaction(...args));
  return queryable;
}

/** Runs `script` whole on `pool`, converting a PostgreSQL error the way `@prisma/adapter-pg` does. */
async function executeWholeScript(pool: pg.Pool, script: string, onError: (error: pg.DatabaseError) => void): Promise<void> {
  try {
    await pool.query(script);
  } catch (error) {
    const e = error as pg.DatabaseError;
    if (typeof e.code !== 'string') throw error;
    onError(e);
    throw new DriverAdapterError({
      originalCode: e.code,
      originalMessage: e.message,
      kind: 'postgres',
      code: e.code,
      severity: e.severity ?? 'ERROR',
      message: e.message,
      detail: e.detail,
      column: e.column,
      hint: e.hint,
    });
  }
}

/**
 * `@prisma/adapter-pg`'s `executeScript` splits a migration script on every `;` and runs the pieces one
 * by one. That breaks `;` inside function bodies, `DO` blocks and string literals. It also changes
 * transactionality: native `prisma migrate deploy` sends the whole script in one simple query, so a
 * multi-statement script is atomic. This factory keeps everything else of the adapter but runs each
 * script whole, as the native engine does, and describes `"char"` columns (see {@link describeCharAsText}).
 *
 * The shadow database (for `createMigration` and diffs from a migrations directory) is a new database
 * `prisma_migrate_shadow_db_<uuid>` created on the server of `shadowServerUrl` (else of the main
 * connection), connected the same way, and dropped when the engine lets go of it.
 */
class WholeScriptAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider: 'postgres' = 'postgres';
  readonly adapterName: string;
  /** The driver error of the last script that failed (the engine's own message drops the SQLSTATE). */
  lastScriptError: pg.DatabaseError | undefined;

  constructor(
    private readonly inner: PrismaPg,
    private readonly pool: pg.Pool,
    private readonly shadowServerUrl: string,
  ) {
    this.adapterName = inner.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return this.wrap(await this.inner.connect(), this.pool);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    const server = new pg.Pool({ connectionString: this.shadowServerUrl, max: 1 });
    server.on('error', () => undefined);
    await executeWholeScript(server, `CREATE DATABASE ${quoteIdent(name)}`, () => undefined);
    const url = new URL(this.shadowServerUrl);
    url.pathname = `/${encodeURIComponent(name)}`;
    const shadow = new pg.Pool({ connectionString: url.toString(), max: 2 });
    shadow.on('error', () => undefined);
    const drop = async (): Promise<void> => {
      await shadow.end().catch(() => undefined);
      // WITH (FORCE) needs PostgreSQL 13; on 12 the pool is closed already, so the plain form suffices.
      await server.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => server.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`)).catch(() => undefined);
      await server.end().catch(() => undefined);
    };
    let adapter: SqlDriverAdapter;
    try {
      adapter = this.wrap(await new PrismaPg(shadow).connect(), shadow);
    } catch (error) {
      await drop();
      throw error;
    }
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose().catch(() => undefined);
      await drop();
    };
    return adapter;
  }

  private wrap(adapter: SqlDriverAdapter, pool: pg.Pool): SqlDriverAdapter {
    adapter.executeScript = (script: string): Promise<void> => {
      this.lastScriptError = undefined;
      return executeWholeScript(pool, script, (error) => {
        this.lastScriptError = error;
      });
    };
    return describeCharAsText(adapter);
  }
}

/**
 * Runs `fn` with a Prisma schema engine (the official WebAssembly build, no native download) connected
 * to `databaseUrl` through `@prisma/adapter-pg`, then frees the engine and closes its connection pool,
 * whether `fn` succeeds or throws. Engine errors are wrapped in {@link SchemaEngineError} naming the
 * operation. Takes no locks by itself; what `fn` asks of the engine decides that.
 */
export async function withSchemaEngine<T>(
  options: SchemaEngineOptions,
  fn: (engine: SchemaEngine, session: EngineSession) => Promise<T>,
): Promise<T> {
  await loadBindings();
  const settings = Object.entries(options.sessionSettings ?? {}).map(([name, value]) => `-c ${name}=${value}`);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2, ...(settings.length > 0 ? { options: settings.join(' ') } : {}) });
  pool.on('error', () => undefined);
  const factory = new WholeScriptAdapterFactory(new PrismaPg(pool), pool, options.shadowServerUrl ?? options.databaseUrl);
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  let engine: SchemaEngine;
  try {
    engine = await engineBindings.SchemaEngine.new(
      { datamodels: options.datamodels?.map(([file, content]) => [file, content] as [string, string]) },
      (line: string) => options.onLog?.(line),
      adapter,
    );
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new SchemaEngineError('new', error);
  }
  try {
    return await fn(engine, { lastScriptError: () => factory.lastScriptError });
  } finally {
    engine.free();
    await pool.end().catch(() => undefined);
  }
}

/**
 * Calls one engine method and wraps a failure in {@link SchemaEngineError} naming `operation`.
 * The engine rejects with plain objects, not Errors; this keeps them as `cause`.
 */
export async function callEngine<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new SchemaEngineError(operation, error);
  }
}
