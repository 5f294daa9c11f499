import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DiagnoseMigrationHistoryOutput, DiffTarget, MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { InvalidArgumentError, MigrationsDirError } from '../errors.js';
import { writeFileAtomic } from '../runtime/atomic-write.js';
import { readMigrationHistory } from './migration-history.js';
import { MIGRATION_FILE, MIGRATION_LOCKFILE, MIGRATION_LOCKFILE_CONTENT, prismaTimestamp, readMigrationsDir } from './migrations-dir.js';
import { callEngine, withSchemaEngine } from './schema-engine.js';

const NO_FILTER = { externalTables: [], externalEnums: [] };

/** Options shared by the Prisma migration helpers. */
export interface PrismaMigrationsOptions {
  readonly databaseUrl: string;
  /** The app's `prisma/migrations` directory. */
  readonly migrationsDir: string;
  /** Apply only folders whose name sorts at or before this one (e.g. the baseline). */
  readonly upTo?: string;
  /**
   * Apply only the unapplied folders this returns true for (e.g. every folder but a plan's phase folders,
   * which the phase runner applies with their data steps). Folders already applied are unaffected.
   */
  readonly select?: (folder: string) => boolean;
}

/**
 * Applies every unapplied folder of `migrationsDir` with Prisma's own schema engine (WebAssembly build),
 * the same code path as `prisma migrate deploy`: it creates `_prisma_migrations` if missing, runs each
 * `migration.sql` and records its row (checksum = sha256 of the file) exactly as Prisma does. Folders
 * already applied are skipped, so it is idempotent. Each migration script runs as Prisma runs it (one
 * implicit transaction per script unless the script manages its own); a failure leaves that migration
 * recorded as failed, as `prisma migrate deploy` would, and throws a `SchemaEngineError`.
 * Returns the names of the migrations applied by this call.
 */
export async function applyPrismaMigrations(options: PrismaMigrationsOptions): Promise<readonly string[]> {
  const all = await readMigrationsDir(options.migrationsDir);
  const { upTo, select } = options;
  const applied = select ? new Set((await readMigrationHistory(options.databaseUrl, options.migrationsDir)).filter((m) => m.state !== 'pending' && m.state !== 'rolled_back').map((m) => m.name)) : new Set<string>();
  const wanted = (folder: string): boolean => (upTo === undefined || folder <= upTo) && (!select || applied.has(folder) || select(folder));
  const migrationsList = { ...all, migrationDirectories: all.migrationDirectories.filter((dir) => wanted(dir.path)) };
  return withSchemaEngine({ databaseUrl: options.databaseUrl }, async (engine) => {
    const result = await callEngine('applyMigrations', () => engine.applyMigrations({ migrationsList, filters: NO_FILTER }));
    return result.appliedMigrationNames;
  });
}

/**
 * Asks Prisma's schema engine to compare `_prisma_migrations` with the migrations directory, as
 * `prisma migrate status` does: edited, failed and unapplied migrations. Read-only; takes no locks.
 */
export async function diagnosePrismaMigrations(options: PrismaMigrationsOptions): Promise<DiagnoseMigrationHistoryOutput> {
  const migrationsList = await readMigrationsDir(options.migrationsDir);
  return withSchemaEngine({ databaseUrl: options.databaseUrl }, (engine) =>
    callEngine('diagnoseMigrationHistory', () =>
      engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTER }),
    ),
  );
}

/**
 * Returns the SQL Prisma would write to create `schemaPath`'s models from an empty database (what
 * `prisma migrate diff --from-empty --to-schema` prints). Needs a reachable PostgreSQL only because the
 * engine is constructed with a connection; it reads and changes nothing there.
 */
export async function diffEmptyToSchema(databaseUrl: string, schemaPath: string): Promise<string> {
  const content = await readFile(schemaPath, 'utf8');
  const files = [{ path: path.basename(schemaPath), content }];
  return withSchemaEngine({ databaseUrl }, async (engine) => {
    const result = await callEngine('diff', () =>
      engine.diff({ from: { tag: 'empty' }, to: { tag: 'schemaDatamodel', files }, script: true, exitCode: null, filters: NO_FILTER }),
    );
    return result.stdout ?? '';
  });
}

/** Prisma's longest migration name (the part after the timestamp). */
const MAX_MIGRATION_NAME_LENGTH = 200;

/**
 * The schema files of `schemaPath` as the engine takes them: the file itself, or every `.prisma` file
 * under a folder (Prisma's multi-file schemas). Throws {@link MigrationsDirError} naming the path when
 * nothing is there.
 */
export async function readSchemaFiles(schemaPath: string): Promise<Array<{ path: string; content: string }>> {
  const absolute = path.resolve(schemaPath);
  const info = await stat(absolute).catch(() => undefined);
  if (!info) throw new MigrationsDirError(absolute, 'the Prisma schema does not exist');
  if (info.isFile()) return [{ path: absolute, content: await readFile(absolute, 'utf8') }];
  const entries = await readdir(absolute, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile() && entry.name.endsWith('.prisma')).map((entry) => path.join(entry.parentPath, entry.name)).sort();
  if (files.length === 0) throw new MigrationsDirError(absolute, 'holds no .prisma file');
  return Promise.all(files.map(async (file) => ({ path: file, content: await readFile(file, 'utf8') })));
}

/**
 * A migration name as Prisma's CLI makes it from `--name`: accents stripped, lower case, every run of
 * other characters one `_`, at most 200 characters. Pure.
 */
export function migrationNameSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return slug.slice(0, MAX_MIGRATION_NAME_LENGTH);
}

/** Options of {@link createPrismaMigration}. */
export interface CreatePrismaMigrationOptions {
  /** A server the engine connects to; the shadow database is created there unless `shadowServerUrl`. */
  readonly databaseUrl: string;
  /** Where a throwaway shadow database may be created (its role needs CREATEDB); default `databaseUrl`. */
  readonly shadowServerUrl?: string;
  readonly migrationsDir: string;
  /** schema.prisma, or the folder of a multi-file schema. */
  readonly schemaPath: string;
  /** The migration's name; made into Prisma's folder name (see {@link migrationNameSlug}). */
  readonly name: string;
  /** Only compute; write nothing. */
  readonly dryRun?: boolean;
}

/** A migration folder made by {@link createPrismaMigration}. */
export interface CreatedPrismaMigration {
  /** The folder's name, `<yyyyMMddHHmmss>_<name>`. */
  readonly folder: string;
  /** Its absolute path (not written with `dryRun`). */
  readonly path: string;
  readonly sql: string;
}

/**
 * What `prisma migrate dev --create-only` does, with Prisma's own schema engine (WebAssembly): replays the
 * migrations directory on a throwaway shadow database, diffs it against `schemaPath`, and writes the
 * difference as a new folder `<timestamp>_<name>/migration.sql` (plus `migration_lock.toml` in a new
 * directory). The app's database is not read or changed; the shadow database is dropped afterwards, even
 * on failure. Returns `null` (writing nothing) when the schema and the migrations already agree.
 * Throws {@link SchemaEngineError} when a migration fails on the shadow database.
 */
export async function createPrismaMigration(options: CreatePrismaMigrationOptions): Promise<CreatedPrismaMigration | null> {
  const slug = migrationNameSlug(options.name);
  if (!slug) throw new InvalidArgumentError('name', `"${options.name}" has no letter or digit to name a migration folder`);
  const migrationsDir = path.resolve(options.migrationsDir);
  const exists = await stat(migrationsDir).then((info) => info.isDirectory(), () => false);
  const read: MigrationList = exists
    ? await readMigrationsDir(migrationsDir)
    : { baseDir: migrationsDir, lockfile: { path: MIGRATION_LOCKFILE, content: null }, shadowDbInitScript: '', migrationDirectories: [] };
  // A new directory has no lockfile yet; the engine needs one to know the connector (it is written below).
  const migrationsList: MigrationList = { ...read, lockfile: { path: MIGRATION_LOCKFILE, content: read.lockfile.content ?? MIGRATION_LOCKFILE_CONTENT } };
  const files = await readSchemaFiles(options.schemaPath);
  const engineOptions = { databaseUrl: options.databaseUrl, ...(options.shadowServerUrl ? { shadowServerUrl: options.shadowServerUrl } : {}) };
  // The WebAssembly engine's createMigration insists on a shadow database "from an external factory" that
  // this build cannot be given; `diff` from the migrations directory replays them on the adapter's shadow
  // database and renders the same script, so the folder is named here as the engine names it.
  const result = await withSchemaEngine(engineOptions, (engine) =>
    callEngine('diff', () => engine.diff({ from: { tag: 'migrations', ...migrationsList }, to: { tag: 'schemaDatamodel', files }, script: true, exitCode: true, filters: NO_FILTER })),
  );
  if (result.exitCode === 0 || !result.stdout) return null;
  const folder = `${prismaTimestamp(new Date())}_${slug}`;
  const folderPath = path.join(migrationsDir, folder);
  if (!options.dryRun) {
    await mkdir(folderPath, { recursive: true });
    await writeFileAtomic(path.join(folderPath, MIGRATION_FILE), result.stdout);
    const lockfile = path.join(migrationsDir, MIGRATION_LOCKFILE);
    if (!(await stat(lockfile).catch(() => undefined))) await writeFileAtomic(lockfile, MIGRATION_LOCKFILE_CONTENT);
  }
  return { folder, path: folderPath, sql: result.stdout };
}
/**
 * The SQL that takes a database from schema `from` (a path, or `'empty'`) to schema `to`, as `prisma migrate
 * diff --from-schema … --to-schema … --script` prints it. Needs a reachable PostgreSQL only because the
 * engine is constructed with a connection; it reads and changes nothing there.
 */
export async function diffPrismaSchemas(databaseUrl: string, from: string, to: string): Promise<string> {
  const target = async (schema: string): Promise<DiffTarget> => (schema === 'empty' ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: await readSchemaFiles(schema) });
  const [fromTarget, toTarget] = [await target(from), await target(to)];
  return withSchemaEngine({ databaseUrl }, async (engine) => {
    const result = await callEngine('diff', () => engine.diff({ from: fromTarget, to: toTarget, script: true, exitCode: null, filters: NO_FILTER }));
    return result.stdout ?? '';
  });
}

/**
 * The SQL that takes the live database at `databaseUrl` to schema `to` (a schema.prisma path or folder), as
 * `prisma migrate diff --from-config-datasource --to-schema … --script` prints it: Prisma's engine describes
 * the database through our driver adapter. An empty migration (`isEmptyDiff`) means Prisma sees no drift.
 * Read-only: catalog queries only.
 */
export async function diffDatabaseToSchema(databaseUrl: string, to: string): Promise<string> {
  const files = await readSchemaFiles(to);
  return withSchemaEngine({ databaseUrl }, async (engine) => {
    const result = await callEngine('diff', () =>
      engine.diff({ from: { tag: 'schemaDatasource', files, configDir: path.dirname(path.resolve(to)) }, to: { tag: 'schemaDatamodel', files }, script: true, exitCode: null, filters: NO_FILTER }),
    );
    return result.stdout ?? '';
  });
}

/** Whether a diff script (from {@link diffDatabaseToSchema} or {@link diffPrismaSchemas}) changes nothing. Pure. */
export function isEmptyDiff(script: string): boolean {
  return script.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('--'));
}
