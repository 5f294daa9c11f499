import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { withClient, withDatabase } from '@prisma-evolve/core';
import { createTestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// Apps live in the workspace (git ignores .tmp/), so their plans resolve @prisma-evolve/core to its sources.
const appsDir = path.join(root, '.tmp', 'evolve-cli-apps');
mkdirSync(appsDir, { recursive: true });
// Each call names its database itself (or none, on purpose): the caller's DATABASE_URL is left out.
const { DATABASE_URL: _callerDatabase, ...env } = process.env;
const cli = (cwd: string, args: string[], extra: Record<string, string> = {}) =>
  execa(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args], { cwd, reject: false, env: { ...env, ...extra }, extendEnv: false });
const last = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as T;
const db = useTestDatabase();

const SCHEMA = `generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "postgresql"
}

model Account {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
}
`;

/** A Prisma app: package.json and prisma/schema.prisma, nothing of prisma-evolve yet. */
function newApp(scripts: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(appsDir, 'app-'));
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'app', private: true, scripts }, null, 2)}\n`);
  mkdirSync(path.join(dir, 'prisma'));
  writeFileSync(path.join(dir, 'prisma', 'schema.prisma'), SCHEMA);
  return dir;
}

describe('prisma-evolve init', () => {
  it('writes the plan, the script and the generator, then refuses to overwrite anything', async () => {
    const app = newApp({ build: 'tsc' });
    const first = await cli(app, ['init', '--soft-delete']);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('prisma/evolve.plan.ts');
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts).toEqual({ build: 'tsc', 'migrate:phase': 'prisma-evolve' });
    const schema = readFileSync(path.join(app, 'prisma', 'schema.prisma'), 'utf8');
    expect(schema.startsWith(SCHEMA)).toBe(true);
    expect(schema).toContain('provider = "prisma-evolve-meta"');
    expect(schema).toContain('output   = "./generated/evolve-meta.mjs"'); // no tsconfig.json: plain JavaScript
    const plan = readFileSync(path.join(app, 'prisma', 'evolve.plan.ts'), 'utf8');
    expect(plan).toMatch(/migrationPrefix: '\d{14}'/);
    expect(plan).toContain('migrationsDir: "./migrations"');

    // The written plan loads and has no phase yet.
    mkdirSync(path.join(app, 'prisma', 'migrations'));
    const status = await cli(app, ['status', '--json', '--database-url', db.url]);
    expect(last<{ phases: unknown[] }>(status.stdout).phases).toEqual([]);

    const files = () => ['package.json', 'prisma/schema.prisma', 'prisma/evolve.plan.ts'].map((f) => readFileSync(path.join(app, f), 'utf8'));
    const before = files();
    const again = await cli(app, ['init', '--soft-delete']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('prisma/evolve.plan.ts exists; not overwritten');
    expect(files()).toEqual(before);
  });

  it('refuses a migrate:phase script that runs something else, writing nothing; TypeScript apps get .ts metadata', async () => {
    const taken = newApp({ 'migrate:phase': 'node scripts/migrate.js' });
    const refused = await cli(taken, ['init']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('already has a "migrate:phase" script ("node scripts/migrate.js")');
    expect(existsSync(path.join(taken, 'prisma', 'evolve.plan.ts'))).toBe(false);

    const typed = newApp();
    writeFileSync(path.join(typed, 'tsconfig.json'), '{}\n');
    expect((await cli(typed, ['init', '--soft-delete'])).exitCode).toBe(0);
    expect(readFileSync(path.join(typed, 'prisma', 'schema.prisma'), 'utf8')).toContain('output   = "./generated/evolve-meta.ts"');
  });
});

describe('prisma-evolve new and deploy', () => {
  it('writes Prisma\'s folder, lints it (exit 1 when unsafe), rewrites it with --safe, and deploys', async () => {
    const app = newApp();
    const dbFlag = ['--database-url', db.url];
    const migrations = path.join(app, 'prisma', 'migrations');
    const first = await cli(app, ['new', 'init', '--json', ...dbFlag]);
    expect(first.exitCode).toBe(0);
    const created = last<{ folders: string[]; findings: unknown[]; phaseModule: string | null }>(first.stdout);
    expect(created).toEqual({ folders: [expect.stringMatching(/^\d{14}_init$/)], findings: [], phaseModule: null });

    const deploy = await cli(app, ['deploy', '--json', ...dbFlag]);
    expect(deploy.exitCode).toBe(0);
    expect(last<{ applied: string[] }>(deploy.stdout).applied).toEqual(created.folders);
    expect(last<{ applied: string[] }>((await cli(app, ['deploy', '--json', ...dbFlag])).stdout).applied).toEqual([]);

    // A new index on a table with rows: Prisma's CREATE INDEX blocks writes.
    writeFileSync(path.join(app, 'prisma', 'schema.prisma'), SCHEMA.replace('  name  String?\n}', '  name  String?\n\n  @@index([name])\n}'));
    const unsafe = await cli(app, ['new', 'name_index', '--json', ...dbFlag]);
    expect(unsafe.exitCode).toBe(1);
    const report = last<{ folders: string[]; findings: Array<{ rule: string; severity: string; file: string; line: number }> }>(unsafe.stdout);
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([expect.objectContaining({ rule: 'create-index-non-concurrent', severity: 'error', line: 2, file: expect.stringContaining(`${report.folders[0]}/migration.sql`) })]);
    rmSync(path.join(migrations, report.folders[0] ?? 'none'), { recursive: true });

    const safe = await cli(app, ['new', 'name_index', '--safe', '--json', ...dbFlag]);
    expect(safe.exitCode).toBe(0);
    const rewritten = last<{ folders: string[]; findings: Array<{ severity: string }>; phaseModule: string | null }>(safe.stdout);
    expect(rewritten.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(rewritten.folders.map((f) => readFileSync(path.join(migrations, f, 'migration.sql'), 'utf8')).join('\n')).toContain('CREATE INDEX CONCURRENTLY');
    expect((await cli(app, ['deploy', ...dbFlag])).exitCode).toBe(0);
    expect((await cli(app, ['status', ...dbFlag])).exitCode).toBe(0);
    // Nothing is left between schema.prisma and the deployed migrations.
    expect(last<{ folders: string[] }>((await cli(app, ['new', 'nothing', '--json', ...dbFlag])).stdout).folders).toEqual([]);
    expect(readdirSync(migrations).filter((f) => f.endsWith('_nothing'))).toEqual([]);
  });

  it('exits 2 naming how to give a database, and on flags the command does not take', async () => {
    const app = newApp();
    const noDatabase = await cli(app, ['new', 'init']);
    expect(noDatabase.exitCode).toBe(2);
    expect(noDatabase.stderr).toContain('no database: pass --database-url, set DATABASE_URL, or set datasource.url in prisma.config.ts');
    const wrongFlag = await cli(app, ['deploy', '--cascade']);
    expect(wrongFlag.exitCode).toBe(2);
    expect(wrongFlag.stderr).toContain('"deploy" does not take --cascade');
    expect((await cli(app, ['new', 'x', '--safe', '--dry-run', '--database-url', db.url])).exitCode).toBe(2);
  });

  it('reads the datasource and paths from prisma.config.ts', async () => {
    const app = newApp();
    mkdirSync(path.join(app, 'db'));
    writeFileSync(path.join(app, 'db', 'app.prisma'), SCHEMA);
    writeFileSync(
      path.join(app, 'prisma.config.ts'),
      `import { defineConfig } from 'prisma/config';\nexport default defineConfig({ schema: 'db/app.prisma', migrations: { path: 'db/history' }, datasource: { url: ${JSON.stringify(db.url)} } });\n`,
    );
    const created = await cli(app, ['new', 'init', '--json']);
    expect(created.exitCode).toBe(0);
    const folder = last<{ folders: string[] }>(created.stdout).folders[0] ?? '';
    expect(existsSync(path.join(app, 'db', 'history', folder, 'migration.sql'))).toBe(true);
  });
});

describe('deploy after a failure, and without its plan', () => {
  it('a plan folder that failed does not block the next deploy once the cause is fixed', async () => {
    const app = newApp();
    // A database of its own: the file's database already holds another app's migrations.
    const own = await createTestDatabase(withDatabase(db.url, 'postgres'), { prefix: 'evolve_deploy' });
    const dbFlag = ['--database-url', own.url];
    expect((await cli(app, ['new', 'init', ...dbFlag])).exitCode).toBe(0);
    expect((await cli(app, ['deploy', ...dbFlag])).exitCode).toBe(0);
    await withClient(own.url, (client) => client.query(`insert into "Account" (email, name) values ('a@x.io', 'twin'), ('b@x.io', 'twin')`));
    writeFileSync(
      path.join(app, 'prisma', 'evolve.plan.ts'),
      `import { createIndex, definePhase, definePlan, schemaStep, step } from '@prisma-evolve/core';
export const plan = definePlan({
  name: 'unique_names',
  migrationsDir: './migrations',
  migrationPrefix: '20990101000000',
  phases: [definePhase({ name: 'unique_name', steps: [schemaStep('index', step(createIndex, { table: 'Account', columns: ['name'], unique: true }))] })],
});
`,
    );
    const failed = await cli(app, ['deploy', ...dbFlag]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/could not create unique index|duplicate/);
    await withClient(own.url, (client) => client.query(`update "Account" set name = email`));
    const fixed = await cli(app, ['deploy', '--json', ...dbFlag]);
    expect(fixed.stderr).toContain('its failed attempt is marked rolled back');
    expect(fixed.exitCode).toBe(0);
    expect(last<{ phases: Array<{ status: string }> }>(fixed.stdout).phases.map((p) => p.status)).toEqual(['completed']);
    expect((await cli(app, ['status', ...dbFlag])).exitCode).toBe(0);

    // Without the plan, its folders would be applied like plain ones, without their steps: refused.
    const moved = path.join(app, 'prisma', 'evolve.plan.ts');
    rmSync(moved);
    const refused = await cli(app, ['deploy', ...dbFlag]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/holds folders a prisma-evolve plan wrote \(20990101000000_01_01_01_\S+\), and no plan was found/);
    await own.drop();
  });
});

describe('exit codes', () => {
  it('a runtime invalid argument during rollback is a failure (1), an unknown phase a usage error (2)', async () => {
    const app = newApp();
    writeFileSync(
      path.join(app, 'prisma', 'evolve.plan.ts'),
      `import { dataStep, definePhase, definePlan, InvalidArgumentError } from '@prisma-evolve/core';
export const plan = definePlan({
  name: 'codes',
  migrationsDir: './migrations',
  migrationPrefix: '20300101000000',
  phases: [
    definePhase({
      name: 'touch',
      steps: [dataStep('noop', async () => ({ processed: 0, failed: 0, canceled: false }), { down: async () => { throw new InvalidArgumentError('down', 'cannot be undone here'); } })],
    }),
  ],
});
`,
    );
    mkdirSync(path.join(app, 'prisma', 'migrations'));
    const dbFlag = ['--database-url', db.url];
    expect((await cli(app, ['run', '--all', ...dbFlag])).exitCode).toBe(0);
    const rollback = await cli(app, ['rollback', 'touch', '--yes', '--force', ...dbFlag]);
    expect(rollback.stderr).toContain('cannot be undone here');
    expect(rollback.exitCode).toBe(1);
    const unknown = await cli(app, ['run', 'nope', ...dbFlag]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown phase "nope"');
  });
});
