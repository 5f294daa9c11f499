import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import pg from 'pg';
import { findPostgresBinaries, reapOrphanedClusters, startEphemeralPostgres } from './index.js';
import { useTestDatabase } from './jest.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function processUid(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

describe('fresh database per test file', () => {
  const db = useTestDatabase();

  it('gives this file an empty database of its own', async () => {
    const rows = await query<{ current_database: string; tables: string }>(
      db.url,
      "select current_database(), (select count(*) from pg_tables where schemaname = 'public') as tables",
    );
    expect(rows[0]?.current_database).toBe(db.name);
    expect(rows[0]?.tables).toBe('0');
    expect(db.name).toMatch(/^evolve_test_\d+_\d+_[a-z0-9]+$/);
  });

  it('runs the server as an unprivileged user even when tests run as root', async () => {
    const rows = await query<{ pid: number }>(db.url, 'select pg_backend_pid() as pid');
    const pid = rows[0]?.pid ?? 0;
    if (!existsSync(`/proc/${pid}`)) return; // server on another host (DATABASE_URL): nothing to inspect
    expect(processUid(pid)).not.toBe(0);
  });
});

describe('ephemeral servers', () => {
  const sources = findPostgresBinaries();

  it('finds at least one set of server binaries, including the npm-shipped ones on linux-x64', () => {
    expect(sources.length).toBeGreaterThan(0);
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(sources.map((binaries) => binaries.source)).toContain('npm');
    }
  });

  it.each(sources.map((binaries) => [binaries.source, binaries] as const))(
    'starts from the %s binaries on a free port beside any running server, and cleans up on stop',
    async (_source, binaries) => {
      const server = await startEphemeralPostgres({ binaries });
      try {
        expect(server.port).not.toBe(5432);
        const rows = await query<{ lc_collate: string; encoding: string }>(
          server.url,
          "select datcollate as lc_collate, pg_encoding_to_char(encoding) as encoding from pg_database where datname = 'postgres'",
        );
        expect(rows[0]).toEqual({ lc_collate: 'C', encoding: 'UTF8' });
        expect(server.versionNum).toBeGreaterThanOrEqual(130000);
      } finally {
        await server.stop();
      }
      expect(existsSync(server.dataDir)).toBe(false);
      await expect(query(server.url, 'select 1')).rejects.toThrow();
    },
  );

  it('reaps a cluster whose owning process was killed with SIGKILL', async () => {
    const child = execa('node', ['--import', 'tsx', path.join(here, 'fixtures', 'start-and-hang.ts')], { cwd: here, reject: false });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => resolve(chunk.toString()));
      child.on('exit', () => reject(new Error('fixture exited before printing the server')));
    });
    const started = JSON.parse(line) as { url: string; dataDir: string };
    expect(await query(started.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    child.kill('SIGKILL');
    await child;
    expect(reapOrphanedClusters()).toBeGreaterThanOrEqual(1);
    expect(existsSync(path.dirname(started.dataDir))).toBe(false);
    // The orphaned postmaster got SIGQUIT; give it a moment to exit, then it must refuse connections.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(query(started.url, 'select 1')).rejects.toThrow();
  });
});
