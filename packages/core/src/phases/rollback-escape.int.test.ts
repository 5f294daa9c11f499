import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { createTable, dataStep, definePhase, definePlan, InvalidArgumentError, PhaseRunner, RollbackRefusedError, schemaStep, step } from '../index.js';
import { applySetupMigration } from '../operations/fixtures/operation-harness.js';

const db = useTestDatabase();
const migrationsDir = mkdtempSync(path.join(tmpdir(), 'evolve-escape-'));
const sql = (text: string) => withClient(db.url, async (client) => (await client.query(text)).rows);
const noop = { processed: 0, failed: 0, canceled: false };

describe('getting out of a rollback or a data step that cannot go on', () => {
  it('a down that throws stops the rollback saying what to do; --skip-step leaves that step and rolls back the rest', async () => {
    await applySetupMigration(db.url, migrationsDir, '20300101000000_setup', 'select 1;');
    const plan = definePlan({
      name: 'escape',
      migrationsDir,
      migrationPrefix: '20300102000000',
      phases: [
        definePhase({
          name: 'stuck',
          steps: [
            schemaStep('make', step(createTable, { table: 'escape_made', columns: [{ name: 'id', type: 'int', nullable: false }], primaryKey: ['id'] })),
            dataStep('fill', async () => noop, { down: async () => { throw new Error('the backup it restores from is gone'); } }),
          ],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });
    await runner.run('stuck');
    const refused = runner.rollback('stuck', { force: true });
    await expect(refused).rejects.toThrow(RollbackRefusedError);
    await expect(refused).rejects.toThrow(/undoing step "fill" failed: the backup it restores from is gone\..*--skip-step stuck\/fill/);
    expect(await sql(`select to_regclass('escape_made') is not null as present`)).toEqual([{ present: true }]);

    await expect(runner.rollback('stuck', { skipSteps: ['stuck/nope'], force: true })).rejects.toThrow(InvalidArgumentError);
    expect(await runner.rollback('stuck', { skipSteps: ['stuck/fill'], force: true })).toEqual(['stuck']);
    expect(await sql(`select to_regclass('escape_made') is not null as present`)).toEqual([{ present: false }]);
    expect((await runner.status()).map((p) => p.status)).toEqual(['rolled_back']);
    const [row] = await sql(`select status, "errorLog"::text as log from "_evolve"."DataMigration" where name like 'phase:stuck/%fill'`);
    expect(row?.['status']).toBe('rolled_back');
    expect(String(row?.['log'])).toContain('rollback skipped on request');
  });

  it('restartStep makes a data step of an unfinished phase start over; schema steps and completed phases are refused', async () => {
    let filled = 0;
    let failNext = true;
    const plan = definePlan({
      name: 'restart',
      migrationsDir,
      migrationPrefix: '20300103000000',
      phases: [
        definePhase({
          name: 'again',
          steps: [
            schemaStep('make', step(createTable, { table: 'restart_made', columns: [{ name: 'id', type: 'int', nullable: false }], primaryKey: ['id'] })),
            dataStep('fill', async () => ((filled += 1), noop)),
            dataStep('check', async () => {
              if (failNext) throw new Error('input was wrong');
              return noop;
            }),
          ],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });
    await expect(runner.run('again')).rejects.toThrow(/input was wrong/);
    expect(filled).toBe(1);
    await expect(runner.restartStep('again/make')).rejects.toThrow(/is a schema step; only data steps restart/);
    await expect(runner.restartStep('again/nothing')).rejects.toThrow(/has no step "nothing"/);
    await runner.restartStep('again/fill');
    failNext = false;
    await runner.run('again');
    expect(filled).toBe(2); // ran again from the start, although it had completed
    await expect(runner.restartStep('again/fill')).rejects.toThrow(/has completed; roll it back/);
  });
});
