import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { PrecheckFailedError } from '../errors.js';
import { definePhase, definePlan, schemaStep } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { addColumn } from './add-column.js';
import { exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

const db = useTestDatabase();

describe('addColumn with a volatile default', () => {
  it('is refused before anything runs, with the safe sequence in the message', async () => {
    await exec(db.url, `create table tokens (id int primary key); insert into tokens select generate_series(1, 10)`);
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-vol-')), 'migrations');
    const plan = definePlan({
      name: 'volatile',
      migrationsDir,
      migrationPrefix: '20300101000000',
      phases: [definePhase({ name: 'add', steps: [schemaStep('token', step(addColumn, { table: 'tokens', column: 'token', type: 'UUID', nullable: false, default: 'gen_random_uuid()' }))] })],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });
    const failure = await runner.run('add').catch((error: unknown) => error);
    expect((failure as Error).message).toMatch(/gen_random_uuid\(\) is volatile.*backfill/);
    expect((failure as { cause?: unknown }).cause).toBeInstanceOf(PrecheckFailedError);
    const { rows } = await exec(db.url, `select count(*)::int as n from information_schema.columns where table_name = 'tokens' and column_name = 'token'`);
    expect(rows[0]?.n).toBe(0);
    expect((await runner.status())[0]?.status).toBe('failed');
  });
});
