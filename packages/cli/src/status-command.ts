import { readMigrationHistory, type MigrationHistoryEntry } from '@prisma-evolve/core';

/** The `status --json` object. `phases` lists the plan's phases once a plan is configured. */
export interface StatusReport {
  readonly phases: readonly never[];
  readonly migrations: ReadonlyArray<{ readonly name: string; readonly status: MigrationHistoryEntry['state']; readonly finishedAt: string | null }>;
}

/**
 * `migrate:phase status`: where each Prisma migration folder stands against `_prisma_migrations`.
 * Read-only. Returns the report and whether everything is applied and unedited.
 */
export async function statusCommand(databaseUrl: string, migrationsDir: string): Promise<{ report: StatusReport; ok: boolean }> {
  const history = await readMigrationHistory(databaseUrl, migrationsDir);
  const migrations = history.map((entry) => ({ name: entry.name, status: entry.state, finishedAt: entry.finishedAt?.toISOString() ?? null }));
  return { report: { phases: [], migrations }, ok: history.every((entry) => entry.state === 'applied' || entry.state === 'rolled_back') };
}

/** Renders a status report as the table the CLI prints. Pure. */
export function renderStatus(report: StatusReport): string {
  if (report.migrations.length === 0) return 'no migrations found';
  const width = Math.max(...report.migrations.map((migration) => migration.name.length));
  return report.migrations.map((migration) => `${migration.name.padEnd(width)}  ${migration.status}${migration.finishedAt ? `  ${migration.finishedAt}` : ''}`).join('\n');
}
