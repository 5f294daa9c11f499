/**
 * `pnpm bench <name> [--rows N] [--workers N] [--json]`: runs a benchmark against `DATABASE_URL` (in a
 * database it creates and drops) or, without it, an ephemeral PostgreSQL it starts and stops. With
 * `--json` the last line of stdout is one JSON object of figures; otherwise progress goes to stderr and
 * the figures are printed as a table. Exit codes: 0 ok, 1 failed, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { acquireTestServer, createTestDatabase } from '@prisma-evolve/testing';
import { runCopyBench } from './copy-bench.js';
import { runAnalyzeBench } from './analyze-bench.js';
import { runBackfillBench } from './backfill-bench.js';
import { runExtractBench } from './extract-json-bench.js';
import { runSoftDeleteBench } from './soft-delete-bench.js';
import { runLintBench } from './lint-bench.js';

const BENCHMARKS = ['backfill', 'extract-json', 'soft-delete', 'lint', 'copy', 'analyze'] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

function usage(message: string): never {
  console.error(`${message}\nusage: pnpm bench <${BENCHMARKS.join('|')}> [--rows N | --parents N | --cycles N | --files N | --tables N] [--workers N] [--batch-size N] [--naive-sample N] [--json]`);
  process.exit(2);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) usage(`--${name} must be a positive integer, got "${value}"`);
  return parsed;
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      parents: { type: 'string' },
      cycles: { type: 'string' },
      files: { type: 'string' },
      workers: { type: 'string' },
      'naive-sample': { type: 'string' },
      'batch-size': { type: 'string' },
      tables: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
const [name, ...rest] = parsed.positionals;
if (!name || rest.length > 0) usage(name ? `unexpected arguments: ${rest.join(' ')}` : 'which benchmark?');
if (!BENCHMARKS.includes(name as BenchmarkName)) usage(`unknown benchmark "${name}"`);
const rows = positiveInt('rows', parsed.values.rows, name === 'copy' ? 1_000_000 : 100_000);
// The copy runs two workers on the machine's two cores by default (the pipe it is measured against is one stream).
const workers = positiveInt('workers', parsed.values.workers, name === 'copy' ? 2 : 1);
const naiveSample = positiveInt('naive-sample', parsed.values['naive-sample'], name === 'extract-json' ? 300 : name === 'copy' ? 20_000 : 2_000);
const batchSize = positiveInt('batch-size', parsed.values['batch-size'], name === 'copy' ? 50_000 : 10_000);
const tables = positiveInt('tables', parsed.values.tables, 500);
const parents = positiveInt('parents', parsed.values.parents, 100_000);
const cycles = positiveInt('cycles', parsed.values.cycles, 1_000);
const files = positiveInt('files', parsed.values.files, 1_000);
const json = parsed.values.json;

const started = performance.now();
if (name === 'lint') {
  // No database needed.
  const report = { ...(await runLintBench({ files })), total_seconds: Math.round((performance.now() - started) / 100) / 10 };
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${Object.entries(report).map(([k, v]) => `${k.padEnd(30)} ${String(v)}`).join('\n')}\n`);
  process.exit(0);
}
const server = await acquireTestServer();
const database = await createTestDatabase(server.url, { prefix: 'evolve_bench' });
let exitCode = 0;
try {
  const report =
    name === 'extract-json'
      ? await runExtractBench({ url: database.url, parents, naiveSample, progress: !json })
      : name === 'soft-delete'
        ? await runSoftDeleteBench({ url: database.url, cycles })
        : name === 'analyze'
          ? await runAnalyzeBench({ url: database.url, tables })
          : name === 'copy'
          ? await runCopyBench({ url: database.url, serverUrl: server.url, rows, workers, batchSize, naiveSample, progress: !json })
        : await runBackfillBench({ url: database.url, rows, workers, naiveSample, progress: !json });
  const full = { ...report, server: server.origin, seconds: Math.round((performance.now() - started) / 100) / 10 };
  if (json) {
    process.stdout.write(`${JSON.stringify(full)}\n`);
  } else {
    for (const [key, value] of Object.entries(full)) process.stdout.write(`${key.padEnd(30)} ${String(value)}\n`);
  }
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  exitCode = 1;
} finally {
  await database.drop();
  await server.release();
}
process.exit(exitCode);
