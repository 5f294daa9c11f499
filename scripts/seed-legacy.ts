/**
 * `pnpm seed:legacy --scale N --database-url URL [--seed S] [--reset] [--json]`: migrates a database to
 * the example's "before" schema and fills it with seed 003's dirty legacy data (scale 1 ≈ 10k rows,
 * scale 100 ≈ 1M). Exit codes: 0 ok, 1 failed (unreachable server, database not empty), 2 usage.
 */
import { parseArgs } from 'node:util';
import { seedLegacyDatabase } from './legacy/seed-legacy-database.js';
import { DEFECT_KINDS } from './legacy/legacy-generator.js';

const USAGE = 'usage: pnpm seed:legacy --scale N [--database-url URL] [--seed S] [--reset] [--json]';

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      'database-url': { type: 'string' },
      seed: { type: 'string', default: '1' },
      reset: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  usage((error as Error).message);
}
if (parsed.help) {
  console.log(`${USAGE}\n  --reset drops and recreates the "public" schema first (destroys its data)`);
  process.exit(0);
}
const databaseUrl = parsed['database-url'] ?? process.env['DATABASE_URL'];
if (!databaseUrl) usage('no database: pass --database-url or set DATABASE_URL');
const scale = Number(parsed.scale);
const seed = Number(parsed.seed);
if (!Number.isFinite(scale) || scale <= 0) usage(`--scale must be a positive number, got "${parsed.scale}"`);
if (!Number.isInteger(seed)) usage(`--seed must be an integer, got "${parsed.seed}"`);

try {
  const started = performance.now();
  const summary = await seedLegacyDatabase({
    databaseUrl,
    scale,
    seed,
    reset: parsed.reset,
    onTable: parsed.json ? undefined : (table, rows) => console.log(`  ${table.padEnd(22)} ${String(rows).padStart(9)} rows`),
  });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  const total = Object.values(summary.tables).reduce((sum, rows) => sum + rows, 0);
  if (parsed.json) {
    console.log(JSON.stringify({ ...summary, totalRows: total, seconds }));
  } else {
    console.log(`  ${'total'.padEnd(22)} ${String(total).padStart(9)} rows in ${seconds}s (scale ${scale}, seed ${seed})`);
    for (const [field, counts] of Object.entries(summary.shapes)) {
      console.log(`${field}: ${Object.entries(counts).map(([shape, n]) => `${shape} ${n}`).join(', ')}`);
    }
    console.log(`defects: ${DEFECT_KINDS.map((kind) => `${kind} ${summary.defects[kind]}`).join(', ')}`);
  }
} catch (error) {
  console.error(`seed:legacy failed: ${(error as Error).message}`);
  process.exit(1);
}
