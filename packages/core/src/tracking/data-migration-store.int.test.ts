import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { DataMigrationStore } from '../index.js';

const db = useTestDatabase();

async function withPg<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('DataMigrationStore counters', () => {
  it('are BIGINT: a count above 2^31 is stored and read back as a number, and an INTEGER table of an earlier version is widened', async () => {
    await withPg(async (client) => {
      await client.query(`create schema legacy_tracking`);
      // The table an earlier version (or an app mapping the model as Prisma Int) created.
      await client.query(`create table legacy_tracking."DataMigration" (
        "id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "description" TEXT, "status" TEXT NOT NULL DEFAULT 'pending',
        "startedAt" TIMESTAMP(3), "completedAt" TIMESTAMP(3), "totalRecords" INTEGER, "processedRecords" INTEGER NOT NULL DEFAULT 0,
        "failedRecords" INTEGER NOT NULL DEFAULT 0, "resultSummary" JSONB, "errorLog" JSONB NOT NULL DEFAULT '[]',
        "isReversible" BOOLEAN NOT NULL DEFAULT false, "rollbackData" JSONB, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
        "updatedAt" TIMESTAMP(3) NOT NULL)`);
      const store = new DataMigrationStore({ schema: 'legacy_tracking', table: 'DataMigration', stateSchema: 'legacy_state' });
      await store.ensure(client);
      const { rows } = await client.query<{ attname: string; type: string }>(
        `select attname, format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = 'legacy_tracking."DataMigration"'::regclass and attname like '%Records' order by 1`,
      );
      expect(rows).toEqual([
        { attname: 'failedRecords', type: 'bigint' },
        { attname: 'processedRecords', type: 'bigint' },
        { attname: 'totalRecords', type: 'bigint' },
      ]);
      const big = 3_000_000_000;
      await store.start(client, 'huge', { totalRecords: big * 2 });
      expect(await store.addProgress(client, 'huge', big, 0)).toBe(big);
      await store.raiseCounts(client, 'huge', big + 5, 2 ** 31 + 1);
      const row = await store.get(client, 'huge');
      expect(row).toMatchObject({ totalRecords: big * 2, processedRecords: big + 5, failedRecords: 2 ** 31 + 1 });
      expect((await store.list(client, 'hu'))[0]?.processedRecords).toBe(big + 5);
    });
  });

  it('resets a row and the rows under it, never a row whose name merely starts the same way', async () => {
    await withPg(async (client) => {
      const store = new DataMigrationStore({ schema: 'rows_tracking', table: 'DataMigration', stateSchema: 'rows_state' });
      await store.ensure(client);
      for (const name of ['phase:p/fill', 'phase:p/fill/01:unit', 'phase:p/fill_more', 'phase:p/fillet']) {
        await store.start(client, name, {});
        await store.finish(client, name, 'completed');
      }
      await store.resetRow(client, 'phase:p/fill', 'rolled_back');
      const statuses = Object.fromEntries((await store.list(client, 'phase:p/')).map((row) => [row.name, row.status]));
      expect(statuses).toEqual({ 'phase:p/fill': 'rolled_back', 'phase:p/fill/01:unit': 'rolled_back', 'phase:p/fill_more': 'completed', 'phase:p/fillet': 'completed' });
      // A status the table does not allow is refused by name, and nothing changes.
      await expect(store.transition(client, 'phase:p/fill_more', 'running')).rejects.toThrow(/"phase:p\/fill_more" is completed and cannot become running/);
    });
  });
});
