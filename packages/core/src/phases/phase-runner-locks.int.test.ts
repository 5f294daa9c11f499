import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { startWriter, withClient } from '../backfill/fixtures/backfill-fixtures.js';
import { addForeignKey } from '../operations/add-foreign-key.js';
import { addUnique } from '../operations/add-unique.js';
import { createIndex } from '../operations/create-index.js';
import { applySetupMigration } from '../operations/fixtures/operation-harness.js';
import { step } from '../operations/operation.js';
import { setNotNull } from '../operations/set-not-null.js';
import { definePhase, definePlan, schemaStep } from './define-plan.js';
import { PhaseRunner } from './phase-runner.js';

const db = useTestDatabase();
const ROWS = 50_000;
const LOCK_TIMEOUT_MS = 400;
const MARGIN_MS = 1_000;

/**
 * Holds an ACCESS SHARE lock on the table in an open transaction for `ms`, repeatedly: the classic cause
 * of outages, where an ALTER TABLE queues behind a long reader and every writer queues behind the ALTER.
 */
function startLongReaders(url: string, ms: number, times: number): Promise<void> {
  return withClient(url, async (client) => {
    for (let i = 0; i < times; i += 1) {
      await client.query('begin');
      await client.query('select count(*) from parcels');
      await new Promise((resolve) => setTimeout(resolve, ms));
      await client.query('commit');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
}

describe('locks under continuous writes', () => {
  it(`keeps every writer's wait under lock_timeout (${LOCK_TIMEOUT_MS} ms) + ${MARGIN_MS} ms while addForeignKey, setNotNull, addUnique and createIndex run`, async () => {
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-locks-')), 'migrations');
    await applySetupMigration(
      db.url,
      migrationsDir,
      '20300200000000_init',
      `create table depots (id int primary key); insert into depots select generate_series(1, 100);
       create table parcels (id int primary key, "depotId" int, code text, hits int not null default 0);
       insert into parcels select g, 1 + g % 100, 'p' || g, 0 from generate_series(1, ${ROWS}) g; analyze parcels`,
    );
    const plan = definePlan({
      name: 'locks',
      migrationsDir,
      migrationPrefix: '20300200000001',
      lockTimeoutMs: LOCK_TIMEOUT_MS,
      maxAttempts: 12,
      phases: [
        definePhase({
          name: 'constraints',
          steps: [
            schemaStep('fk', step(addForeignKey, { table: 'parcels', columns: ['depotId'], references: { table: 'depots', columns: ['id'] } })),
            schemaStep('code_not_null', step(setNotNull, { table: 'parcels', column: 'code' })),
            schemaStep('code_unique', step(addUnique, { table: 'parcels', columns: ['code'] })),
            schemaStep('hits_index', step(createIndex, { table: 'parcels', columns: ['hits'] })),
          ],
        }),
      ],
    });
    const writers = [1, 2, 3].map(() => startWriter(db.url, 'update parcels set hits = hits + 1 where id = $1', ROWS));
    const readers = startLongReaders(db.url, 2_000, 3);
    await new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir }).run('constraints');
    await readers;
    const stats = await Promise.all(writers.map((writer) => writer.stop()));
    const latencies = stats.flatMap((s) => s.latencies);
    const worst = Math.max(...latencies);
    expect(latencies.length).toBeGreaterThan(100);
    expect({ worst: Math.round(worst), within: worst < LOCK_TIMEOUT_MS + MARGIN_MS }).toEqual({ worst: Math.round(worst), within: true });
    const { rows } = await withClient(db.url, (client) =>
      client.query(`select count(*)::int as n from pg_constraint where conrelid = 'parcels'::regclass and convalidated and contype in ('f', 'u')`),
    );
    expect(rows[0]?.n).toBe(2);
  });
});
