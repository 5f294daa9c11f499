/**
 * `pnpm bench extract-json`: extracts seed 003's availability documents (every legacy shape, about 6%
 * malformed) of N parents into slot rows, each way into its own fresh table in the same run:
 * - one INSERT … SELECT jsonb_array_elements statement over the whole table (the limit; no ledger);
 * - the toolkit's validated path (zod shapes + TypeScript map, children COPYed with their ledger rows);
 * - the same set-SQL statement writing the ownership ledger too, as the toolkit does;
 * - the seed's loop of one `prisma.create` per slot (on a sample, extrapolated).
 */
import pg from 'pg';
import { exec, timed } from './bench-support.js';
import { extractJson, verifyExtraction } from '@prisma-evolve/core';
import { ProgressBar } from '@prisma-evolve/cli';
import { availabilityMap, availabilityShapes } from '../../prisma/legacy-shapes.js';
import { setSqlStatement } from './set-sql-baseline.js';
import { availabilityDoc } from '../legacy/legacy-generator.js';
import { RandomSource } from '../legacy/random-source.js';

/** Options of the extraction benchmark. */
export interface ExtractBenchOptions {
  readonly url: string;
  readonly parents: number;
  readonly naiveSample: number;
  readonly progress: boolean;
}


const SLOT_COLUMNS = `"id" text primary key, "profileId" text not null, "dayOfWeek" integer not null, "startTime" text not null, "endTime" text not null,
  "timezone" text not null default 'Australia/Sydney', "isRecurring" boolean not null default true`;

async function setup(url: string, parents: number): Promise<void> {
  await exec(url, `create table bench_profile (id text primary key, availability jsonb)`);
  const rng = new RandomSource(11, 'bench-availability');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let start = 0; start < parents; start += 5_000) {
      const ids: string[] = [];
      const docs: (string | null)[] = [];
      for (let i = start; i < Math.min(parents, start + 5_000); i += 1) {
        ids.push(`tp_${String(i).padStart(8, '0')}`);
        const { doc } = availabilityDoc(rng);
        docs.push(doc === undefined ? null : JSON.stringify(doc));
      }
      await client.query(`insert into bench_profile select * from unnest($1::text[], $2::jsonb[])`, [ids, docs]);
    }
    await client.query('vacuum analyze bench_profile');
  } finally {
    await client.end();
  }
  for (const table of ['bench_slot_set', 'bench_slot_set_ledger', 'bench_slot_zod', 'bench_slot_naive']) {
    await exec(url, `create table ${table} (${SLOT_COLUMNS}); create index on ${table} ("profileId")`);
  }
}


/** The set-SQL statement that also records every row in the ownership ledger, in the same statement, as the toolkit does. */
function setSqlWithLedger(): string {
  return `with ins as (${setSqlStatement('bench_slot_set_ledger')} returning "id", "profileId")
    insert into "_evolve".extract_owned_rows (migration, parent_key, row_key) select 'bench set', "profileId", "id" from ins`;
}

async function naiveSample(url: string, sample: number): Promise<{ rows: number; seconds: number }> {
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { PrismaClient } = await import('./generated/client/client.js');
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  try {
    const profiles = await exec(url, `select id, availability from bench_profile order by id limit $1`, [sample]);
    let rows = 0;
    const { seconds } = await timed(async () => {
      // Seed 003 phase 4's script: parse each profile's JSON in JS, one create call per slot.
      for (const profile of profiles.rows as { id: string; availability: unknown }[]) {
        const parsed = availabilityShapes['bare array']?.safeParse(profile.availability);
        const doc = profile.availability as { slots?: unknown; weekly?: unknown } | null;
        const slots = parsed?.success
          ? parsed.data
          : (availabilityShapes['{slots}']?.safeParse(doc).data ?? availabilityShapes['{weekly}']?.safeParse(doc).data ?? []);
        for (const [index, slot] of slots.entries()) {
          await prisma.benchSlot.create({ data: { id: `${profile.id}:${index}`, profileId: profile.id, ...availabilityMap(slot, { key: profile.id, row: {} }) } });
          rows += 1;
        }
      }
    });
    return { rows, seconds };
  } finally {
    await prisma.$disconnect();
  }
}

/** Runs the benchmark; rates are child rows written per second. */
export async function runExtractBench(options: ExtractBenchOptions): Promise<Record<string, unknown>> {
  const { url, parents } = options;
  const log = (line: string): void => {
    if (options.progress) process.stderr.write(`${line}\n`);
  };
  log(`creating ${parents} profiles with legacy availability documents`);
  await setup(url, parents);

  log('one INSERT … SELECT jsonb_array_elements statement');
  const set = await timed(() => exec(url, setSqlStatement('bench_slot_set')));
  const setRows = set.value.rowCount ?? 0;

  const zodBar = options.progress ? new ProgressBar('validated path') : undefined;
  const zodSpec = { source: { table: 'bench_profile', column: 'availability' }, target: { table: 'bench_slot_zod', parentKey: 'profileId', idColumn: 'id' } } as const;
  const zod = await timed(() => extractJson({ database: url, name: 'bench zod', ...zodSpec, shapes: availabilityShapes, map: availabilityMap, ...(zodBar ? { onProgress: zodBar.update } : {}) }));
  zodBar?.done();

  log('the same statement writing the ownership ledger too');
  const setLedger = await timed(() => exec(url, setSqlWithLedger()));

  log('verifying parity');
  const zodReport = await verifyExtraction({ database: url, ...zodSpec, shapes: availabilityShapes, map: availabilityMap });
  // The set statement drops only the bad elements of a malformed document; of the valid ones it writes what the validated path writes.
  const columns = `"profileId", "dayOfWeek", "startTime", "endTime", "timezone", "isRecurring"`;
  const valid = `select ${columns} from bench_slot_set where "profileId" not in (select parent_key from "_evolve".extract_dead_letter where migration = 'bench zod')`;
  const same = await exec(
    url,
    `select count(*)::int as n from ((${valid} except all select ${columns} from bench_slot_zod) union all (select ${columns} from bench_slot_zod except all ${valid})) d`,
  );

  log(`naive prisma.create loop on ${Math.min(parents, options.naiveSample)} profiles`);
  const naive = await naiveSample(url, Math.min(parents, options.naiveSample));

  const rate = (rows: number, seconds: number): number => Math.round(rows / seconds);
  const setRate = rate(setRows, set.seconds);
  const zodRate = rate(zod.value.children, zod.seconds);
  const naiveRate = rate(naive.rows, naive.seconds);
  return {
    benchmark: 'extract-json',
    parents,
    children: zod.value.children,
    invalid_docs: zod.value.invalid,
    toolkit_rows_per_s: zodRate,
    set_sql_rows_per_s: setRate,
    naive_rows_per_s: naiveRate,
    naive_measured_rows: naive.rows,
    naive_extrapolated: true,
    naive_note: `the seed's loop (one prisma.create per slot) ran on ${Math.min(parents, options.naiveSample)} profiles (${naive.rows} slots); its rate is extrapolated`,
    set_sql_rows: setRows,
    toolkit_seconds: Math.round(zod.seconds * 100) / 100,
    set_sql_seconds: Math.round(set.seconds * 100) / 100,
    validated_vs_set: Math.round((zodRate / setRate) * 100) / 100,
    toolkit_vs_naive: Math.round((zodRate / naiveRate) * 10) / 10,
    parity_ok: zodReport.ok && same.rows[0]?.n === 0,
    set_sql_with_ledger_rows_per_s: rate(setLedger.value.rowCount ?? 0, setLedger.seconds),
    validated_vs_set_with_ledger: Math.round((zodRate / rate(setLedger.value.rowCount ?? 0, setLedger.seconds)) * 100) / 100,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
  };
}
