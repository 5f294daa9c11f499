import { readMigrationHistory, readPlanSteps, type MigrationHistoryEntry, type PhaseReport, type StepStatus } from '@prisma-evolve/core';
import type { CommandContext } from './command.js';

/**
 * The `status --json` object: the plan's phases (empty without a plan), every migration folder, and with
 * a plan each step's row, progress and control flag (`paused` is `control: "pause"`).
 */
export interface StatusReport {
  readonly phases: readonly PhaseReport[];
  readonly migrations: ReadonlyArray<{ readonly name: string; readonly status: MigrationHistoryEntry['state']; readonly finishedAt: string | null }>;
  readonly steps?: readonly StepStatus[];
}

/**
 * `migrate:phase status`: where each Prisma migration folder stands against `_prisma_migrations`, with the
 * plan's phases when given. Read-only. Returns the report and whether everything is applied, unedited and
 * (with a plan) every phase completed.
 */
export async function statusCommand(
  databaseUrl: string,
  migrationsDir: string,
  phases: readonly PhaseReport[] = [],
  steps?: readonly StepStatus[],
): Promise<{ report: StatusReport; ok: boolean }> {
  const history = await readMigrationHistory(databaseUrl, migrationsDir);
  const migrations = history.map((entry) => ({ name: entry.name, status: entry.state, finishedAt: entry.finishedAt?.toISOString() ?? null }));
  const ok = history.every((entry) => entry.state === 'applied' || entry.state === 'rolled_back') && phases.every((phase) => phase.status === 'completed');
  return { report: { phases, migrations, ...(steps ? { steps } : {}) }, ok };
}

/**
 * What `status` reports, read now: the plan's phases and steps (when there is a plan) and every migration
 * folder. Read-only. `status --json` prints `report`; the dashboard's `GET /api/status` serves the same.
 */
export async function readStatus(context: CommandContext): Promise<{ report: StatusReport; ok: boolean; hasPlan: boolean }> {
  const databaseUrl = await context.databaseUrl();
  const loaded = await context.plan(false);
  const runner = loaded ? await context.runner(loaded) : undefined;
  const phases = runner ? await runner.status() : [];
  const steps = loaded ? await readPlanSteps(loaded.plan, databaseUrl) : undefined;
  const { report, ok } = await statusCommand(databaseUrl, await context.migrationsDir(loaded), phases, steps);
  return { report, ok, hasPlan: loaded !== undefined };
}

/**
 * The steps worth a line in `status`: running, failed, interrupted (pending with progress) or flagged by an
 * operator, with their progress and flag. Empty when every step is pending or completed. Pure.
 */
export function renderSteps(steps: readonly StepStatus[]): string {
  const shown = steps.filter((step) => step.control !== null || step.status === 'running' || step.status === 'failed' || (step.status === 'pending' && step.processedRecords > 0));
  if (shown.length === 0) return '';
  const names = shown.map((step) => `${step.phase}/${step.name}`);
  const width = Math.max(...names.map((name) => name.length));
  return shown
    .map((step, i) => {
      const total = step.totalRecords === null ? '' : `/${step.totalRecords}`;
      const flag = step.control === 'pause' ? `  PAUSED (prisma-evolve resume ${names[i]})` : step.control === 'cancel' ? '  CANCEL REQUESTED' : '';
      return `  ${(names[i] ?? '').padEnd(width)}  ${step.status.padEnd(9)} ${step.processedRecords}${total} processed${flag}`;
    })
    .join('\n');
}

/** Renders a status report as the table the CLI prints. Pure. */
export function renderStatus(report: StatusReport): string {
  if (report.migrations.length === 0) return 'no migrations found';
  const width = Math.max(...report.migrations.map((migration) => migration.name.length));
  return report.migrations.map((migration) => `${migration.name.padEnd(width)}  ${migration.status}${migration.finishedAt ? `  ${migration.finishedAt}` : ''}`).join('\n');
}
