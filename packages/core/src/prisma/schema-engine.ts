import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
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

/** Options of {@link withSchemaEngine}. */
export interface SchemaEngineOptions {
  /** The database the engine works on. */
  readonly databaseUrl: string;
  /** Prisma schema files the engine is constructed with, as `[path, content]` pairs. */
  readonly datamodels?: ReadonlyArray<readonly [string, string]>;
  /** Receives the engine's JSON log lines; silent by default. */
  readonly onLog?: (line: string) => void;
}

/**
 * Runs `fn` with a Prisma schema engine (the official WebAssembly build, no native download) connected
 * to `databaseUrl` through `@prisma/adapter-pg`, then frees the engine and closes its connection pool,
 * whether `fn` succeeds or throws. Engine errors are wrapped in {@link SchemaEngineError} naming the
 * operation. Takes no locks by itself; what `fn` asks of the engine decides that.
 */
export async function withSchemaEngine<T>(
  options: SchemaEngineOptions,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  await loadBindings();
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool));
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
    return await fn(engine);
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
