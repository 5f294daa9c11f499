import { readMigrationHistory, type MigrationHistoryEntry, type PhaseReport } from '@prisma-evolve/core';

/** The `status --json` object: the plan's phases (empty without a plan) and every migration folder. */
export interface StatusReport {
  readonly phases: readonly PhaseReport[];
  readonly migrations: ReadonlyArray<{ readonly name: string; readonly status: MigrationHistoryEntry['state']; readonly finishedAt: string | null }>;
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
): Promise<{ report: StatusReport; ok: boolean }> {
  const history = await readMigrationHistory(databaseUrl, migrationsDir);
  const migrations = history.map((entry) => ({ name: entry.name, status: entry.state, finishedAt: entry.finishedAt?.toISOString() ?? null }));
  const ok = history.every((entry) => entry.state === 'applied' || entry.state === 'rolled_back') && phases.every((phase) => phase.status === 'completed');
  return { report: { phases, migrations }, ok };
}

/** Renders a status report as the table the CLI prints. Pure. */
export function renderStatus(report: StatusReport): string {
  if (report.migrations.length === 0) return 'no migrations found';
  const width = Math.max(...report.migrations.map((migration) => migration.name.length));
  return report.migrations.map((migration) => `${migration.name.padEnd(width)}  ${migration.status}${migration.finishedAt ? `  ${migration.finishedAt}` : ''}`).join('\n');
}
