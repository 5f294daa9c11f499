import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { dataStep, definePhase, definePlan, PhaseRunner, RunnerBusyError, withDatabase, withRunnerLease } from '../index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const db = useTestDatabase();

/** A plan whose one data step counts how often it ran. */
function countingPlan(): { plan: ReturnType<typeof definePlan>; runs: () => number } {
  let runs = 0;
  const plan = definePlan({
    name: 'lease',
    migrationsDir: './migrations',
    migrationPrefix: '20300101000000',
    phases: [definePhase({ name: 'once', steps: [dataStep('count', async () => ((runs += 1), { processed: 1, failed: 0, canceled: false }))] })],
  });
  return { plan, runs: () => runs };
}

describe('the runner lease: one run, rollback or deploy per database', () => {
  it('a second runner fails at once naming the holder, waits for it with leaseWaitMs, and a killed holder leaves no stale lease', async () => {
    const { plan, runs } = countingPlan();
    const migrationsDir = mkdtempSync(path.join(tmpdir(), 'evolve-lease-'));
    const child = execa('node', ['--import', 'tsx', path.join(here, 'fixtures', 'hold-lease.ts'), db.url], { cwd: here, reject: false, buffer: { stdout: false, stderr: true } });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => (chunk.toString().includes('held') ? resolve() : undefined));
      void child.then((result) => reject(new Error(`the holder exited early: ${String(result.stderr)}`)));
    });
    const busy = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir }).runAll();
    await expect(busy).rejects.toThrow(RunnerBusyError);
    await expect(busy).rejects.toThrow(new RegExp(`prisma-evolve hold pid ${child.pid}@`));
    expect(runs()).toBe(0);

    const waiting = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir, leaseWaitMs: 10_000 }).runAll();
    setTimeout(() => child.kill('SIGKILL'), 300);
    await waiting;
    await child;
    expect(runs()).toBe(1);
  });

  it('is reentrant within one call chain, and two concurrent runs in one process execute the data step once', async () => {
    const migrationsDir = mkdtempSync(path.join(tmpdir(), 'evolve-lease-'));
    const fresh = () => import('@prisma-evolve/testing').then(({ createTestDatabase }) => createTestDatabase(withDatabase(db.url, 'postgres')));
    const nested = await fresh();
    try {
      const { plan, runs } = countingPlan();
      await withRunnerLease(nested.url, { command: 'deploy' }, async () => {
        await new PhaseRunner(plan, { databaseUrl: nested.url, migrationsDir }).runAll();
      });
      expect(runs()).toBe(1);
    } finally {
      await nested.drop();
    }
    // Two runners of the same plan at once on a fresh database, each waiting for the other.
    const other = await fresh();
    try {
      const again = countingPlan();
      const outcomes = await Promise.allSettled([
        new PhaseRunner(again.plan, { databaseUrl: other.url, migrationsDir, leaseWaitMs: 10_000 }).runAll(),
        new PhaseRunner(again.plan, { databaseUrl: other.url, migrationsDir, leaseWaitMs: 10_000 }).runAll(),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(again.runs()).toBe(1);
      // Outside the holder's call chain, the same process is just another runner.
      let release = (): void => undefined;
      let acquired = (): void => undefined;
      const isHeld = new Promise<void>((resolve) => (acquired = resolve));
      const holder = withRunnerLease(other.url, { command: 'deploy' }, () => new Promise<void>((resolve) => ((release = resolve), acquired())));
      await isHeld;
      await expect(new PhaseRunner(countingPlan().plan, { databaseUrl: other.url, migrationsDir }).runAll()).rejects.toThrow(RunnerBusyError);
      release();
      await holder;
    } finally {
      await other.drop();
    }
  });
});
