/**
 * Seed 003 end to end at small scale: the seven phases on dirty legacy data, the seed's post-migration
 * validation, an idempotent re-run, then a rollback of every phase one by one (last first) back to the exact
 * "before" schema and data, and a second full run.
 */
import { describe, expect, it } from '@jest/globals';
import { tableChecksums } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { publicSchema } from './fixtures/sql.js';
import { runScholarlyPlan, scholarlyReport, scholarlyRunner, scratchMigrationsDir } from '../scripts/legacy/scholarly-demo.js';
import { seedLegacyDatabase } from '../scripts/legacy/seed-legacy-database.js';

const db = useTestDatabase();

const schema = publicSchema;

describe("seed 003's Scholarly plan", () => {
  it('runs all seven phases and validates; re-runs as a no-op; every phase rolls back to the exact before state; runs again', async () => {
    await seedLegacyDatabase({ databaseUrl: db.url, scale: 0.2, seed: 11 });
    const beforeSchema = await schema(db.url);
    const beforeData = await tableChecksums(db.url, { exclude: ['_prisma_migrations'] });
    const runner = scholarlyRunner(db.url, scratchMigrationsDir());

    const first = await runScholarlyPlan(runner, db.url);
    expect(first.phases.map((p) => [p.name, p.status, p.verified])).toEqual(
      ['audit_infrastructure', 'reference_tables', 'soft_deletes', 'extracted_models', 'unique_constraints', 'composite_indexes', 'new_feature_models'].map((name) => [name, 'completed', true]),
    );
    expect(first.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(first.validation.ok).toBe(true);
    // The dirty data was really there and really handled: invalid documents recorded, duplicates removed.
    expect(first.phases.find((p) => p.name === 'extracted_models')?.failedRecords).toBeGreaterThan(0);
    expect(first.phases.find((p) => p.name === 'unique_constraints')?.processedRecords).toBeGreaterThan(0);
    expect(first.dashboard.map((r) => r.name)).toEqual(expect.arrayContaining(['phase:new_feature_models', 'phase:unique_constraints/dedupe_reviews']));

    const afterSchema = await schema(db.url);
    const afterData = await tableChecksums(db.url, { exclude: ['_prisma_migrations'] });
    const again = await runScholarlyPlan(runner, db.url);
    expect(again.phases).toEqual(first.phases);
    expect(await schema(db.url)).toEqual(afterSchema);
    expect(await tableChecksums(db.url, { exclude: ['_prisma_migrations'] })).toEqual(afterData);

    // Each phase rolls back on its own once its dependents are rolled back: last phase first.
    for (const phase of [...runner.plan.phases].reverse()) {
      expect(await runner.rollback(phase.name, { force: true })).toEqual([phase.name]);
      const status = (await runner.status()).find((p) => p.name === phase.name)?.status;
      expect(status === 'rolled_back' || status === 'pending').toBe(true);
      expect((await runner.verify(phase.name)).every((c) => c.ok)).toBe(false);
    }
    expect(await schema(db.url)).toEqual(beforeSchema);
    expect(await tableChecksums(db.url, { exclude: ['_prisma_migrations'] })).toEqual(beforeData);

    const rerun = await runScholarlyPlan(runner, db.url);
    expect(rerun.validation.ok).toBe(true);
    expect((await scholarlyReport(runner, db.url)).phases.every((p) => p.status === 'completed' && p.verified)).toBe(true);
  });
});
