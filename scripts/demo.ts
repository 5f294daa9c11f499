/**
 * `pnpm demo [--scale N] [--seed S] [--reset] [--json]`: seed 003's seven phases on its legacy platform.
 * Without DATABASE_URL it starts an ephemeral PostgreSQL (and stops it at the end). It migrates the
 * example's "before" schema with Prisma's engine, seeds dirty legacy data, runs all phases of
 * `prisma/evolve.plan.ts` with progress bars (phase folders go to a scratch copy of prisma/migrations),
 * prints the `DataMigration` dashboard and the post-migration validation. `--json` prints one JSON object
 * on the last line: `{"phases":[{"name","status","processedRecords","failedRecords","verified"}],
 * "validation":{"ok","checks":[{"name","ok","detail"}]},"seconds"}`. Exit 1 when a phase or a check fails.
 * `--dashboard` serves the live migration dashboard (docs/dashboard.md) on 127.0.0.1:4545 during the run,
 * with its pause/resume/cancel buttons, and keeps it (and the database) up afterwards until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { abortOnSignals, parseConnectionTarget, readPlanSteps, type PhaseRunner } from '@prisma-evolve/core';
import { createTestDatabase, startEphemeralPostgres, type EphemeralPostgres } from '@prisma-evolve/testing';
import { DEFAULT_DASHBOARD_PORT, ProgressBar, startDashboard, statusCommand, type RunningDashboard } from '@prisma-evolve/cli';
import { renderDashboard, renderValidation, runScholarlyPlan, scholarlyReport, scholarlyRunner, scratchMigrationsDir } from './legacy/scholarly-demo.js';
import { seedLegacyDatabase } from './legacy/seed-legacy-database.js';

const USAGE = 'usage: pnpm demo [--scale N] [--seed S] [--reset] [--json] [--dashboard]';
let args;
try {
  args = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      reset: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      dashboard: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const scale = Number(args.scale);
const seed = Number(args.seed);
if (!(scale > 0) || !Number.isInteger(seed)) {
  console.error(`--scale must be positive and --seed an integer\n${USAGE}`);
  process.exit(2);
}
// With --json, stdout carries only the final object; the story goes to stderr.
const say = (line: string): void => {
  (args.json ? process.stderr : process.stdout).write(`${line}\n`);
};

const started = performance.now();
const stop = abortOnSignals();
let server: EphemeralPostgres | undefined;
let dashboard: RunningDashboard | undefined;
let exitCode = 0;

/** The dashboard on 127.0.0.1:4545 (a free port when that one is taken), actions on: this is the operator's own machine. */
async function serveDashboard(runner: PhaseRunner, databaseUrl: string, migrationsDir: string): Promise<RunningDashboard> {
  const source = {
    databaseUrl,
    plan: runner.plan,
    status: async () => (await statusCommand(databaseUrl, migrationsDir, await runner.status(), await readPlanSteps(runner.plan, databaseUrl))).report,
    verify: () => runner.verify(),
  };
  const start = (port: number) => startDashboard({ source, port, allowActions: true, requestedBy: 'pnpm demo' });
  return start(DEFAULT_DASHBOARD_PORT).catch((error: { code?: string }) => (error.code === 'EADDRINUSE' ? start(0) : Promise.reject(error)));
}
try {
  let databaseUrl = process.env['DATABASE_URL'];
  if (databaseUrl) {
    const target = parseConnectionTarget(databaseUrl);
    say(`using DATABASE_URL (database "${target.database}" at ${target.host}:${target.port})`);
  } else {
    say('no DATABASE_URL: starting an ephemeral postgresql ...');
    server = await startEphemeralPostgres();
    say(`  postgresql ${Math.floor(server.versionNum / 10000)}.${server.versionNum % 10000} on 127.0.0.1:${server.port} (${server.binaries.source} binaries: ${server.binaries.binDir})`);
    databaseUrl = (await createTestDatabase(server.url, { name: 'scholarly' })).url;
  }
  say(`migrating the "before" schema and seeding legacy data (scale ${scale}, seed ${seed}) ...`);
  const summary = await seedLegacyDatabase({
    databaseUrl,
    scale,
    seed,
    reset: args.reset,
    onTable: (table, rows) => say(`  ${table.padEnd(22)} ${String(rows).padStart(9)} rows`),
  });
  const migrationsDir = scratchMigrationsDir();
  say(`\nrunning seed 003's seven phases (folders written to ${migrationsDir}) ...`);
  let bar: ProgressBar | undefined;
  const runner = scholarlyRunner(databaseUrl, migrationsDir, {
    signal: stop.signal,
    onEvent: (event) => {
      if (event.kind === 'phase') say(`phase ${event.phase}: ${event.state}`);
      else if (event.kind === 'step' && event.state !== 'start') {
        bar?.done();
        bar = undefined;
      }
    },
    onDataProgress: (label) => {
      bar?.done();
      bar = new ProgressBar(`    ${label}`);
      return bar.update;
    },
  });
  if (args.dashboard) {
    dashboard = await serveDashboard(runner, databaseUrl, migrationsDir);
    say(`dashboard: ${dashboard.actionUrl}  (open it in a browser; pause/resume/cancel need the token in this link)`);
  }
  let run;
  try {
    run = await runScholarlyPlan(runner, databaseUrl);
  } catch (error) {
    bar?.done();
    say(`a phase failed: ${(error as Error).message}`);
    exitCode = 1;
    run = { ...(await scholarlyReport(runner, databaseUrl)), phaseSeconds: {} };
  }
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  if (!run.validation.ok) exitCode = 1;
  if (args.json) {
    console.log(JSON.stringify({ phases: run.phases, validation: run.validation, seconds, scale, seed, server: server ? 'ephemeral' : 'DATABASE_URL', seeded: summary, phaseSeconds: run.phaseSeconds }));
  } else {
    console.log(`\n${renderDashboard(run.dashboard)}\n\n${renderValidation(run.validation, run.phases.map((p) => p.name))}`);
    console.log(`\n${run.phases.filter((p) => p.status === 'completed').length}/${run.phases.length} phases completed in ${seconds}s: ${Object.entries(run.phaseSeconds).map(([name, s]) => `${name} ${s}s`).join(', ')}`);
  }
  if (dashboard && !stop.signal.aborted) {
    say(`\nthe dashboard stays up at ${dashboard.url} until Ctrl-C`);
    await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
  }
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await dashboard?.close();
  stop.dispose();
  if (server) {
    await server.stop();
    say('ephemeral postgresql stopped and removed');
  }
}
process.exit(exitCode);
