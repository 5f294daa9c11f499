/**
 * `@prisma-evolve/testing`: real PostgreSQL for migration tests. An ephemeral server when no
 * `DATABASE_URL` is set, fresh databases, templates for speed. Jest helpers live in
 * `@prisma-evolve/testing/jest`, so this entry point loads outside jest too.
 */
export { findPostgresBinaries, PG_BIN_DIR_ENV } from './postgres-binaries.js';
export type { PostgresBinaries, PostgresBinarySource } from './postgres-binaries.js';
export { startEphemeralPostgres, reapOrphanedClusters, EPHEMERAL_ROOT } from './ephemeral-postgres.js';
export type { EphemeralPostgres, EphemeralPostgresOptions } from './ephemeral-postgres.js';
export { createTestDatabase, dropDatabase, ensureTemplateDatabase } from './databases.js';
export type { TestDatabase, TemplateOptions } from './databases.js';
export { acquireTestServer, TEST_SERVER_ENV } from './test-server.js';
export type { TestServer } from './test-server.js';
export { prismaMigrationsTemplate } from './migrations-template.js';
export { tableChecksums } from './data-checksum.js';
