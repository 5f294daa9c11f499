import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { backfill } from '../backfill/backfill.js';
import { createNumbersTable, sql, withClient } from '../backfill/fixtures/backfill-fixtures.js';
import { backfillStep, dataStep, definePhase, definePlan } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { controlPlanStep } from '../phases/step-monitor.js';
import { readBatchHistory } from './batch-history.js';
import { readStepControls, setStepControl } from './step-control.js';

const db = useTestDatabase();
const slow = { batch: { initial: 100, min: 100, max: 100, targetMs: 50 }, rangeRows: 1_000, pauseMs: 40 } as const;

const processed = async (name: string): Promise<number> =>
  Number((await sql<{ n: number }>(db.url, `select "processedRecords"::int as n from "_evolve"."DataMigration" where name = $1`, [name]))[0]?.n ?? -1);
const flags = () => withClient(db.url, (client) => readStepControls(client, '_evolve'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = async (condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
};

describe('pause and cancel are refused when nothing would obey them, and never outlive their step', () => {
  it('holds a custom data step before it starts, refuses to pause or cancel it mid-way, and obeys on a backfill step', async () => {
    await createNumbersTable(db.url, 'plan_fill', 2_000);
    let started = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const plan = definePlan({
      name: 'control',
      migrationsDir: './migrations',
      migrationPrefix: '20300301000000',
      phases: [
        definePhase({
          name: 'p',
          steps: [
            dataStep('custom', async () => {
              started = true;
              await released;
              return { processed: 0, failed: 0, canceled: false };
            }),
            backfillStep('fill', { table: 'plan_fill', set: { b: 't.a * 2' }, where: 't.b is null', health: false, ...slow }),
          ],
        }),
      ],
    });
    const control = (step: string, action: 'pause' | 'resume' | 'cancel') => controlPlanStep(plan, db.url, `p/${step}`, action, 'test');
    // Not started yet: a pause is accepted, and the runner holds the step before its function runs.
    expect(await control('custom', 'pause')).toMatchObject({ control: 'pause' });
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-control-')), 'migrations');
    const running = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir }).run('p');
    running.catch(() => undefined);
    await sleep(1_000);
    expect(started).toBe(false);
    expect(await control('custom', 'resume')).toMatchObject({ control: null });
    await waitFor(() => started);

    // The custom function runs: nothing in it reads the flag, so neither action is recorded.
    await expect(control('custom', 'pause')).rejects.toThrow(/step "p\/custom" is running, but nothing in it reads the flag right now/);
    await expect(control('custom', 'cancel')).rejects.toThrow(/its cancel was not recorded/);
    expect(await flags()).toEqual([]);
    release();

    // A backfill step obeys: paused while its batches run, nothing moves; resumed, it completes.
    await waitFor(async () => (await processed('phase:p/fill')) >= 200);
    expect(await control('fill', 'pause')).toMatchObject({ control: 'pause' });
    await sleep(600);
    const atPause = await processed('phase:p/fill');
    await sleep(800);
    expect(await processed('phase:p/fill')).toBe(atPause);
    await control('fill', 'resume');
    await running;
    expect(await processed('phase:p/fill')).toBe(2_000);
    await expect(control('fill', 'pause')).rejects.toThrow('step "p/fill" is completed: nothing to pause');
    expect(await flags()).toEqual([]);
  }, 60_000);

  it('a cancel on the enclosing step is obeyed by its unit (not erased when the unit starts), then consumed', async () => {
    await createNumbersTable(db.url, 'unit_fill', 1_000);
    const parent = 'phase:schema/step';
    await withClient(db.url, async (client) => {
      await client.query(`create schema if not exists "_evolve"`);
      await client.query(`create table if not exists "_evolve".step_control (step text primary key, action text not null, requested_by text, requested_at timestamptz not null default now())`);
      await setStepControl(client, '_evolve', parent, 'cancel', 'test');
    });
    const result = await backfill({ database: db.url, name: `${parent}/01:unit`, table: 'unit_fill', set: { b: 'a * 2' }, where: 'b is null', health: false, ...slow });
    expect(result.status).toBe('canceled');
    expect(result.batches).toBe(0);
    expect(await flags()).toEqual([]);
  });

  it('a flag that arrives when nothing reads it is cleared when the step completes; resume clears a stale cancel', async () => {
    await createNumbersTable(db.url, 'late_fill', 1_000);
    const name = 'late fill';
    let set: Promise<unknown> | undefined;
    const result = await backfill({
      database: db.url, name, table: 'late_fill', set: { b: 'a * 2' }, where: 'b is null', health: false, control: false, ...slow,
      onBatch: () => void (set ??= withClient(db.url, (client) => setStepControl(client, '_evolve', name, 'cancel', 'test'))),
    });
    await set;
    expect(result.status).toBe('completed');
    expect(await flags()).toEqual([]);

    // A cancel left behind (its run died before it read it): `resume` of the step, not running, clears it.
    const plan = definePlan({ name: 'stale', migrationsDir: './m', migrationPrefix: '20300301000000', phases: [definePhase({ name: 'q', steps: [dataStep('x', async () => ({ processed: 0, failed: 0, canceled: false }))] })] });
    await withClient(db.url, (client) => setStepControl(client, '_evolve', 'phase:q/x', 'cancel', 'test'));
    expect(await controlPlanStep(plan, db.url, 'q/x', 'resume', 'test')).toMatchObject({ control: null });
    expect(await flags()).toEqual([]);
  });
});

describe('pause longer than the range lease', () => {
  it('a paused worker hands its range back, so no lease lapses under it; it resumes from its checkpoint', async () => {
    await createNumbersTable(db.url, 'lease_fill', 2_000);
    const name = 'lease fill';
    const running = backfill({ database: db.url, name, table: 'lease_fill', set: { b: 'a * 2' }, where: 'b is null', health: false, leaseMs: 300, ...slow });
    await waitFor(async () => (await processed(name)) >= 200);
    await withClient(db.url, (client) => setStepControl(client, '_evolve', name, 'pause', 'test'));
    await sleep(1_200); // four leases
    const held = await sql<{ n: number }>(db.url, `select count(*)::int as n from "_evolve".backfill_range where migration = $1 and status = 'running'`, [name]);
    expect(held[0]?.n).toBe(0);
    await withClient(db.url, (client) => setStepControl(client, '_evolve', name, 'resume', 'test'));
    const result = await running;
    expect(result).toMatchObject({ status: 'completed', scanned: 2_000 });
    expect(await processed(name)).toBe(2_000);
  }, 30_000);
});

describe('batch history writes are bounded and their failures counted', () => {
  it('a lock held on the history table delays no worker for long: the backfill completes, and stats count the failures', async () => {
    await createNumbersTable(db.url, 'locked_history', 1_500);
    const name = 'locked history';
    const running = backfill({ database: db.url, name, table: 'locked_history', set: { b: 'a * 2' }, where: 'b is null', health: false, history: { flushRows: 1 }, ...slow });
    await waitFor(async () => (await processed(name)) >= 200);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table "_evolve".batch_history in access exclusive mode');
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), 20_000)));
      const result = await Promise.race([running, stalled]).finally(() => clearTimeout(timer));
      expect(result).not.toBe('stalled');
      if (result === 'stalled') return;
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(result.status).toBe('completed');
      expect(result.history!.failures).toBeGreaterThan(0);
      expect(result.history!.dropped).toBeGreaterThan(0);
      expect(result.history!.lastError).toMatch(/lock timeout/);
    } finally {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
      await running.catch(() => undefined);
    }
  }, 40_000);

  it('prunes by a fractional maxAgeDays', async () => {
    await createNumbersTable(db.url, 'age_fill', 300);
    await backfill({ database: db.url, name: 'age first', table: 'age_fill', set: { b: 'a * 2' }, where: 'b is null', health: false });
    await sql(db.url, `insert into "_evolve".batch_history (step, kind, worker, started_at, duration_ms) values ('old step', 'batch', 'w', now() - interval '1 day', 1)`);
    await sql(db.url, `update age_fill set b = null`);
    const result = await backfill({ database: db.url, name: 'age second', table: 'age_fill', set: { b: 'a * 2' }, where: 'b is null', health: false, history: { maxAgeDays: 0.5 } });
    expect(result.history).toMatchObject({ failures: 0, lastError: null });
    expect(await withClient(db.url, (client) => readBatchHistory(client, '_evolve', 'old step'))).toEqual([]);
  });
});
