/** `@prisma-evolve/testing/jest`: jest helpers (they import `@jest/globals`, so only inside jest). */
export { useTestDatabase } from './use-test-database.js';
export type { TestDatabaseHandle } from './use-test-database.js';
export { expectMigrationsSafe } from './expect-migrations-safe.js';
