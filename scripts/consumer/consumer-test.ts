/**
 * `pnpm test:consumer` (a step of .ci/run): prisma-evolve as a new user gets it. Builds and packs every
 * package with `npm pack`, creates an app in a temporary folder outside the workspace (scripts/consumer/app),
 * installs the tarballs with npm (no overrides, no workspace), generates the app's Prisma client offline,
 * and with plain `node` (no tsx in the app, NODE_OPTIONS cleared): imports the packages from ESM and
 * CommonJS, type-checks our declarations under the strictest tsconfig, runs `prisma-evolve --help`, `new`
 * (the first migration), `deploy`, `init --soft-delete`, `new --safe` (a rename and a new required column),
 * `deploy`, `run --all` and `status --json`, checks the data, and uses the soft-delete extension with the
 * app's generated client. Prints each step's time; the last line is one JSON object. Exit 1 on any failure.
 *
 * Flags: --keep (leave the app folder for a look), --database-url URL (default: DATABASE_URL, else an
 * ephemeral PostgreSQL).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa, type Options } from 'execa';
import pg from 'pg';
import { acquireTestServer, createTestDatabase } from '@prisma-evolve/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = path.join(root, 'scripts', 'consumer', 'app');
const PACKAGES = ['core', 'cli', 'soft-delete', 'testing'];
/** The versions the workspace itself uses, so the app runs what our tests ran. */
const rootPackage = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const versionOf = (name: string): string => rootPackage.dependencies[name] ?? rootPackage.devDependencies[name] ?? 'latest';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false }, 'database-url': { type: 'string' } } });
const steps: Array<{ step: string; seconds: number }> = [];
const work = mkdtempSync(path.join(tmpdir(), 'evolve-consumer-'));
const app = path.join(work, 'app');
const tarballs = path.join(work, 'tarballs');

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  process.stderr.write(`▸ ${name}\n`);
  const result = await fn();
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  steps.push({ step: name, seconds });
  process.stderr.write(`  ok (${seconds} s)\n`);
  return result;
}

/** The app's environment: no NODE_OPTIONS (the workspace's source condition must not leak), offline Prisma. */
function appEnv(databaseUrl: string): NodeJS.ProcessEnv {
  // Neither NODE_OPTIONS nor pnpm's npm_config_* settings (node-options, link-workspace-packages) may leak in.
  const rest = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && !key.toLowerCase().startsWith('npm_') && !key.startsWith('PNPM_')));
  return {
    ...rest,
    DATABASE_URL: databaseUrl,
    PRISMA_SCHEMA_ENGINE_BINARY: path.join(root, 'scripts', 'bin', 'no-schema-engine'),
    PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1',
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
}

/** Runs a command in the app; throws with its output unless it exits with `expect` (default 0). */
async function inApp(env: NodeJS.ProcessEnv, file: string, args: string[], expect = 0, options: Options = {}): Promise<string> {
  const result = await execa(file, args, { cwd: app, env, extendEnv: false, reject: false, ...options });
  if (result.exitCode !== expect) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.exitCode} (expected ${expect})\n--- stdout\n${String(result.stdout)}\n--- stderr\n${String(result.stderr)}`);
  }
  return String(result.stdout);
}

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as T;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`consumer check failed: ${message}`);
}

const server = values['database-url'] ? { url: values['database-url'], release: async () => undefined } : await acquireTestServer();
const database = await createTestDatabase(server.url, { prefix: 'evolve_consumer' });
let failed: unknown;
try {
  await step('build the packages (tsc -b)', () => execa('pnpm', ['run', 'build'], { cwd: root, stdio: 'inherit' }));
  await step('npm pack every package', async () => {
    mkdirSync(tarballs);
    for (const name of PACKAGES) await execa('npm', ['pack', '--pack-destination', tarballs, '--silent'], { cwd: path.join(root, 'packages', name) });
  });
  const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  check(files.length === PACKAGES.length, `expected ${PACKAGES.length} tarballs, got ${files.join(', ')}`);
  for (const file of files) {
    const listing = (await execa('tar', ['-tzf', path.join(tarballs, file)])).stdout.split('\n');
    check(!listing.some((entry) => entry.startsWith('package/src/') || entry.endsWith('.test.ts')), `${file} ships sources or tests`);
    check(listing.includes('package/README.md') && listing.includes('package/LICENSE'), `${file} lacks README.md or LICENSE`);
  }

  const env = appEnv(database.url);
  await step('create the app and npm install the tarballs (no workspace, no overrides)', async () => {
    cpSync(fixture, app, { recursive: true });
    cpSync(path.join(app, 'db', 'schema.v1.prisma'), path.join(app, 'db', 'schema.prisma'));
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    pkg['dependencies'] = {
      ...Object.fromEntries(files.map((f) => [`@prisma-evolve/${/^prisma-evolve-(.+)-\d/.exec(f)?.[1] ?? f}`, `file:../tarballs/${f}`])),
      '@prisma/client': versionOf('@prisma/client'),
      '@prisma/adapter-pg': versionOf('@prisma/adapter-pg'),
      prisma: versionOf('prisma'),
      typescript: versionOf('typescript'),
      '@types/node': versionOf('@types/node'),
    };
    writeFileSync(path.join(app, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    // Scripts are skipped only for Prisma's engine download, which this machine cannot reach.
    await inApp(env, 'npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel', 'error']);
    check(!existsSync(path.join(app, 'node_modules', '.bin', 'tsx')) && !existsSync(path.join(app, 'node_modules', 'tsx')), 'tsx is installed in the app');
  });

  await step('node: import from .mjs and require from .cjs', async () => {
    check(lastJson<{ esm: number }>(await inApp(env, 'node', ['import-core.mjs'])).esm > 100, 'the ESM import exposes the public API');
    check(lastJson<{ cjs: number }>(await inApp(env, 'node', ['require-core.cjs'])).cjs > 100, 'require() exposes the public API');
  });
  await step('tsc: our declarations under strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, skipLibCheck false', async () => {
    cpSync(path.join(app, 'tsconfig.json.template'), path.join(app, 'tsconfig.check.json'));
    await inApp(env, path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.check.json']);
  });
  const cli = (args: string[], expect = 0) => inApp(env, 'npx', ['--no-install', 'prisma-evolve', ...args], expect);
  await step('npx prisma-evolve --help', async () => {
    const help = await cli(['--help']);
    for (const command of ['init', 'new', 'deploy', 'run', 'status']) check(help.includes(`\n  ${command} `), `--help lists ${command}`);
    await cli(['launch'], 2);
  });
  await step('prisma-evolve new init (the first migration, paths from prisma.config.ts) and deploy', async () => {
    const report = lastJson<{ folders: string[]; findings: unknown[] }>(await cli(['new', 'init', '--json']));
    check(report.folders.length === 1 && /^\d{14}_init$/.test(report.folders[0] ?? ''), `new init wrote ${JSON.stringify(report.folders)}`);
    check(existsSync(path.join(app, 'db', 'migrations', report.folders[0] ?? '', 'migration.sql')), 'the folder is in db/migrations');
    await cli(['deploy']);
    await cli(['new', 'nothing_changed', '--json']);
    check(readdirSync(path.join(app, 'db', 'migrations')).filter((f) => f !== 'migration_lock.toml').length === 1, 'new with no change writes nothing');
  });
  await step('prisma-evolve init --soft-delete', async () => {
    await cli(['init', '--soft-delete']);
    check(existsSync(path.join(app, 'db', 'evolve.plan.ts')), 'init wrote db/evolve.plan.ts');
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    check(pkg.scripts['migrate:phase'] === 'prisma-evolve', 'init added the migrate:phase script');
    check(readFileSync(path.join(app, 'db', 'schema.prisma'), 'utf8').includes('provider = "prisma-evolve-meta"'), 'init added the generator');
    const again = await execa('npx', ['--no-install', 'prisma-evolve', 'init'], { cwd: app, env, extendEnv: false, reject: false });
    check(again.exitCode === 1 && String(again.stderr).includes('evolve.plan.ts exists'), 'a second init refuses, naming the file');
  });
  await step('rows written by the old application', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`insert into "User" (email, name) select 'u' || i || '@example.com', 'User ' || i from generate_series(1, 500) i`);
    await client.end();
  });
  await step('prisma-evolve new rename_and_locale --safe (a rename and a required column)', async () => {
    const v2 = readFileSync(path.join(app, 'db', 'schema.v2.prisma'), 'utf8');
    const generator = readFileSync(path.join(app, 'db', 'schema.prisma'), 'utf8').match(/\ngenerator evolveMeta \{[^}]*\}\n/)?.[0] ?? '';
    writeFileSync(path.join(app, 'db', 'schema.prisma'), `${v2}${generator}`);
    const refused = lastJson<{ findings: Array<{ rule: string }> }>(await cli(['new', 'rename_and_locale', '--safe', '--json'], 1));
    check(refused.findings.some((f) => f.rule === 'rename-column'), 'the unconfirmed drop+add is refused as a possible rename');
    for (const folder of readdirSync(path.join(app, 'db', 'migrations'))) if (folder.endsWith('_rename_and_locale')) rmSync(path.join(app, 'db', 'migrations', folder), { recursive: true });
    const report = lastJson<{ folders: string[]; findings: Array<{ severity: string }>; phaseModule: string | null }>(
      await cli(['new', 'rename_and_locale', '--safe', '--rename', 'User.name:displayName', '--backfill', "User.locale='en'", '--json']),
    );
    check(report.phaseModule !== null && report.findings.every((f) => f.severity !== 'error'), `new --safe: ${JSON.stringify(report)}`);
    const phaseModule = report.phaseModule ?? '';
    const planFile = path.join(app, 'db', 'evolve.plan.ts');
    const plan = readFileSync(planFile, 'utf8')
      .replace("import { definePlan } from '@prisma-evolve/core';", `import { definePlan } from '@prisma-evolve/core';\nimport { phases as renameAndLocale } from './${path.basename(phaseModule, '.ts')}';`)
      .replace('phases: [],', 'phases: [...renameAndLocale],');
    writeFileSync(planFile, plan);
  });
  await step('prisma-evolve deploy, run --all, status --json (plain node, TypeScript plan)', async () => {
    await cli(['deploy']);
    await cli(['run', '--all']);
    const status = lastJson<{ phases: Array<{ status: string }>; migrations: Array<{ status: string }> }>(await cli(['status', '--json']));
    check(status.phases.length === 2 && status.phases.every((p) => p.status === 'completed'), `phases: ${JSON.stringify(status.phases)}`);
    check(status.migrations.every((m) => m.status === 'applied'), `migrations: ${JSON.stringify(status.migrations)}`);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ n: number; named: number; en: number; has_name: boolean }>(
      `select count(*)::int as n, count(*) filter (where "displayName" = 'User ' || substring(email from 2 for position('@' in email) - 2))::int as named,
              count(*) filter (where locale = 'en')::int as en,
              exists (select 1 from information_schema.columns where table_name = 'User' and column_name = 'name') as has_name
       from "User"`,
    );
    await client.end();
    check(rows[0]?.n === 500 && rows[0].named === 500 && rows[0].en === 500 && rows[0].has_name === false, `data after the phases: ${JSON.stringify(rows[0])}`);
    const drift = lastJson<{ folders: string[] }>(await cli(['new', 'after_phases', '--json']));
    check(drift.folders.length === 0, `schema.prisma and the migrations agree after the phases (got ${JSON.stringify(drift.folders)})`);
  });
  await step('prisma-evolve dashboard: page, script and uPlot from the installed package; GET /api/status is status --json', async () => {
    const statusJson = (await cli(['status', '--json'])).trim().split('\n').at(-1);
    const dashboard = execa(path.join(app, 'node_modules', '.bin', 'prisma-evolve'), ['dashboard', '--port', '0'], { cwd: app, env, extendEnv: false, reject: false });
    try {
      let printed = '';
      dashboard.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      const deadline = Date.now() + 20_000;
      while (!/dashboard: (http:\S+)/.test(printed) && Date.now() < deadline && dashboard.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100));
      const url = /dashboard: (http:\S+)/.exec(printed)?.[1];
      check(url !== undefined, `the dashboard printed its address (got ${JSON.stringify(printed)})`);
      for (const asset of ['', 'assets/dashboard.js', 'assets/dashboard-charts.js', 'assets/uPlot.iife.min.js', 'assets/uPlot.min.css']) {
        const response = await fetch(`${url}${asset}`);
        check(response.status === 200 && (await response.text()).length > 100, `GET /${asset} answers from the package (${response.status})`);
      }
      // The page's own requests carry x-evolve-dashboard: 1; another site's cannot (see docs/dashboard.md).
      check((await (await fetch(`${url}api/status`, { headers: { 'x-evolve-dashboard': '1' } })).text()) === statusJson, 'GET /api/status equals status --json');
      check((await fetch(`${url}api/status`)).status === 403, 'an API GET without the dashboard header is refused');
      check((await fetch(`${url}api/steps/x/y/pause`, { method: 'POST' })).status === 403, 'actions are off without --allow-actions');
    } finally {
      dashboard.kill('SIGINT');
      await dashboard;
    }
  });
  await step('prisma-evolve copy run --json (a legacy database copied with new UUIDs, plain node, TypeScript copy plan)', async () => {
    const legacy = await createTestDatabase(server.url, { prefix: 'evolve_consumer_legacy' });
    try {
      const sql = async (url: string, text: string): Promise<void> => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(text);
        await client.end();
      };
      await sql(legacy.url, `create table members (id int primary key, mail text, name_az text, name_en text); insert into members select g, 'm' || g || '@old.az', 'Üzv ' || g, case when g % 2 = 0 then 'Member ' || g end from generate_series(1, 300) g`);
      await sql(database.url, `create table "Imported" (id uuid primary key, mail text not null, name jsonb)`);
      writeFileSync(
        path.join(app, 'db', 'evolve.copy.ts'),
        `import { defineCopy, multilingual } from '@prisma-evolve/core';\n\nexport const copy = defineCopy({\n  name: 'members',\n  batchSize: 100,\n  tables: { members: { table: 'Imported', from: 'members', key: 'id', id: { column: 'id', generate: 'uuid' }, columns: { mail: 'mail', name: multilingual({ az: 'name_az', en: 'name_en' }) } } },\n});\n`,
      );
      const result = lastJson<{ tables: Array<{ copiedRows: number; status: string }>; validation: { ok: boolean } }>(await cli(['copy', 'run', '--copy', path.join('db', 'evolve.copy.ts'), '--source-url', legacy.url, '--json']));
      check(result.validation.ok && result.tables[0]?.copiedRows === 300 && result.tables[0].status === 'done', `copy: ${JSON.stringify(result)}`);
    } finally {
      await legacy.drop().catch(() => undefined);
    }
  });
  await step('prisma generate (offline) and the soft-delete extension with the app\'s client', async () => {
    await inApp(env, path.join(app, 'node_modules', '.bin', 'prisma'), ['generate']);
    const result = lastJson<{ visible: boolean; rowKept: boolean; cascadedPosts: number }>(await inApp(env, 'node', ['soft-delete.mjs']));
    check(!result.visible && result.rowKept && result.cascadedPosts === 2, `soft delete: ${JSON.stringify(result)}`);
  });
} catch (error) {
  failed = error;
} finally {
  await database.drop().catch(() => undefined);
  await server.release();
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`app kept in ${app}\n`);
}
const total = Math.round(steps.reduce((sum, s) => sum + s.seconds, 0) * 10) / 10;
if (failed) {
  console.error(failed instanceof Error ? failed.message : String(failed));
  console.log(JSON.stringify({ ok: false, steps, seconds: total }));
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, steps, seconds: total }));
