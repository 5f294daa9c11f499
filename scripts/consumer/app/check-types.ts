// Our declarations under a consumer's strictest settings (tsconfig.json: skipLibCheck false).
import { backfill, definePlan, definePhase, schemaStep, step, addColumn, type BackfillOptions, type DedupeOptions } from '@prisma-evolve/core';
import { softDelete, type SoftDeleteConfig } from '@prisma-evolve/soft-delete';
import { loadPlan } from '@prisma-evolve/cli';
import { createTestDatabase } from '@prisma-evolve/testing';

const options: BackfillOptions = { database: 'postgresql://localhost/app', name: 'fill', table: 'User', set: { locale: "'en'" }, where: 't.locale IS NULL' };
const dedupe: Partial<DedupeOptions> = {};
export const plan = definePlan({
  name: 'app',
  migrationsDir: './migrations',
  migrationPrefix: '20260101000000',
  phases: [definePhase({ name: 'p', steps: [schemaStep('add', step(addColumn, { table: 'User', column: 'locale', type: 'text' }))] })],
});
export const uses = [backfill, options, dedupe, softDelete, loadPlan, createTestDatabase] as const;
export type Config = SoftDeleteConfig<{ models: {} }>;
