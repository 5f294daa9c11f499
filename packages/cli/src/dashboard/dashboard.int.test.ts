import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { applyPrismaMigrations, withClient } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const planFile = path.join(root, 'packages', 'cli', 'src', 'dashboard', 'fixtures', 'slow-backfill.plan.ts');
// A test artefact under .tmp/ (ignored by git); EVOLVE_DASHBOARD_SCREENSHOT=docs/images/dashboard.png refreshes the docs' copy.
const screenshot = path.resolve(root, process.env['EVOLVE_DASHBOARD_SCREENSHOT'] ?? path.join('.tmp', 'artefacts', 'dashboard.png'));
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const main = path.join(root, 'packages', 'cli', 'src', 'main.ts');
const { DATABASE_URL: _callerDatabase, ...env } = process.env;
const ROWS = 9_000;

/** Debian's chromium (or EVOLVE_CHROMIUM); undefined when none is installed. */
function findChromium(): string | undefined {
  const candidates = [process.env['EVOLVE_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((file): file is string => file !== undefined && existsSync(file));
  if (found) return found;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const chromium = findChromium();
if (!chromium && process.env['EVOLVE_REQUIRE_BROWSER']) throw new Error('EVOLVE_REQUIRE_BROWSER is set but no chromium was found (apt-get install chromium)');
if (!chromium) {
  console.warn('\n*** dashboard browser test SKIPPED: no chromium on this machine (apt-get install chromium; CI sets EVOLVE_REQUIRE_BROWSER=1) ***\n');
}
const withBrowser = chromium ? it : it.skip;

const db = useTestDatabase();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts the CLI; resolves with the process and a promise of its exit code and output. */
function startCli(args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn(tsx, [main, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, exited, output: () => stdout, errors: () => stderr };
}

async function until<T>(read: () => Promise<T | undefined> | T | undefined, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A page function and its argument, true once `selector`'s text is `text` (a function, not a string: the
 * page's CSP refuses eval; `document` reached through globalThis as this project compiles without the DOM library).
 */
type PageDocument = { querySelector(selector: string): { textContent: string | null } | null };
const textIs = (selector: string, text: string) =>
  [({ selector: s, text: t }: { selector: string; text: string }) => (globalThis as unknown as { document: PageDocument }).document.querySelector(s)?.textContent === t, { selector, text }] as const;
const query = <R>(sql: string, params: unknown[] = []): Promise<R[]> => withClient(db.url, async (client) => (await client.query(sql, params)).rows as R[]);
const processed = async (): Promise<number> =>
  Number((await query<{ n: number }>(`select "processedRecords"::int as n from "_evolve"."DataMigration" where name = 'phase:fill/doubled'`))[0]?.n ?? 0);

describe('prisma-evolve dashboard in a real browser', () => {
  withBrowser('shows a run advancing, pauses it from the page (no batch runs while paused), resumes it, and sees it complete', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-dashboard-')), 'migrations');
    mkdirSync(path.join(dir, '20300100000001_init'), { recursive: true });
    writeFileSync(path.join(dir, '20300100000001_init', 'migration.sql'), 'CREATE TABLE "Reading" ("id" INTEGER NOT NULL PRIMARY KEY, "value" INTEGER NOT NULL);\n');
    await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir: dir });
    await query(`insert into "Reading" select g, g % 997 from generate_series(1, ${ROWS}) g`);
    await query(`analyze "Reading"`);
    const common = ['--config', planFile, '--migrations-dir', dir, '--database-url', db.url];

    const dashboard = startCli(['dashboard', '--port', '0', '--allow-actions', ...common]);
    const actionUrl = await until(() => /dashboard: (http:\/\/\S+)/.exec(dashboard.output())?.[1], `the dashboard's URL (stderr: ${dashboard.errors()})`);
    const base = actionUrl.split('#')[0] as string;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const refused = await fetch(`${base}api/steps/fill/doubled/pause`, { method: 'POST', headers: { 'x-evolve-token': 'wrong' } });
    expect(refused.status).toBe(401);
    // Another site's page (an <img> or a no-cors fetch) cannot make the dashboard query the database.
    expect((await fetch(`${base}api/verify`)).status).toBe(403);
    expect((await fetch(`${base}api/verify`, { headers: { 'x-evolve-dashboard': '1', 'sec-fetch-site': 'cross-site' } })).status).toBe(403);

    const run = startCli(['run', '--all', ...common], { EVOLVE_DASHBOARD_PAUSE_MS: '60' });
    const { chromium: playwright } = await import('playwright-core');
    const browser = await playwright.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(actionUrl);
      await page.waitForFunction(...textIs('#selected-step', 'fill/doubled'), { timeout: 30_000 });
      const shown = async (): Promise<number> => Number(((await page.textContent('#processed')) ?? '').split('/')[0]?.replace(/[^0-9]/g, '') || 0);
      const first = await until(async () => ((await shown()) > 0 ? shown() : undefined), 'progress on the page');
      await until(async () => ((await shown()) > first ? true : undefined), 'the progress on the page to advance');
      await page.waitForSelector('#chart-rate canvas');

      await page.click('button[data-action="pause"]');
      await page.waitForFunction(...textIs('#control-flag', 'paused'), { timeout: 10_000 });
      const [flag] = await query<{ requested_at: Date }>(`select requested_at from "_evolve".step_control where step = 'phase:fill/doubled' and action = 'pause'`);
      expect(flag).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 800)); // the batch in flight and the workers' 250 ms cache
      const whilePaused = await processed();
      expect(whilePaused).toBeLessThan(ROWS);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await processed()).toBe(whilePaused);
      expect(await shown()).toBe(whilePaused);
      const status = await execa(tsx, [main, 'status', ...common], { env, extendEnv: false, reject: false });
      expect(status.stdout).toContain('PAUSED (prisma-evolve resume fill/doubled)');

      await page.click('button[data-action="resume"]');
      await page.waitForFunction(...textIs('#control-flag', ''), { timeout: 10_000 });
      const finished = await run.exited;
      expect(finished.code).toBe(0);
      await page.waitForFunction(...textIs('#step-status', 'completed'), { timeout: 15_000 });
      await page.waitForFunction(...textIs('#processed', `${ROWS.toLocaleString('en-US')} / ${ROWS.toLocaleString('en-US')}`), { timeout: 10_000 });

      // From the database: every batch started before the pause took hold or after the pause ended.
      const history = await query<{ kind: string; reason: string | null; started: number; ended: number }>(
        `select kind, reason, (extract(epoch from started_at) * 1000)::float8 as started, (extract(epoch from started_at) * 1000 + duration_ms)::float8 as ended
         from "_evolve".batch_history where step = 'phase:fill/doubled' order by id`,
      );
      const pauses = history.filter((entry) => entry.kind === 'pause' && entry.reason === 'operator');
      expect(pauses).toHaveLength(1);
      const pause = pauses[0]!;
      expect(pause.ended - pause.started).toBeGreaterThan(2_500);
      expect(pause.started).toBeGreaterThanOrEqual(flag!.requested_at.getTime() - 5);
      const batches = history.filter((entry) => entry.kind === 'batch');
      const duringPause = batches.filter((batch) => batch.started > pause.started && batch.started < pause.ended);
      expect(duringPause).toEqual([]);
      expect(batches.some((batch) => batch.started >= pause.ended)).toBe(true);
      expect(await processed()).toBe(ROWS);

      await page.click('#verify-run');
      await page.waitForSelector('#verify tbody tr td:text("all_doubled")');
      expect(await page.textContent('#step-notes')).toContain(`coverage gate passed: ${ROWS.toLocaleString('en-US')} of ${ROWS.toLocaleString('en-US')} rows`);
      mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.waitForTimeout(1_200); // the last history read
      await page.screenshot({ path: screenshot, fullPage: true });

      // GET /api/status is exactly what `status --json` prints.
      const json = await execa(tsx, [main, 'status', '--json', ...common], { env, extendEnv: false, reject: false });
      const page_ = { headers: { 'x-evolve-dashboard': '1' } };
      expect(await (await fetch(`${base}api/status`, page_)).text()).toBe(json.stdout.trim().split('\n').at(-1));
      const api = (await (await fetch(`${base}api/steps/fill/doubled/batches`, page_)).json()) as { entries: { kind: string }[] };
      expect(api.entries.filter((entry) => entry.kind === 'batch')).toHaveLength(batches.length);
    } finally {
      await browser.close();
      dashboard.child.kill('SIGINT');
      await dashboard.exited;
    }
  }, 90_000);
});
