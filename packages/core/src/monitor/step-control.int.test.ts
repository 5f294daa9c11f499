import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { backfill } from '../backfill/backfill.js';
import { createNumbersTable, sql, withClient } from '../backfill/fixtures/backfill-fixtures.js';
import { readBatchHistory } from './batch-history.js';
import { readStepControls, setStepControl } from './step-control.js';

const db = useTestDatabase();
const slow = { batch: { initial: 100, min: 100, max: 100, targetMs: 50 }, rangeRows: 1_000, pauseMs: 40 } as const;

const processed = async (name: string): Promise<number> =>
  Number((await sql<{ n: number }>(db.url, `select "processedRecords"::int as n from "_evolve"."DataMigration" where name = $1`, [name]))[0]?.n ?? -1);
const control = (name: string, action: 'pause' | 'resume' | 'cancel') => withClient(db.url, (client) => setStepControl(client, '_evolve', name, action, 'test'));
const waitFor = async (condition: () => Promise<boolean>, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('batch history', () => {
  it('records every committed batch after it commits, and prunes a step to its newest entries', async () => {
    await createNumbersTable(db.url, 'history_basic', 2_000);
    const result = await backfill({ database: db.url, name: 'history basic', table: 'history_basic', set: { b: 'a * 2' }, where: 'b is null', batch: slow.batch, rangeRows: 1_000 });
    const entries = await withClient(db.url, (client) => readBatchHistory(client, '_evolve', 'history basic'));
    const batches = entries.filter((entry) => entry.kind === 'batch');
    expect(batches).toHaveLength(result.batches);
    expect(result.history).toMatchObject({ entries: result.batches });
    expect(result.history!.writeMs).toBeGreaterThan(0);
    expect(batches.reduce((sum, entry) => sum + entry.rows, 0)).toBe(2_000);
    expect(batches[0]).toMatchObject({ attempts: 1, retryStates: [], batchSize: 100 });
    expect(batches.every((entry) => entry.durationMs >= 0 && !Number.isNaN(Date.parse(entry.startedAt)))).toBe(true);

    await createNumbersTable(db.url, 'history_pruned', 2_000);
    await backfill({ database: db.url, name: 'history pruned', table: 'history_pruned', set: { b: 'a * 2' }, where: 'b is null', batch: slow.batch, history: { keep: 5, flushRows: 3 } });
    const kept = await withClient(db.url, (client) => readBatchHistory(client, '_evolve', 'history pruned'));
    expect(kept.length).toBeLessThanOrEqual(5);

    await createNumbersTable(db.url, 'history_off', 500);
    await backfill({ database: db.url, name: 'history off', table: 'history_off', set: { b: 'a * 2' }, where: 'b is null', history: false });
    expect(await withClient(db.url, (client) => readBatchHistory(client, '_evolve', 'history off'))).toEqual([]);
  });
});

describe('pause, resume and cancel from outside the process', () => {
  it('a paused step runs no batch until resumed, then completes; the wait is in its history', async () => {
    await createNumbersTable(db.url, 'paused_fill', 3_000);
    const name = 'paused fill';
    const running = backfill({ database: db.url, name, table: 'paused_fill', set: { b: 'a * 2' }, where: 'b is null', ...slow });
    await waitFor(async () => (await processed(name)) >= 300);
    await control(name, 'pause');
    expect(await withClient(db.url, (client) => readStepControls(client, '_evolve'))).toMatchObject([{ step: name, action: 'pause', requestedBy: 'test' }]);
    await new Promise((resolve) => setTimeout(resolve, 600)); // the cached flag (250 ms) and the batch in flight
    const atPause = await processed(name);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await processed(name)).toBe(atPause);
    await control(name, 'resume');
    const result = await running;
    expect(result.status).toBe('completed');
    expect(await processed(name)).toBe(3_000);
    const pauses = (await withClient(db.url, (client) => readBatchHistory(client, '_evolve', name))).filter((e) => e.kind === 'pause');
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toMatchObject({ reason: 'operator' });
    expect(pauses[0]!.durationMs).toBeGreaterThan(1_500);
  });

  it('a cancel stops the step with its checkpoints kept; the next call resumes and completes', async () => {
    await createNumbersTable(db.url, 'canceled_fill', 3_000);
    const name = 'canceled fill';
    const options = { database: db.url, name, table: 'canceled_fill', set: { b: 'a * 2' }, where: 'b is null', ...slow } as const;
    const running = backfill(options);
    await waitFor(async () => (await processed(name)) >= 300);
    await control(name, 'cancel');
    const canceled = await running;
    expect(canceled.status).toBe('canceled');
    const [row] = await sql<{ status: string; errorLog: { error: string }[] }>(db.url, `select status, "errorLog" from "_evolve"."DataMigration" where name = $1`, [name]);
    expect(row?.status).toBe('pending');
    expect(row?.errorLog.at(-1)?.error).toContain('canceled by an operator');
    expect(await withClient(db.url, (client) => readStepControls(client, '_evolve'))).toEqual([]);
    const done = await processed(name);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(3_000);

    const resumed = await backfill(options);
    expect(resumed).toMatchObject({ status: 'completed', resumed: true, scanned: 3_000 - done });
    expect(await processed(name)).toBe(3_000);
  });
});
