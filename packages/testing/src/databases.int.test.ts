import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { acquireTestServer, createTestDatabase, dropDatabase, ensureTemplateDatabase, tableChecksums, type TestServer } from './index.js';

let server: TestServer;
const created: string[] = [];
beforeAll(async () => {
  server = await acquireTestServer();
});
afterAll(async () => {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  for (const name of created) await admin.query(`alter database "${name}" is_template false`).catch(() => undefined);
  await admin.end();
  for (const name of created) await dropDatabase(server.url, name);
  await server.release();
});

async function exec(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('template databases', () => {
  const fingerprint = `test-${process.pid}-${Date.now()}`;

  it('builds a template once per fingerprint; databases made from it start with its content', async () => {
    let setups = 0;
    const options = {
      name: 'unit',
      fingerprint,
      setup: async (url: string) => {
        setups += 1;
        await exec(url, 'create table seeded (id int primary key); insert into seeded values (1), (2)');
      },
    };
    const [first, second] = await Promise.all([ensureTemplateDatabase(server.url, options), ensureTemplateDatabase(server.url, options)]);
    created.push(first);
    expect(second).toBe(first);
    expect(setups).toBe(1);
    const a = await createTestDatabase(server.url, { template: first });
    const b = await createTestDatabase(server.url, { template: first });
    expect(await tableChecksums(a.url)).toEqual(await tableChecksums(b.url));
    await exec(a.url, 'insert into seeded values (3)');
    expect((await exec(b.url, 'select count(*)::int as n from seeded')).rows).toEqual([{ n: 2 }]);
    await a.drop();
    await b.drop();
    await b.drop(); // idempotent
  });

  it('builds a new template when the fingerprint changes, and drops a half-built one when setup fails', async () => {
    const changed = await ensureTemplateDatabase(server.url, { name: 'unit', fingerprint: `${fingerprint}-v2`, setup: async () => undefined });
    created.push(changed);
    const failing = ensureTemplateDatabase(server.url, {
      name: 'unit',
      fingerprint: `${fingerprint}-broken`,
      setup: async () => {
        throw new Error('setup exploded');
      },
    });
    await expect(failing).rejects.toThrow('setup exploded');
    const { rows } = await exec(server.url, "select datname from pg_database where datname like 'evolve_tpl_unit_%'");
    const names = rows.map((row: { datname: string }) => row.datname);
    expect(names).toContain(changed);
    expect(names).toHaveLength(created.length);
  });
});
