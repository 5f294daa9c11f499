/**
 * `pnpm bench backfill`: fills one column of an N-row table four ways, each on a fresh identical table in
 * the same database and run: one UPDATE statement (the physical limit), the toolkit's set-based
 * `backfill`, the toolkit's `backfillWith` (values computed in TypeScript), and the seeds' row-by-row
 * Prisma update loop (on a sample, extrapolated). A separate writer process updates random rows during
 * the single UPDATE and the toolkit run and reports its latencies. Then `backfill` again with its batch
 * history on and off, side by side on fresh tables in the order off, on, on, off (so drift in the machine's
 * speed falls on both), for the history's overhead.
 */
import { exec, timed } from './bench-support.js';
import { backfill, backfillWith, quoteIdent } from '@prisma-evolve/core';
import { ProgressBar } from '@prisma-evolve/cli';
import { startLatencyWriter, type WriterReport } from './latency-writer-process.js';

/** Options of the backfill benchmark. */
export interface BackfillBenchOptions {
  readonly url: string;
  readonly rows: number;
  readonly workers: number;
  /** Rows the naive Prisma loop updates before its rate is extrapolated. */
  readonly naiveSample: number;
  readonly progress: boolean;
}


async function createTable(url: string, table: string, rows: number): Promise<void> {
  const name = quoteIdent(table);
  await exec(url, `drop table if exists ${name}`);
  await exec(url, `create table ${name} (id bigint primary key, a int not null, b int, hits int not null default 0, payload text not null)`);
  await exec(url, `insert into ${name} select g, g % 1000, null, 0, md5(g::text) from generate_series(1, $1::int) g`, [rows]);
  // As a long-lived production table would be: visibility map set, statistics current.
  await exec(url, `vacuum analyze ${name}`);
}

async function assertFilled(url: string, table: string): Promise<void> {
  const { rows } = await exec(url, `select count(*)::int as wrong from ${quoteIdent(table)} where b is distinct from a * 2`);
  if (rows[0]?.wrong !== 0) throw new Error(`benchmark table "${table}" has ${rows[0]?.wrong} wrong rows after the run`);
}


async function withWriter<T>(url: string, table: string, rows: number, work: () => Promise<T>): Promise<{ value: T; writer: WriterReport }> {
  const writer = await startLatencyWriter(url, table, rows);
  try {
    const value = await work();
    return { value, writer: await writer.stop() };
  } catch (error) {
    await writer.stop().catch(() => undefined);
    throw error;
  }
}

function rss(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

const round = (value: number): number => Math.round(value);

/** Runs the benchmark and returns the flat JSON report (rates in rows per second, latencies in ms). */
export async function runBackfillBench(options: BackfillBenchOptions): Promise<Record<string, unknown>> {
  const { url, rows } = options;
  const log = (line: string): void => {
    if (options.progress) process.stderr.write(`${line}\n`);
  };
  const bar = (label: string) => (options.progress ? new ProgressBar(label) : undefined);

  log(`creating 4 tables of ${rows} rows`);
  for (const table of ['bench_single', 'bench_toolkit', 'bench_js', 'bench_naive']) await createTable(url, table, rows);
  const version = (await exec(url, 'show server_version')).rows[0]?.server_version as string;

  log('single UPDATE statement (with a concurrent writer)');
  const single = await withWriter(url, 'bench_single', rows, () => timed(() => exec(url, 'update bench_single set b = a * 2 where b is null')));
  await assertFilled(url, 'bench_single');

  const toolkitBar = bar('backfill     ');
  const toolkit = await withWriter(url, 'bench_toolkit', rows, () =>
    timed(() =>
      backfill({
        database: url,
        table: 'bench_toolkit',
        set: { b: 'a * 2' },
        where: 'b is null',
        workers: options.workers,
        ...(toolkitBar ? { onProgress: toolkitBar.update } : {}),
      }),
    ),
  );
  toolkitBar?.done();
  await assertFilled(url, 'bench_toolkit');

  const jsBar = bar('backfillWith ');
  const js = await timed(() =>
    backfillWith<{ a: number }, { b: number }>({
      database: url,
      table: 'bench_js',
      select: ['a'],
      columns: ['b'],
      where: 'b is null',
      workers: options.workers,
      compute: (batch) => batch.map((row) => ({ b: row.a * 2 })),
      ...(jsBar ? { onProgress: jsBar.update } : {}),
    }),
  );
  jsBar?.done();
  await assertFilled(url, 'bench_js');
  // Measured before Prisma's client is loaded, so it is the toolkit's footprint.
  const peakRss = rss();

  log('backfill with batch history off, on, on, off (no concurrent writer)');
  const history = await runHistoryComparison(url, rows, options.workers);

  log(`naive Prisma loop on a sample of ${Math.min(rows, options.naiveSample)} rows`);
  const naive = await runNaiveSample(url, Math.min(rows, options.naiveSample));

  const singleRate = rows / single.value.seconds;
  const toolkitRate = rows / toolkit.value.seconds;
  const jsRate = rows / js.seconds;
  const naiveRate = naive.rows / naive.seconds;
  return {
    benchmark: 'backfill',
    rows,
    workers: options.workers,
    postgres_version: version,
    toolkit_rows_per_s: round(toolkitRate),
    toolkit_js_rows_per_s: round(jsRate),
    single_update_rows_per_s: round(singleRate),
    naive_rows_per_s: round(naiveRate),
    naive_measured_rows: naive.rows,
    naive_extrapolated: naive.rows < rows,
    naive_note: `the row-by-row Prisma loop (findMany + update per row) ran on ${naive.rows} rows; its rate is extrapolated to ${rows}`,
    naive_estimated_seconds: Math.round((rows / naiveRate) * 10) / 10,
    toolkit_seconds: Math.round(toolkit.value.seconds * 100) / 100,
    toolkit_js_seconds: Math.round(js.seconds * 100) / 100,
    single_update_seconds: Math.round(single.value.seconds * 100) / 100,
    toolkit_batches: toolkit.value.value.batches,
    toolkit_retries: toolkit.value.value.retries,
    writer_p99_ms_toolkit: Math.round(toolkit.writer.p99_ms * 10) / 10,
    writer_p99_ms_single_update: Math.round(single.writer.p99_ms * 10) / 10,
    writer_max_ms_toolkit: Math.round(toolkit.writer.max_ms * 10) / 10,
    writer_max_ms_single_update: Math.round(single.writer.max_ms * 10) / 10,
    writer_writes_toolkit: toolkit.writer.writes,
    writer_writes_single_update: single.writer.writes,
    toolkit_vs_single: Math.round((toolkitRate / singleRate) * 100) / 100,
    toolkit_vs_naive: Math.round((toolkitRate / naiveRate) * 10) / 10,
    peak_rss_mb: peakRss,
    ...history,
  };
}

/**
 * `backfill` of four fresh tables, batch history off, on, on, off; rates are rows over the summed seconds of
 * each mode. `history_overhead_pct` is how much longer the runs with history took (noise included, either
 * sign); `history_write_ms`/`history_write_pct` are the time the history's own writes took within them.
 */
async function runHistoryComparison(url: string, rows: number, workers: number): Promise<Record<string, unknown>> {
  const seconds = { on: [] as number[], off: [] as number[] };
  let batches = 0;
  let writeMs = 0;
  for (const [i, mode] of (['off', 'on', 'on', 'off'] as const).entries()) {
    const table = `bench_history_${mode}_${i}`;
    await createTable(url, table, rows);
    const run = await timed(() => backfill({ database: url, table, set: { b: 'a * 2' }, where: 'b is null', workers, ...(mode === 'off' ? { history: false as const } : {}) }));
    await assertFilled(url, table);
    seconds[mode].push(run.seconds);
    if (mode === 'on') {
      batches += run.value.batches;
      writeMs += run.value.history?.writeMs ?? 0;
    }
    await exec(url, `drop table ${quoteIdent(table)}`);
  }
  const written = await exec(url, `select count(*)::int as n from "_evolve".batch_history where step like 'backfill public.bench_history_on_%'`);
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  const onRate = (2 * rows) / sum(seconds.on);
  const offRate = (2 * rows) / sum(seconds.off);
  return {
    history_on_rows_per_s: round(onRate),
    history_off_rows_per_s: round(offRate),
    history_overhead_pct: Math.round((offRate / onRate - 1) * 1000) / 10,
    history_on_seconds: seconds.on.map((s) => Math.round(s * 100) / 100),
    history_off_seconds: seconds.off.map((s) => Math.round(s * 100) / 100),
    history_batches: batches,
    history_entries_written: written.rows[0]?.n ?? 0,
    // The history's own cost, timed inside the runs: its INSERTs and prunes, against the runs' duration.
    history_write_ms: Math.round(writeMs * 10) / 10,
    history_write_pct: Math.round((writeMs / 10 / sum(seconds.on)) * 100) / 100,
  };
}

async function runNaiveSample(url: string, sample: number): Promise<{ rows: number; seconds: number }> {
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { PrismaClient } = await import('./generated/client/client.js');
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  try {
    const { seconds } = await timed(async () => {
      // What the seeds do: read the rows, then one update call per row.
      const rows = await prisma.benchRow.findMany({ where: { b: null }, orderBy: { id: 'asc' }, take: sample, select: { id: true, a: true } });
      for (const row of rows) await prisma.benchRow.update({ where: { id: row.id }, data: { b: row.a * 2 } });
    });
    return { rows: sample, seconds };
  } finally {
    await prisma.$disconnect();
  }
}
