/**
 * `pnpm demo:copy [--scale N] [--workers N] [--batch-size N] [--json]`: seed 004 end to end. Generates the dirty
 * legacy LMS (examples/legacy-lms/legacy.ts; scale 1 = 10,000 grades, scale 100 = 1,000,000) in one database,
 * migrates edu_v2 (examples/legacy-lms/schema.prisma) into another, copies with the example's copy plan
 * (progress bars per table), validates, and sets the sequences. Without DATABASE_URL it starts an ephemeral
 * PostgreSQL; with it, both databases are created on that server and dropped at the end. `--json` prints
 * `{"tables":[…],"validation":{"ok","checks"},"seconds"}` on the last line. Exit 1 when validation fails.
 */
import { parseArgs } from 'node:util';
import { abortOnSignals, runCopy, setSequencesPastMaxima, validateCopy, withClient } from '@prisma-evolve/core';
import { startEphemeralPostgres, type EphemeralPostgres, type TestDatabase } from '@prisma-evolve/testing';
import { ProgressBar } from '@prisma-evolve/cli';
import { copy } from '../examples/legacy-lms/copy.js';
import { legacyCounts } from '../examples/legacy-lms/legacy.js';
import { createSource, createTarget } from '../examples/legacy-lms/setup.js';

const USAGE = 'usage: pnpm demo:copy [--scale N] [--workers N] [--batch-size N] [--json]';
let args;
try {
  args = parseArgs({ options: { scale: { type: 'string', default: '1' }, workers: { type: 'string', default: '2' }, 'batch-size': { type: 'string', default: '10000' }, json: { type: 'boolean', default: false } } }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const scale = Number(args.scale);
const workers = Number(args.workers);
const batchSize = Number(args['batch-size']);
if (!(scale > 0) || !(Number.isInteger(workers) && workers > 0) || !(Number.isInteger(batchSize) && batchSize > 0)) {
  console.error(`--scale must be positive, --workers and --batch-size positive whole numbers\n${USAGE}`);
  process.exit(2);
}
const say = (line: string): void => {
  (args.json ? process.stderr : process.stdout).write(`${line}\n`);
};

const started = performance.now();
const stop = abortOnSignals();
let server: EphemeralPostgres | undefined;
const databases: TestDatabase[] = [];
let exitCode = 0;
try {
  let serverUrl = process.env['DATABASE_URL'];
  if (!serverUrl) {
    say('no DATABASE_URL: starting an ephemeral postgresql ...');
    server = await startEphemeralPostgres();
    serverUrl = server.url;
  }
  const counts = legacyCounts(scale);
  say(`generating the legacy LMS (scale ${scale}: ${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(', ')}) ...`);
  const source = await createSource(serverUrl, scale, 'evolve_demo_legacy');
  databases.push(source);
  say('migrating edu_v2 from examples/legacy-lms/schema.prisma ...');
  const target = await createTarget(serverUrl, 'evolve_demo_edu_v2');
  databases.push(target);
  const bars = new Map<string, ProgressBar>();
  const copyStarted = performance.now();
  const result = await runCopy(copy, {
    sourceUrl: source.url,
    targetUrl: target.url,
    workers,
    batchSize,
    signal: stop.signal,
    onProgress: (p) => {
      if (args.json) return;
      let bar = bars.get(p.entry);
      if (!bar) bars.set(p.entry, (bar = new ProgressBar(`  copy ${p.entry}`)));
      bar.update(p.rows);
    },
  });
  for (const bar of bars.values()) bar.done();
  const copySeconds = Number(((performance.now() - copyStarted) / 1000).toFixed(2));
  say('validating (counts through the id map, orphans, every range row by row) ...');
  const validation = await validateCopy(copy, { sourceUrl: source.url, targetUrl: target.url });
  const sequences = await withClient(target.url, (client) => setSequencesPastMaxima(client, copy));
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  if (!validation.ok) exitCode = 1;
  if (args.json) {
    console.log(JSON.stringify({ tables: result.tables, validation, seconds, copySeconds, scale, workers, batchSize, sequences: sequences.length }));
  } else {
    for (const t of result.tables) say(`  ${t.name.padEnd(14)} source ${String(t.sourceRows).padStart(9)}  copied ${String(t.copiedRows).padStart(9)}  dead letters ${String(t.deadLetters).padStart(6)}  collapsed ${String(t.collapsed).padStart(6)}  ${t.status}`);
    say(`validation ${validation.ok ? 'ok' : 'FAILED'}`);
    for (const check of validation.checks) say(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
    say(`copied in ${copySeconds}s (${workers} workers, batches of ${batchSize}); ${seconds}s in all`);
  }
} catch (error) {
  console.error(`demo:copy failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  stop.dispose();
  for (const database of databases) await database.drop().catch(() => undefined);
  if (server) await server.stop();
}
process.exit(exitCode);
