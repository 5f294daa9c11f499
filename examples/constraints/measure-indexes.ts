/**
 * `pnpm exec tsx examples/constraints/measure-indexes.ts [--scale N] [--runs N] [--json]`: seed 002's indexes,
 * measured. Seeds StrellerMinds at `--scale` (default 100: 200,000 users, 30,000 courses, 600,000 progress rows)
 * into a database of its own (on `DATABASE_URL`'s server, else an ephemeral PostgreSQL), runs the plan's first two
 * phases, VACUUM ANALYZEs, then times each watched query of the plan (`WATCH_QUERIES`) with EXPLAIN ANALYZE:
 * one warm-up, then the median of `--runs` (default 7). Runs the `indexes` phase (its watched plans captured with
 * EXPLAIN ANALYZE, as `run --analyze` does) and times them again. Prints a table (or, with `--json`, one JSON
 * object on the last line: `{"scale","runs","queries":[{"query","before":{"ms","plan"},"after":{"ms","plan"},"faster"}]}`).
 */
import { parseArgs } from 'node:util';
import { explainQuery, PhaseRunner, readPlanChanges, summarizePlan, withClient, type WatchQuery } from '@prisma-evolve/core';
import { acquireTestServer, createTestDatabase } from '@prisma-evolve/testing';
import { scratchMigrationsDir } from '../../scripts/legacy/scholarly-demo.js';
import { plan, WATCH_QUERIES } from './plan.js';
import { CONSTRAINTS_MIGRATIONS, seedConstraints } from './seed.js';

interface Timing {
  readonly ms: number;
  /** How the plan reads: `Seq Scan on users`, `Index Scan idx_users_email`, … */
  readonly plan: string;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Median EXPLAIN ANALYZE execution time of `query` over `runs` runs after one warm-up, and how it reads. */
async function time(url: string, query: WatchQuery, runs: number): Promise<Timing> {
  return withClient(url, async (client) => {
    const options = { analyze: true, lockTimeoutMs: 2000, statementTimeoutMs: 600_000 };
    await explainQuery(client, query, options);
    const times: number[] = [];
    let last: unknown;
    for (let i = 0; i < runs; i += 1) {
      const result = await explainQuery(client, query, options);
      if (result.error !== null) throw new Error(result.error);
      last = result.plan;
      times.push(summarizePlan(result.plan, { capturedAt: '', analyzed: true, error: null }).executionMs ?? Number.NaN);
    }
    const summary = summarizePlan(last, { capturedAt: '', analyzed: true, error: null });
    const reads = [...summary.seqScans.map((t) => `Seq Scan on ${t}`), ...summary.indexes];
    return { ms: Math.round(median(times) * 1000) / 1000, plan: reads.join(' + ') || '(no table read)' };
  });
}

async function timeAll(url: string, runs: number): Promise<Record<string, Timing>> {
  const timings: Record<string, Timing> = {};
  for (const [name, query] of Object.entries(WATCH_QUERIES)) timings[name] = await time(url, query, runs);
  return timings;
}

const { values } = parseArgs({ options: { scale: { type: 'string', default: '100' }, runs: { type: 'string', default: '7' }, json: { type: 'boolean', default: false } } });
const scale = Number(values.scale);
const runs = Number(values.runs);
const say = (text: string): void => void (values.json ? undefined : console.error(text));
const server = await acquireTestServer();
const database = await createTestDatabase(server.url, { prefix: 'evolve_measure' });
try {
  say(`seeding StrellerMinds at scale ${scale} ...`);
  await seedConstraints(database.url, scale);
  const runner = new PhaseRunner(plan, { databaseUrl: database.url, migrationsDir: scratchMigrationsDir(CONSTRAINTS_MIGRATIONS), explainAnalyze: true });
  await runner.run('foreign_keys');
  await runner.run('check_constraints');
  await withClient(database.url, (c) => c.query('VACUUM ANALYZE'));
  say('timing the watched queries before the indexes ...');
  const before = await timeAll(database.url, runs);
  await runner.run('indexes');
  say('timing them after ...');
  const after = await timeAll(database.url, runs);
  const changes = await withClient(database.url, (c) => readPlanChanges(c, { stateSchema: '_evolve', phaseOrder: ['indexes'] }));
  const queries = Object.keys(WATCH_QUERIES).map((query) => {
    const b = before[query] as Timing;
    const a = after[query] as Timing;
    const cost = changes.find((c) => c.query === query && c.phase === 'indexes')?.costRatio ?? null;
    return { query, before: b, after: a, faster: Math.round((1 - a.ms / b.ms) * 1000) / 10, costRatio: cost };
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ scale, runs, server: server.origin, queries })}\n`);
  } else {
    console.log(`| query | before: ms (plan) | after: ms (plan) | faster | planner cost after/before |\n|---|---|---|---|---|`);
    for (const q of queries) console.log(`| \`${q.query}\` | ${q.before.ms} (${q.before.plan}) | ${q.after.ms} (${q.after.plan}) | ${q.faster} % | ${q.costRatio ?? '–'} |`);
  }
} finally {
  await database.drop();
  await server.release();
}
