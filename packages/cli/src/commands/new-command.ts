import path from 'node:path';
import { createPrismaMigration, lintPaths, lintSql, UsageError } from '@prisma-evolve/core';
import type { Command, CommandContext } from '../command.js';
import { findingReports, renderFindings, renderRefusals, rewriteFolder, type FindingReport } from './lint-commands.js';

/** The `new --json` contract. */
export interface NewReport {
  readonly folders: readonly string[];
  readonly findings: readonly FindingReport[];
  readonly phaseModule: string | null;
}

/**
 * `new <name>`: the Prisma migration folder for the change from the migrations directory to
 * schema.prisma (as `prisma migrate dev --create-only` writes it, through Prisma's WebAssembly engine and
 * a throwaway shadow database), linted; with `--safe`, unsafe parts rewritten into the safe folder sequence
 * and a phase module. Exit 1 while errors remain (or the rewrite refuses), 0 otherwise.
 */
export const newMigration: Command = {
  name: 'new',
  synopsis: '<name>',
  summary: 'write the migration folder for your schema.prisma change (as prisma migrate dev --create-only), lint it; --safe rewrites it into the safe sequence',
  flags: ['database-url', 'shadow-database-url', 'schema', 'migrations-dir', 'config', 'json', 'safe', 'dry-run', 'rename', 'backfill', 'drop', 'phase-out'],
  async run(context) {
    if (context.args.length !== 1 || !context.args[0]) throw new UsageError('"new" needs one migration name, e.g. prisma-evolve new add_display_name');
    if (context.flags['dry-run'] && context.flags.safe) throw new UsageError('--safe rewrites the folder it writes: use --dry-run alone to see the SQL first', '--dry-run');
    const project = await context.project();
    const migrationsDir = await context.migrationsDir(await context.plan(false));
    const shadowServerUrl = context.flags['shadow-database-url'] ?? project.shadowDatabaseUrl;
    const created = await createPrismaMigration({
      databaseUrl: await context.databaseUrl(),
      ...(shadowServerUrl ? { shadowServerUrl } : {}),
      migrationsDir,
      schemaPath: context.flags.schema ? path.resolve(context.cwd, context.flags.schema) : project.schemaPath,
      name: context.args[0],
      dryRun: context.flags['dry-run'] === true,
    });
    if (!created) {
      context.print({ folders: [], findings: [], phaseModule: null } satisfies NewReport, 'no changes: schema.prisma and the migrations directory agree; nothing written');
      return 0;
    }
    const file = path.join(created.path, 'migration.sql');
    const findings = findingReports(context.flags['dry-run'] ? await lintSql(created.sql, file) : await lintPaths([created.path]), context.cwd);
    if (!context.flags.safe || !findings.some((f) => f.severity === 'error')) return report(context, { folders: [created.folder], findings, phaseModule: null }, created.sql);
    return safeRewrite(context, created.path, migrationsDir);
  },
};

async function safeRewrite(context: CommandContext, folder: string, migrationsDir: string): Promise<number> {
  const outcome = await rewriteFolder(context, folder);
  if (outcome.refusals.length > 0) {
    const file = path.relative(context.cwd, path.join(folder, 'migration.sql'));
    const findings = outcome.refusals.map((r) => ({
      file,
      line: r.line,
      rule: r.rule,
      severity: 'error',
      message: r.reason,
      suggestion: r.rename ? `confirm with --rename ${r.rename.table}.${r.rename.from}:${r.rename.to}, or --drop ${r.rename.table}.${r.rename.from} if the data may go` : 'see docs/lint.md for the safe operation',
    }));
    context.print({ folders: [path.basename(folder)], findings, phaseModule: null } satisfies NewReport, `the rewrite refused (the unsafe folder is kept as written):\n${renderRefusals(outcome.refusals)}`);
    return 1;
  }
  const findings = findingReports(await lintPaths(outcome.folders.map((name) => path.join(migrationsDir, name))), context.cwd);
  return report(context, { folders: outcome.folders, findings, phaseModule: outcome.phaseModule }, undefined);
}

function report(context: CommandContext, result: NewReport, sql: string | undefined): number {
  const verb = context.flags['dry-run'] ? 'would write' : 'wrote';
  const lines = [`${verb} ${result.folders.map((f) => `\n  ${f}`).join('')}`];
  if (sql !== undefined && context.flags['dry-run']) lines.push(sql);
  if (result.phaseModule) lines.push(`${verb} the phase for what moves data: ${result.phaseModule} (add its \`phases\` to your plan; deploy runs the folders first)`);
  lines.push(renderFindings(result.findings));
  const errors = result.findings.some((f) => f.severity === 'error');
  if (errors && !context.flags.safe) lines.push('unsafe for a live database: run again with --safe to rewrite it into the safe sequence');
  context.print(result, lines.join('\n'));
  return errors ? 1 : 0;
}
