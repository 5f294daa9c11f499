import { DEFAULT_STATE_SCHEMA, listTrash, purgeTrash, restoreTrash, UsageError, withClient, withRunnerLease, type RestoreResult, type TrashEntry } from '@prisma-evolve/core';
import type { Command, CommandContext } from '../command.js';

function describe(entry: TrashEntry): string {
  const object = `"${entry.schema}"."${entry.table}"${entry.column ? `."${entry.column}"` : ''}`;
  const state = entry.restoredAt ? `restored ${entry.restoredAt.toISOString()}` : entry.purgedAt ? `purged ${entry.purgedAt.toISOString()}` : 'held';
  return `${String(entry.id).padStart(4)}  ${object} (${entry.kind}, ${entry.rows} ${entry.kind === 'table' ? 'rows' : 'values'})  from ${entry.phase}/${entry.step} at ${entry.trashedAt.toISOString()}  ${state}  _evolve_trash."${entry.trashTable}"`;
}

function ids(context: CommandContext): number[] {
  const values = context.args.slice(1);
  return values.map((value) => {
    if (!/^\d+$/.test(value)) throw new UsageError(`trash ${context.args[0]}: "${value}" is not a trash id (prisma-evolve trash list shows them)`);
    return Number(value);
  });
}

/**
 * `trash list|restore <id>…|purge <id>…|--all`: the tables and columns rollbacks moved into `_evolve_trash`.
 * The state schema is the plan's (`tracking.stateSchema`) when there is a plan, else `_evolve`.
 */
export const trash: Command = {
  name: 'trash',
  synopsis: 'list | restore <id>… | purge <id>…|--all',
  summary: 'the tables and columns rollbacks kept: list them, put them back, or drop them for good',
  flags: ['config', 'database-url', 'migrations-dir', 'json', 'all', 'yes', 'wait'],
  async run(context) {
    const [action] = context.args;
    const loaded = await context.plan(false);
    const stateSchema = loaded?.plan.tracking?.stateSchema ?? DEFAULT_STATE_SCHEMA;
    const url = await context.databaseUrl();
    if (action === 'list') {
      const entries = await withClient(url, (client) => listTrash(client, stateSchema));
      context.print({ trash: entries }, entries.length === 0 ? 'the trash is empty' : entries.map(describe).join('\n'));
      return 0;
    }
    if (action === 'restore') {
      const targets = ids(context);
      if (targets.length === 0) throw new UsageError('trash restore needs at least one id (prisma-evolve trash list shows them)');
      const results: RestoreResult[] = [];
      // One runner per database: a restore waits for no run or rollback, and none starts during it.
      await withRunnerLease(url, { command: 'trash restore', waitMs: context.leaseWaitMs() }, async () => {
        for (const id of targets) results.push(await withClient(url, (client) => restoreTrash(client, stateSchema, id)));
      });
      const text = results.map((r) => `restored ${r.entry.id}: "${r.entry.schema}"."${r.entry.table}"${r.entry.column ? `."${r.entry.column}"` : ''} (${r.mode}, ${r.restored} ${r.entry.kind === 'table' ? 'rows' : 'values'})${r.foreignKeys.skipped.length > 0 ? `; foreign keys not re-added: ${r.foreignKeys.skipped.join(', ')}` : ''}`);
      context.print({ restored: results }, text.join('\n'));
      return 0;
    }
    if (action === 'purge') {
      const targets = context.flags.all ? 'all' : ids(context);
      if (targets !== 'all' && targets.length === 0) throw new UsageError('trash purge needs ids or --all');
      if (!(await context.confirm(`drop ${targets === 'all' ? 'everything in the trash' : `trash entries ${targets.join(', ')}`} for good?`))) {
        console.error('purge cancelled');
        return 1;
      }
      const purged = await withRunnerLease(url, { command: 'trash purge', waitMs: context.leaseWaitMs() }, () => withClient(url, (client) => purgeTrash(client, stateSchema, targets)));
      context.print({ purged }, purged.length === 0 ? 'nothing to purge' : purged.map((entry) => `purged ${describe(entry)}`).join('\n'));
      return 0;
    }
    throw new UsageError(`trash: expected list, restore or purge${action ? `, got "${action}"` : ''}`);
  },
};
