/** Creates the example's two databases on a server: the legacy source (seeded) and the edu_v2 target (migrated from schema.prisma). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffEmptyToSchema, withClient } from '@prisma-evolve/core';
import { createTestDatabase, type TestDatabase } from '@prisma-evolve/testing';
import { seedLegacy } from './legacy.js';

export const SCHEMA_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'schema.prisma');
export const COPY_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'copy.ts');

/** A target database with a schema.prisma (default: this example's) applied, as Prisma would write it from an empty database. */
export async function createTarget(serverUrl: string, prefix = 'evolve_lms_v2', schemaPath = SCHEMA_PATH): Promise<TestDatabase> {
  const target = await createTestDatabase(serverUrl, { prefix });
  const sql = await diffEmptyToSchema(target.url, schemaPath);
  await withClient(target.url, (client) => client.query(sql));
  return target;
}

/** A legacy source database seeded at `scale`. */
export async function createSource(serverUrl: string, scale: number, prefix = 'evolve_lms_legacy'): Promise<TestDatabase> {
  const source = await createTestDatabase(serverUrl, { prefix });
  await seedLegacy(source.url, scale);
  return source;
}
