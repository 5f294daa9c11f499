import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { ConnectionFailedError } from '@prisma-evolve/core';
import { acquireTestServer, createTestDatabase, tableChecksums, type TestDatabase, type TestServer } from '@prisma-evolve/testing';
import { takeLegacyCensus } from './legacy-census.js';
import { DEFECT_KINDS, type LegacySummary } from './legacy-generator.js';
import { DatabaseNotEmptyError, EXAMPLE_MIGRATIONS_DIR, seedLegacyDatabase } from './seed-legacy-database.js';

// Several databases are needed here (determinism compares two), so this file manages its own.
let server: TestServer;
const databases: TestDatabase[] = [];
async function freshDatabase(): Promise<string> {
  const database = await createTestDatabase(server.url);
  databases.push(database);
  return database.url;
}

beforeAll(async () => {
  server = await acquireTestServer();
});
afterAll(async () => {
  for (const database of databases) await database.drop();
  await server.release();
});

describe('seed:legacy generator', () => {
  let url: string;
  let summary: LegacySummary;

  beforeAll(async () => {
    url = await freshDatabase();
    summary = await seedLegacyDatabase({ databaseUrl: url, scale: 1, seed: 7 });
  });

  it('writes about 10k rows at scale 1, table counts as reported', async () => {
    const census = await takeLegacyCensus(url);
    const total = Object.values(summary.tables).reduce((sum, n) => sum + n, 0);
    expect(total).toBeGreaterThan(9_000);
    expect(total).toBeLessThan(13_000);
    expect(Object.fromEntries(census.tables.map(({ table, rows }) => [table, rows]))).toEqual(summary.tables);
  });

  it('plants every defect kind, and a census by querying finds exactly what was planted', async () => {
    const census = await takeLegacyCensus(url);
    for (const kind of DEFECT_KINDS) expect([kind, summary.defects[kind]]).toEqual([kind, expect.any(Number)]);
    for (const kind of DEFECT_KINDS) expect(summary.defects[kind]).toBeGreaterThan(0);
    expect(census.defects).toEqual(summary.defects);
    expect(census.shapes).toEqual(summary.shapes);
    expect(census.subjectCodes.raw).toBeGreaterThan(census.subjectCodes.normalized);
  });

  it('writes every JSON shape the seeds fight', () => {
    expect(Object.keys(summary.shapes.availability)).toEqual(expect.arrayContaining(['bare array', '{slots}', '{weekly}', 'unrecognized', 'null']));
    expect(Object.keys(summary.shapes.location)).toEqual(expect.arrayContaining(['lat/lng', 'latitude/longitude', 'not an object']));
    expect(Object.keys(summary.shapes.voteKeys)).toEqual(expect.arrayContaining(['userId', 'user_id', 'id', 'no user key']));
    expect(Object.keys(summary.shapes.pricing)).toEqual(expect.arrayContaining(['{tiers}', 'bare array', '{hourlyRate}']));
  });

  it('writes day as number, short name, upper-case name and dayOfWeek, and both start and startTime keys', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ form: string }>(`
      select distinct case when s ? 'dayOfWeek' then 'dayOfWeek'
                           when jsonb_typeof(s->'day') = 'number' then 'number'
                           when s->>'day' = upper(s->>'day') then 'upper'
                           when length(s->>'day') = 3 then 'short' else 'long' end || '+' ||
                      case when s ? 'start' then 'start' else 'startTime' end as form
      from "TutorProfile" p, jsonb_array_elements(case jsonb_typeof(p.availability) when 'array' then p.availability
                                                   when 'object' then coalesce(p.availability->'slots', p.availability->'weekly') end) s
      where jsonb_typeof(s) = 'object' and jsonb_typeof(coalesce(p.availability->'slots', p.availability->'weekly', p.availability)) = 'array'`);
    await client.end();
    const forms = rows.map((row) => row.form);
    for (const form of ['number+start', 'number+startTime', 'short+start', 'upper+startTime', 'long+start', 'dayOfWeek+startTime']) {
      expect(forms).toContain(form);
    }
  });

  it('records the schema migration in _prisma_migrations exactly as prisma does (sha256 checksum)', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'select migration_name, checksum, finished_at, rolled_back_at from _prisma_migrations',
    );
    await client.end();
    const sql = readFileSync(path.join(EXAMPLE_MIGRATIONS_DIR, '20260101000000_init', 'migration.sql'));
    expect(rows).toEqual([
      {
        migration_name: '20260101000000_init',
        checksum: createHash('sha256').update(sql).digest('hex'),
        finished_at: expect.any(Date),
        rolled_back_at: null,
      },
    ]);
  });

  it('refuses a database that already has data, and leaves it untouched', async () => {
    const before = await tableChecksums(url);
    await expect(seedLegacyDatabase({ databaseUrl: url, scale: 1, seed: 8 })).rejects.toThrow(DatabaseNotEmptyError);
    await expect(seedLegacyDatabase({ databaseUrl: url, scale: 1, seed: 8 })).rejects.toThrow(/already has data in: "Tenant".*--reset/);
    expect(await tableChecksums(url)).toEqual(before);
  });
});

describe('determinism and safety', () => {
  it('same seed gives the same data; another seed gives other data', async () => {
    const [a, b, c] = [await freshDatabase(), await freshDatabase(), await freshDatabase()];
    await seedLegacyDatabase({ databaseUrl: a, scale: 0.5, seed: 42 });
    await seedLegacyDatabase({ databaseUrl: b, scale: 0.5, seed: 42 });
    await seedLegacyDatabase({ databaseUrl: c, scale: 0.5, seed: 43 });
    const sumA = await tableChecksums(a);
    expect(await tableChecksums(b)).toEqual(sumA);
    const sumC = await tableChecksums(c);
    expect(sumC['TutorProfile']).not.toBe(sumA['TutorProfile']);
    expect(sumC['Booking']).not.toBe(sumA['Booking']);
  });

  it('--reset replaces existing data with a fresh seed', async () => {
    const url = await freshDatabase();
    await seedLegacyDatabase({ databaseUrl: url, scale: 0.2, seed: 1 });
    const summary = await seedLegacyDatabase({ databaseUrl: url, scale: 0.2, seed: 2, reset: true });
    const census = await takeLegacyCensus(url);
    expect(census.defects).toEqual(summary.defects);
  });

  it('refuses a database holding tables of its own that prisma did not create', async () => {
    const url = await freshDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('create table precious (id int primary key); insert into precious values (1)');
    await expect(seedLegacyDatabase({ databaseUrl: url, scale: 0.1, seed: 1 })).rejects.toThrow(/tables that prisma migrations did not create: "precious"/);
    const { rows } = await client.query('select count(*)::int as n from precious');
    await client.end();
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('fails fast naming host and port when the server is unreachable', async () => {
    const attempt = seedLegacyDatabase({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/nowhere', scale: 1, seed: 1 });
    await expect(attempt).rejects.toThrow(ConnectionFailedError);
    await expect(seedLegacyDatabase({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/nowhere', scale: 1, seed: 1 })).rejects.toThrow(
      'cannot connect to postgresql at "127.0.0.1:1": connection refused',
    );
  });
});
