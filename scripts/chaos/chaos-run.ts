import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { diagnosePrismaMigrations, withClient } from '@prisma-evolve/core';
import { createTestDatabase, type TestDatabase } from '@prisma-evolve/testing';
import { seedLegacyDatabase } from '../legacy/seed-legacy-database.js';
import { scratchMigrationsDir } from '../legacy/scholarly-demo.js';
import { contentDifferences, stableContent } from './stable-content.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(root, 'packages', 'cli', 'src', 'main.ts');
const PLAN = path.join(root, 'prisma', 'evolve.plan.ts');
const WRITER = path.join(root, 'scripts', 'chaos', 'app-writer.ts');
/**
 * Children run the CLI from sources in ONE process (tsx as a loader, not its wrapper), so SIGKILL hits it;
 * tsx maps our packages to their sources through tsconfig.json's `paths`.
 */
const CHILD_ENV = { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json') };

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** A server where the run may create and drop databases. */
  readonly serverUrl: string;
  /** How many times `run --all` is SIGKILLed at a random moment (fewer when the run completes first). */
  readonly kills: number;
  readonly scale: number;
  readonly seed: number;
  /** Random numbers in [0, 1) for the kill points (default Math.random). */
  readonly random?: () => number;
  readonly log?: (line: string) => void;
}

/** What {@link runChaos} found; `ok` when every check held. */
export interface ChaosReport {
  readonly ok: boolean;
  readonly kills: number;
  /** Each kill's time after its run started, in ms (start-up of the CLI included). */
  readonly killPointsMs: readonly number[];
  /** The last event each killed run printed (the step or folder it was in). */
  readonly killedAfter: readonly string[];
  readonly cleanRunSeconds: number;
  readonly chaosSeconds: number;
  readonly appWrites: number;
  readonly appErrors: number;
  readonly unfinishedMigrationRows: number;
  readonly failedMigrations: readonly string[];
  readonly editedMigrations: readonly string[];
  readonly phasesNotCompleted: readonly string[];
  readonly contentDifferences: readonly string[];
  readonly missingWrites: readonly string[];
  readonly concurrent: { readonly exitCodes: readonly number[]; readonly stepStarts: number; readonly cleanStepStarts: number; readonly contentDifferences: readonly string[] };
}

interface LoggedWrite {
  readonly op: 'insert' | 'update';
  readonly id: string;
  readonly status: string;
  readonly priceCents: number;
}

function runAll(databaseUrl: string, migrationsDir: string, extra: readonly string[] = []): ResultPromise<{ reject: false; env: NodeJS.ProcessEnv; extendEnv: false; cwd: string }> {
  return execa('node', ['--import', 'tsx', MAIN, 'run', '--all', '--config', PLAN, '--database-url', databaseUrl, '--migrations-dir', migrationsDir, ...extra], {
    reject: false,
    env: CHILD_ENV,
    extendEnv: false,
    cwd: root,
  });
}

const stepStarts = (stderr: string): number => stderr.split('\n').filter((line) => /^\s+step \S+: start$/.test(line)).length;

async function seeded(serverUrl: string, options: ChaosOptions, prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(serverUrl, { prefix });
  await seedLegacyDatabase({ databaseUrl: db.url, scale: options.scale, seed: options.seed });
  return db;
}

/**
 * The chaos test of issue 13: `run --all` of the Scholarly plan SIGKILLed at random points while an
 * application process writes through the generated Prisma client, then resumed to the end; compared with
 * a clean run of the same seed. Then two `run --all` at once on a fresh copy. Creates and drops its own
 * databases on `serverUrl`.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = options.random ?? Math.random;
  const databases: TestDatabase[] = [];
  try {
    const clean = await seeded(options.serverUrl, options, 'chaos_clean');
    databases.push(clean);
    const started = performance.now();
    const cleanRun = await runAll(clean.url, scratchMigrationsDir());
    const cleanMs = performance.now() - started;
    if (cleanRun.exitCode !== 0) throw new Error(`the clean run failed:\n${String(cleanRun.stderr)}`);
    // A run on the completed database does no work: its time is the CLI's start-up and checks. Kill points
    // fall after that, spread so that about `kills` of them land before the plan completes.
    const idleStarted = performance.now();
    await runAll(clean.url, scratchMigrationsDir());
    const startupMs = performance.now() - idleStarted;
    const workMs = Math.max(200, cleanMs - startupMs);
    log(`clean run: ${(cleanMs / 1000).toFixed(1)} s (start-up ${(startupMs / 1000).toFixed(1)} s)`);

    const chaos = await seeded(options.serverUrl, options, 'chaos_killed');
    databases.push(chaos);
    const migrationsDir = scratchMigrationsDir();
    const writesLog = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-chaos-')), 'writes.jsonl');
    writeFileSync(writesLog, '');
    const writer = execa('node', ['--import', 'tsx', WRITER, chaos.url, writesLog], { reject: false, env: CHILD_ENV, extendEnv: false, cwd: root });
    const chaosStarted = performance.now();
    const killPointsMs: number[] = [];
    const killedAfter: string[] = [];
    for (let k = 0; k < options.kills; k += 1) {
      const child = runAll(chaos.url, migrationsDir);
      const spawned = performance.now();
      let firstOutputMs: number | undefined;
      child.stderr?.once('data', () => (firstOutputMs = Math.round(performance.now() - spawned)));
      const delay = Math.round(startupMs * 0.8 + random() * (startupMs * 0.4 + (2 * workMs) / options.kills));
      const exited = await Promise.race([child.then((result) => result), new Promise<false>((resolve) => setTimeout(() => resolve(false), delay))]);
      if (exited) {
        if (exited.exitCode !== 0) throw new Error(`a resumed run failed before its kill point (exit ${exited.exitCode}):\n${String(exited.stderr)}`);
        log(`run ${k + 1} finished before its kill point (${delay} ms): the plan is complete`);
        break;
      }
      child.kill('SIGKILL');
      const killed = await child;
      const lastEvent = String(killed.stderr).trim().split('\n').at(-1)?.trim() || '(before the first phase)';
      killPointsMs.push(delay);
      killedAfter.push(lastEvent);
      log(`kill ${killPointsMs.length} at ${delay} ms (first output at ${firstOutputMs ?? '-'} ms), after "${lastEvent}"`);
    }
    const final = await runAll(chaos.url, migrationsDir, ['--json']);
    if (final.exitCode !== 0) throw new Error(`the resumed run failed (exit ${final.exitCode}):\n${String(final.stderr)}`);
    writer.kill('SIGTERM');
    const writerResult = await writer;
    const chaosSeconds = (performance.now() - chaosStarted) / 1000;
    const counts = JSON.parse(String(writerResult.stdout).trim().split('\n').at(-1) ?? '{"writes":0,"errors":0}') as { writes: number; errors: number };

    const writes = readFileSync(writesLog, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as LoggedWrite);
    const lastById = new Map(writes.map((w) => [w.id, w]));
    const touched = [...lastById.keys()];
    const skip = (table: string): readonly string[] => (table === 'Booking' ? touched : []);
    const differences = contentDifferences(await stableContent(clean.url, skip), await stableContent(chaos.url, skip));
    const { missingWrites, unfinished, phasesNotCompleted } = await withClient(chaos.url, async (client) => {
      const { rows } = await client.query<{ id: string; status: string; price: number }>(`select id, status, "priceCents" as price from "Booking" where id = any($1::text[])`, [touched]);
      const found = new Map(rows.map((r) => [r.id, r]));
      const missing = [...lastById.values()].filter((w) => found.get(w.id)?.status !== w.status || found.get(w.id)?.price !== w.priceCents).map((w) => `${w.op} ${w.id}`);
      const { rows: open } = await client.query<{ n: number }>(`select count(*)::int as n from _prisma_migrations where finished_at is null and rolled_back_at is null`);
      const { rows: phases } = await client.query<{ name: string }>(`select name from _evolve."DataMigration" where name like 'phase:%' and name not like '%/%' and status <> 'completed'`);
      return { missingWrites: missing, unfinished: open[0]?.n ?? -1, phasesNotCompleted: phases.map((p) => p.name) };
    });
    const diagnosis = await diagnosePrismaMigrations({ databaseUrl: chaos.url, migrationsDir });

    // Two runs at once on a fresh copy: the lease makes one wait; each step starts once in all.
    const twin = await seeded(options.serverUrl, options, 'chaos_twin');
    databases.push(twin);
    const twinDir = scratchMigrationsDir();
    const both = await Promise.all([runAll(twin.url, twinDir, ['--wait', '600']), runAll(twin.url, twinDir, ['--wait', '600'])]);
    const concurrent = {
      exitCodes: both.map((r) => r.exitCode ?? -1),
      stepStarts: both.reduce((sum, r) => sum + stepStarts(String(r.stderr)), 0),
      cleanStepStarts: stepStarts(String(cleanRun.stderr)),
      contentDifferences: contentDifferences(await stableContent(clean.url), await stableContent(twin.url)),
    };
    const report = {
      kills: killPointsMs.length,
      killPointsMs,
      killedAfter,
      cleanRunSeconds: Math.round(cleanMs / 100) / 10,
      chaosSeconds: Math.round(chaosSeconds * 10) / 10,
      appWrites: counts.writes,
      appErrors: counts.errors,
      unfinishedMigrationRows: unfinished,
      failedMigrations: diagnosis.failedMigrationNames,
      editedMigrations: diagnosis.editedMigrationNames,
      phasesNotCompleted,
      contentDifferences: differences,
      missingWrites,
      concurrent,
    };
    const ok =
      unfinished === 0 &&
      report.failedMigrations.length === 0 &&
      report.editedMigrations.length === 0 &&
      phasesNotCompleted.length === 0 &&
      differences.length === 0 &&
      missingWrites.length === 0 &&
      counts.writes > 0 &&
      concurrent.exitCodes.every((code) => code === 0) &&
      concurrent.stepStarts === concurrent.cleanStepStarts &&
      concurrent.contentDifferences.length === 0;
    return { ok, ...report };
  } finally {
    for (const db of databases) await db.drop().catch(() => undefined);
  }
}
