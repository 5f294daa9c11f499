import { checkHealth, UsageError } from '@prisma-evolve/core';
import type { Command } from '../command.js';

/** `health [--json]`: the database's running state against documented thresholds; exit 1 on any CRIT. Read-only. */
export const health: Command = {
  name: 'health',
  synopsis: '',
  summary: 'connections, long and idle-in-transaction sessions, blocked locks, slots, wraparound, analyze age, cache, sizes (exit 1 on CRIT)',
  flags: ['prisma-config', 'database-url', 'json'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`health takes no arguments (got ${context.args.join(' ')})`);
    const checks = await checkHealth(await context.databaseUrl());
    context.print({ checks }, checks.map((c) => `  ${c.status.toUpperCase().padEnd(4)} ${c.name.padEnd(26)} ${c.detail}`).join('\n'));
    return checks.some((c) => c.status === 'crit') ? 1 : 0;
  },
};
