import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { applyPrismaMigrations, withClient } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { execa } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// Inside the repository, so the plan module resolves @prisma-evolve/core.
const appsDir = path.join(root, '.tmp', 'evolve-cli-optimize');
mkdirSync(appsDir, { recursive: true });
const db = useTestDatabase();
const { DATABASE_URL: _callerDatabase, ...env } = process.env;
const cli = (cwd: string, args: string[]) =>
  execa(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args], { cwd, reject: false, env, extendEnv: false });
const lastJson = <T>(stdout: unknown): T => JSON.parse(String(stdout).trim().split('\n').at(-1) ?? '{}') as T;

const PLAN = `import { createIndex, definePhase, definePlan, schemaStep, sqlExpression, step } from '@prisma-evolve/core';
export const plan = definePlan({
  name: 'cli_optimize',
  migrationsDir: './migrations',
  migrationPrefix: '20990101000000',
  watchQueries: { bookingsByTutor: { sql: sqlExpression('select id from booking where "tutorId" = $1'), params: [7] } },
  phases: [definePhase({ name: 'index_tutor', backup: true, steps: [schemaStep('by_tutor', step(createIndex, { table: 'booking', columns: ['tutorId'] }))] })],
});
`;

describe('prisma-evolve run (backup: true, watchQueries), optimize, plans', () => {
  it('says where the pre-phase backup is, optimizes a phase\'s tables or all, and reports the plan change as JSON', async () => {
    const app = mkdtempSync(path.join(appsDir, 'app-'));
    const init = path.join(app, 'migrations', '20260101000000_init');
    mkdirSync(init, { recursive: true });
    writeFileSync(
      path.join(init, 'migration.sql'),
      `CREATE TABLE booking (id int PRIMARY KEY, "tutorId" int NOT NULL);\nCREATE TABLE other (id int PRIMARY KEY);\n`,
    );
    await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir: path.join(app, 'migrations') });
    await withClient(db.url, (c) => c.query(`insert into booking select g, g % 1000 from generate_series(1, 30000) g; insert into other select generate_series(1, 10); analyze booking`));
    writeFileSync(path.join(app, 'evolve.plan.ts'), PLAN);
    const common = ['--config', path.join(app, 'evolve.plan.ts'), '--database-url', db.url];

    const run = await cli(app, ['run', 'index_tutor', ...common]);
    expect(run.exitCode).toBe(0);
    const backup = /backup: backup before the phase: (\S+\.dump)/.exec(String(run.stderr))?.[1];
    expect(backup).toMatch(new RegExp(`^${path.join(app, 'backups')}/.*-index_tutor-\\d{8}-\\d{6}\\.dump$`));
    expect(existsSync(`${backup}.manifest.json`)).toBe(true);
    expect(String(run.stderr)).toContain('plans: 1 watched plan(s) captured before the phase');

    const phase = await cli(app, ['optimize', '--phase', 'index_tutor', '--json', ...common]);
    expect(phase.exitCode).toBe(0);
    expect(lastJson(phase.stdout)).toEqual({ optimize: { phase: 'index_tutor', actions: [{ action: 'analyze', object: 'public.booking', ok: true, message: 'analyzed "booking"' }], missingFolders: [] } });
    const all = await cli(app, ['optimize', '--json', '--database-url', db.url]);
    expect(all.exitCode).toBe(0);
    expect(lastJson<{ optimize: { actions: { object: string }[] } }>(all.stdout).optimize.actions.map((a) => a.object)).toEqual(['public.booking', 'public.other']);

    const plans = await cli(app, ['plans', '--json', ...common]);
    expect(plans.exitCode).toBe(0);
    const [change] = lastJson<{ plans: Record<string, unknown>[] }>(plans.stdout).plans;
    expect(change).toMatchObject({ query: 'bookingsByTutor', phase: 'index_tutor', seqScansGone: ['booking'], seqScansAppeared: [], indexesNew: ['booking_tutorId_idx'], indexesGone: [] });
    expect(change?.['before']).toMatchObject({ analyzed: false, seqScans: ['booking'], indexes: [], error: null, totalCost: expect.any(Number), rows: expect.any(Number) });
    expect(String((await cli(app, ['plans', ...common])).stdout)).toContain('sequential scan gone: booking');

    const unknown = await cli(app, ['optimize', '--phase', 'nope', ...common]);
    expect(unknown.exitCode).toBe(2);
    expect(String(unknown.stderr)).toContain('unknown phase "nope"');
  });
});
