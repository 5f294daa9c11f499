/**
 * `pnpm demo [--scale N] [--seed S] [--reset] [--json]`: the toolkit on seed 003's legacy platform.
 * Without DATABASE_URL it starts an ephemeral PostgreSQL (and stops it at the end); it migrates the
 * example's "before" schema with Prisma's engine, seeds dirty legacy data and prints a census of the
 * database found by querying it. `--json` prints the same as one JSON object on the last line.
 */
import { parseArgs } from 'node:util';
import { parseConnectionTarget } from '@prisma-evolve/core';
import { createTestDatabase, startEphemeralPostgres, type EphemeralPostgres } from '@prisma-evolve/testing';
import { renderCensus, takeLegacyCensus } from './legacy/legacy-census.js';
import { seedLegacyDatabase } from './legacy/seed-legacy-database.js';

const USAGE = 'usage: pnpm demo [--scale N] [--seed S] [--reset] [--json]';
let args;
try {
  args = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      reset: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
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
let server: EphemeralPostgres | undefined;
let exitCode = 0;
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
  say('taking a census by querying the database ...\n');
  const census = await takeLegacyCensus(databaseUrl);
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  if (args.json) {
    console.log(JSON.stringify({ seconds, scale, seed, server: server ? 'ephemeral' : 'DATABASE_URL', seeded: summary, census }));
  } else {
    console.log(renderCensus(census));
    console.log(`\ndone in ${seconds}s`);
  }
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  if (server) {
    await server.stop();
    say('ephemeral postgresql stopped and removed');
  }
}
process.exit(exitCode);
