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
}

/**
 * `@prisma/adapter-pg`'s `executeScript` splits a migration script on every `;` and runs the pieces one
 * by one. That breaks `;` inside function bodies, `DO` blocks and string literals. It also changes
 * transactionality: native `prisma migrate deploy` sends the whole script in one simple query, so a
 * multi-statement script is atomic. This factory keeps everything else of the adapter but runs each
 * script whole, as the native engine does. Errors are converted the way the adapter converts them.
 */
class WholeScriptAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider: 'postgres' = 'postgres';
  readonly adapterName: string;
  /** The driver error of the last script that failed (the engine's own message drops the SQLSTATE). */
  lastScriptError: pg.DatabaseError | undefined;

  constructor(
    private readonly inner: PrismaPg,
    private readonly pool: pg.Pool,
  ) {
    this.adapterName = inner.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return this.wrap(await this.inner.connect());
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.inner.connectToShadowDb();
  }

  private wrap(adapter: SqlDriverAdapter): SqlDriverAdapter {
    const pool = this.pool;
    adapter.executeScript = async (script: string): Promise<void> => {
      this.lastScriptError = undefined;
      try {
        await pool.query(script);
      } catch (error) {
        const e = error as pg.DatabaseError;
        if (typeof e.code !== 'string') throw error;
        this.lastScriptError = e;
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
    };
    return adapter;
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
  const factory = new WholeScriptAdapterFactory(new PrismaPg(pool), pool);
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
