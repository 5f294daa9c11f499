/**
 * Seed 003's seven phases end to end on a database holding the legacy data: runs the Scholarly plan
 * (`prisma/evolve.plan.ts`), reads the `DataMigration` dashboard and runs the post-migration validation.
 * Used by `pnpm demo` and by the end-to-end tests.
 */
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PhaseRunner, withClient, type PhaseReport, type PhaseRunnerOptions } from '@prisma-evolve/core';
import { plan } from '../../prisma/evolve.plan.js';
import { validateScholarly, type ValidationReport } from './scholarly-validation.js';

/** A phase as `pnpm demo --json` reports it. */
export interface DemoPhase {
  readonly name: string;
  readonly status: string;
  readonly processedRecords: number;
  readonly failedRecords: number;
  readonly verified: boolean;
}

/** A row of the `DataMigration` table, as seed 003's "Migration Tracking Dashboard" shows it. */
export interface DashboardRow {
  readonly name: string;
  readonly status: string;
  readonly processedRecords: number;
  readonly failedRecords: number;
  readonly completedAt: string | null;
}

/** What one run of the plan produced. */
export interface ScholarlyRun {
  readonly phases: readonly DemoPhase[];
  readonly validation: ValidationReport;
  readonly dashboard: readonly DashboardRow[];
  /** Seconds each phase took in this run (0 for a phase already completed before it). */
  readonly phaseSeconds: Readonly<Record<string, number>>;
}

const BASELINE_DIR = path.join(import.meta.dirname, '..', '..', 'prisma', 'migrations');

/**
 * A scratch copy of a migrations directory (default: the Scholarly app's baseline), so a run writes its phase
 * folders there and never into the repository.
 */
export function scratchMigrationsDir(source: string = BASELINE_DIR): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-demo-')), 'migrations');
  if (existsSync(source)) cpSync(source, dir, { recursive: true });
  return dir;
}

/** A runner of the Scholarly plan on `databaseUrl`, writing folders into `migrationsDir`. */
export function scholarlyRunner(databaseUrl: string, migrationsDir: string, options: Omit<PhaseRunnerOptions, 'databaseUrl' | 'migrationsDir'> = {}): PhaseRunner {
  return new PhaseRunner(plan, { ...options, databaseUrl, migrationsDir });
}

/**
 * Runs every phase in dependency order (idempotent: completed phases are skipped, a failed one resumes),
 * then reads the dashboard and validates. Throws the phase's error when a phase fails.
 */
export async function runScholarlyPlan(runner: PhaseRunner, databaseUrl: string): Promise<ScholarlyRun> {
  const phaseSeconds: Record<string, number> = {};
  for (const phase of runner.plan.phases) {
    const started = performance.now();
    await runner.run(phase.name);
    phaseSeconds[phase.name] = Number(((performance.now() - started) / 1000).toFixed(2));
  }
  return { ...(await scholarlyReport(runner, databaseUrl)), phaseSeconds };
}

/** The phases' status with `verified`, the validation report and the dashboard, as the database has them now. Read-only. */
export async function scholarlyReport(runner: PhaseRunner, databaseUrl: string): Promise<Omit<ScholarlyRun, 'phaseSeconds'>> {
  const reports: PhaseReport[] = await runner.status();
  const validation = await validateScholarly(databaseUrl, runner);
  const phases = reports.map((report) => {
    const own = validation.checks.filter((check) => check.name.startsWith(`${report.name}: `));
    return {
      name: report.name,
      status: report.status,
      processedRecords: report.processedRecords,
      failedRecords: report.failedRecords,
      verified: report.status === 'completed' && own.length > 0 && own.every((check) => check.ok),
    };
  });
  return { phases, validation, dashboard: await readDashboard(databaseUrl) };
}

/**
 * The `DataMigration` rows worth a dashboard line: each phase, and each step that moved rows (processed
 * or failed records). Read-only.
 */
export async function readDashboard(databaseUrl: string): Promise<DashboardRow[]> {
  return withClient(databaseUrl, async (client) => {
    const exists = await client.query<{ ok: boolean }>(`select to_regclass('_evolve."DataMigration"') is not null as ok`);
    if (!exists.rows[0]?.ok) return [];
    const { rows } = await client.query<{ name: string; status: string; processed: number; failed: number; completed: Date | null }>(
      // A phase's line sums the rows its steps moved, as the seed's dashboard counts per phase.
      `select d.name, d.status, d."completedAt" as completed,
              (d."processedRecords" + case when d.name like '%/%' then 0 else coalesce((select sum(s."processedRecords") from _evolve."DataMigration" s where left(s.name, length(d.name) + 1) = d.name || '/'), 0) end)::float8 as processed,
              (d."failedRecords" + case when d.name like '%/%' then 0 else coalesce((select sum(s."failedRecords") from _evolve."DataMigration" s where left(s.name, length(d.name) + 1) = d.name || '/'), 0) end)::float8 as failed
         from _evolve."DataMigration" d
        where d.name like 'phase:%' and (d.name not like '%/%' or d."processedRecords" > 0 or d."failedRecords" > 0)
        order by d."startedAt" nulls last, d.name`,
    );
    return rows.map((r) => ({ name: r.name, status: r.status, processedRecords: r.processed, failedRecords: r.failed, completedAt: r.completed ? r.completed.toISOString().slice(0, 19).replace('T', ' ') : null }));
  });
}

/** The dashboard as a table like seed 003's "Migration Tracking Dashboard". Pure. */
export function renderDashboard(rows: readonly DashboardRow[]): string {
  const header = ['name', 'status', 'processedRecords', 'failedRecords', 'completedAt'];
  const cells = rows.map((r) => [r.name.replace(/^phase:/, ''), r.status, r.processedRecords.toLocaleString('en-US'), r.failedRecords.toLocaleString('en-US'), r.completedAt ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string => `| ${row.map((cell, i) => (i >= 2 && i <= 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  return ['Migration Tracking Dashboard (_evolve."DataMigration")', line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/**
 * The validation report: a line per phase for its verify checks (each failing one in full) and a line per
 * seed 003 check. Pure.
 */
export function renderValidation(report: ValidationReport, phaseNames: readonly string[]): string {
  const failed = report.checks.filter((c) => !c.ok).length;
  const lines = [`Post-migration validation: ${report.ok ? 'ok' : 'FAILED'} (${report.checks.length - failed} of ${report.checks.length} checks passed)`];
  const ofPhase = new Set<ValidationReport['checks'][number]>();
  for (const phase of phaseNames) {
    const own = report.checks.filter((c) => c.name.startsWith(`${phase}: `));
    own.forEach((c) => ofPhase.add(c));
    const bad = own.filter((c) => !c.ok);
    lines.push(`  ${bad.length === 0 && own.length > 0 ? 'ok  ' : 'FAIL'} phase ${phase}: ${own.length - bad.length} of ${own.length} verify checks`);
    for (const c of bad) lines.push(`         ${c.name.slice(phase.length + 2)}: ${c.detail}`);
  }
  for (const c of report.checks.filter((check) => !ofPhase.has(check))) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return lines.join('\n');
}
