import {
  DEFAULT_TRACKING,
  optimizeDatabase,
  phaseTables,
  readPlanChanges,
  renderPlanChanges,
  UsageError,
  withClient,
  type TableName,
} from '@prisma-evolve/core';
import type { Command } from '../command.js';

/**
 * `optimize [--phase N]`: ANALYZE of the tables phase N touched (or of every application table) and
 * REINDEX INDEX CONCURRENTLY of their invalid indexes (or of every one), each under lock_timeout, outside a
 * transaction; exit 1 when one of them failed.
 */
export const optimize: Command = {
  name: 'optimize',
  synopsis: '[--phase N]',
  summary: 'ANALYZE the tables a phase touched (or all), REINDEX CONCURRENTLY the invalid indexes (exit 1 if one fails)',
  flags: ['prisma-config', 'config', 'database-url', 'migrations-dir', 'phase', 'json'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`optimize takes no arguments (got ${context.args.join(' ')}); --phase N names a phase`);
    const url = await context.databaseUrl();
    const phaseName = context.flags.phase;
    let tables: TableName[] | undefined;
    let missing: string[] = [];
    if (phaseName !== undefined) {
      const loaded = await context.plan(true);
      const runner = await context.runner(loaded);
      const phase = runner.phase(phaseName);
      const tracking = { ...DEFAULT_TRACKING, ...loaded.plan.tracking };
      const migrationsDir = await context.migrationsDir(loaded);
      ({ tables, missing } = await withClient(url, (client) => phaseTables(client, { tracking, phase, migrationsDir })));
      if (missing.length > 0) console.error(`warning: ${missing.length} folder(s) of phase "${phase.name}" are not in ${migrationsDir} (${missing.join(', ')}): the tables they touched are not analyzed`);
    }
    const result = await optimizeDatabase({
      databaseUrl: url,
      ...(tables ? { tables } : {}),
      ...(phaseName !== undefined ? { phase: phaseName } : {}),
      onAction: context.flags.json ? undefined : (action) => console.error(`  ${action.ok ? 'ok  ' : 'FAIL'} ${action.message}`),
    });
    const failed = result.actions.filter((a) => !a.ok).length;
    const text = `${result.actions.filter((a) => a.action === 'analyze' && a.ok).length} table(s) analyzed, ${result.actions.filter((a) => a.action === 'reindex' && a.ok).length} invalid index(es) rebuilt${failed ? `, ${failed} failed` : ''}`;
    context.print({ optimize: { ...result, missingFolders: missing } }, text);
    return failed > 0 ? 1 : 0;
  },
};

/**
 * `plans`: per watched query and phase, the plan before and after it (cost and row-estimate changes, sequential
 * scans that appeared or went, indexes now used or no longer used). Read-only. Exit 1 when a phase made a
 * sequential scan appear or left a watched query that cannot be EXPLAINed.
 */
export const plans: Command = {
  name: 'plans',
  synopsis: '',
  summary: "what each phase did to the plans of the plan's watchQueries (exit 1 on a new sequential scan or a query that no longer plans)",
  flags: ['prisma-config', 'config', 'database-url', 'json'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`plans takes no arguments (got ${context.args.join(' ')})`);
    const url = await context.databaseUrl();
    const loaded = await context.plan(false);
    const stateSchema = { ...DEFAULT_TRACKING, ...loaded?.plan.tracking }.stateSchema;
    const changes = await withClient(url, (client) => readPlanChanges(client, { stateSchema, ...(loaded ? { phaseOrder: loaded.plan.phases.map((p) => p.name) } : {}) }));
    context.print({ plans: changes }, renderPlanChanges(changes));
    return changes.some((c) => c.seqScansAppeared.length > 0 || (c.after?.error && !c.before?.error)) ? 1 : 0;
  },
};
