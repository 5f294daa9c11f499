/**
 * Child process of the benchmarks: plays the application, updating random rows of one table on its own
 * connection (about one write every `pauseMs`), and measuring each write's latency. Prints `ready` once
 * connected; on `stop` (stdin) prints one JSON line `{writes, p50_ms, p99_ms, max_ms}` and exits.
 * Usage: latency-writer.ts <database-url> <table> <rows> [pauseMs]
 */
import pg from 'pg';
import { quoteIdent } from '@prisma-evolve/core';

const [url, table, rowsArg, pauseArg] = process.argv.slice(2);
if (!url || !table || !rowsArg) {
  console.error('usage: latency-writer.ts <database-url> <table> <rows> [pauseMs]');
  process.exit(2);
}
const rows = Number(rowsArg);
const pauseMs = Number(pauseArg ?? 2);
const client = new pg.Client({ connectionString: url });
await client.connect();
const statement = `update ${quoteIdent(table)} set hits = hits + 1 where id = $1`;
const latencies: number[] = [];
let running = true;
process.stdin.on('data', (chunk: Buffer) => {
  if (chunk.toString().includes('stop')) running = false;
});
process.stdout.write('ready\n');
while (running) {
  const id = 1 + Math.floor(Math.random() * rows);
  const started = performance.now();
  await client.query(statement, [id]);
  latencies.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
await client.end();
latencies.sort((a, b) => a - b);
const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ writes: latencies.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: latencies.at(-1) ?? 0 })}\n`,
);
process.stdin.destroy();
