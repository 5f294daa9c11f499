/**
 * `@prisma-evolve/core`: the public API of prisma-evolve. Everything exported here is supported;
 * anything reached by a deep import is not.
 */
export {
  EvolveError,
  ConnectionFailedError,
  DatabaseError,
  SchemaEngineError,
  MigrationsDirError,
  InvalidArgumentError,
} from './errors.js';
export type { EvolveErrorCode } from './errors.js';
export { quoteIdent, quoteQualified, quoteLiteral, MAX_IDENTIFIER_BYTES } from './sql.js';
export { parseConnectionTarget, withDatabase, assertReachable, DEFAULT_CONNECT_TIMEOUT_MS } from './db/connection-target.js';
export type { ConnectionTarget } from './db/connection-target.js';
export { withSchemaEngine } from './prisma/schema-engine.js';
export type { SchemaEngineOptions } from './prisma/schema-engine.js';
export { readMigrationsDir, MIGRATION_FILE, MIGRATION_LOCKFILE } from './prisma/migrations-dir.js';
export { applyPrismaMigrations, diagnosePrismaMigrations, diffEmptyToSchema } from './prisma/prisma-migrations.js';
export type { PrismaMigrationsOptions } from './prisma/prisma-migrations.js';
export { readMigrationHistory } from './prisma/migration-history.js';
export type { MigrationHistoryEntry, MigrationState } from './prisma/migration-history.js';
export { listTables } from './db/list-tables.js';
export { toolkitName, isToolkitName, RESERVED_PREFIX } from './naming.js';
export type { ToolkitObjectKind } from './naming.js';
