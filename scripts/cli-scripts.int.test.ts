import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { acquireTestServer, createTestDatabase, type TestDatabase, type TestServer } from '@prisma-evolve/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const run = (script: string, args: string[], env: Record<string, string | undefined> = {}) =>
  execa(tsx, [path.join(root, 'scripts', script), ...args], { cwd: root, reject: false, env: { ...env }, extendEnv: true });

let server: TestServer;
let database: TestDatabase;
beforeAll(async () => {
  server = await acquireTestServer();
  database = await createTestDatabase(server.url);
});
afterAll(async () => {
  await database.drop();
  await server.release();
});

describe('pnpm seed:legacy', () => {
  it('seeds, prints a summary as JSON on the last line, then refuses a second run (exit 1) without --reset', async () => {
    const first = await run('seed-legacy.ts', ['--scale', '0.2', '--seed', '3', '--database-url', database.url, '--json']);
    expect(first.exitCode).toBe(0);
    const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ scale: 0.2, seed: 3, totalRows: expect.any(Number), defects: expect.any(Object) });
    const second = await run('seed-legacy.ts', ['--scale', '0.2', '--database-url', database.url]);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/already has data in: "Tenant"/);
  });

  it('exits 2 on usage errors and 1 naming the host when the server is unreachable', async () => {
    expect((await run('seed-legacy.ts', ['--bogus'])).exitCode).toBe(2);
    expect((await run('seed-legacy.ts', ['--scale', 'abc', '--database-url', database.url])).exitCode).toBe(2);
    expect((await run('seed-legacy.ts', ['--scale', '1'], { DATABASE_URL: undefined })).exitCode).toBe(2);
    const unreachable = await run('seed-legacy.ts', ['--database-url', 'postgresql://postgres@127.0.0.1:1/x']);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toContain('"127.0.0.1:1"');
  });
});

describe('pnpm demo', () => {
  it('starts its own server without DATABASE_URL, runs the seven phases, prints the JSON contract, and stops the server', async () => {
    const result = await run('demo.ts', ['--scale', '0.2', '--json'], { DATABASE_URL: undefined });
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(report.server).toBe('ephemeral');
    expect(report.phases).toHaveLength(7);
    for (const phase of report.phases) {
      expect(phase).toEqual({ name: expect.any(String), status: 'completed', processedRecords: expect.any(Number), failedRecords: expect.any(Number), verified: true });
    }
    expect(report.phases.find((p: { name: string }) => p.name === 'extracted_models').processedRecords).toBeGreaterThan(0);
    expect(report.validation.ok).toBe(true);
    expect(report.validation.checks.length).toBeGreaterThan(50);
    for (const check of report.validation.checks) expect(check).toEqual({ name: expect.any(String), ok: true, detail: expect.any(String) });
    const names: string[] = report.validation.checks.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['record count Subject', 'unique constraints present', 'indexes valid', 'fk orphans Booking_subjectRefId_fkey']));
    expect(names.some((name) => name.startsWith('extracted_models: availability_slots_parity'))).toBe(true);
    expect(report.seconds).toBeGreaterThan(0);
    expect(result.stderr).toContain('ephemeral postgresql stopped and removed');
  });
});
