import { UsageError } from '@prisma-evolve/core';
import type { Command, CommandContext } from '../command.js';
import { startDashboard, DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from '../dashboard/dashboard-server.js';
import type { DashboardSource } from '../dashboard/dashboard-api.js';
import { readStatus } from '../status-command.js';
import { requester } from './control-commands.js';

/** The dashboard's view of a CLI context: the same status function as `status --json`. */
async function sourceOf(context: CommandContext): Promise<DashboardSource> {
  const loaded = await context.plan(false);
  return {
    databaseUrl: await context.databaseUrl(),
    plan: loaded?.plan,
    status: async () => (await readStatus(context)).report,
    verify: async () => (loaded ? (await context.runner(loaded)).verify() : []),
  };
}

function portOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DASHBOARD_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port "${value}": expected 0-65535`, '--port');
  return port;
}

/**
 * `dashboard [--port 4545] [--host 127.0.0.1] [--allow-actions]`: serves the live migration dashboard
 * until Ctrl-C. Read-only unless `--allow-actions`, and then only through the token it prints.
 */
export const dashboard: Command = {
  name: 'dashboard',
  synopsis: '',
  summary: 'serve a live web page of the plan, its steps\' progress, batch history and dead letters (read-only unless --allow-actions)',
  flags: ['config', 'database-url', 'migrations-dir', 'port', 'host', 'allow-actions'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`"dashboard" takes no arguments, got "${context.args.join(' ')}"`);
    const host = context.flags.host ?? DEFAULT_DASHBOARD_HOST;
    const allowActions = context.flags['allow-actions'] === true;
    const source = await sourceOf(context);
    await source.status(); // fail now, not in the browser, when the database or the plan is unusable
    const running = await startDashboard({ source, host, port: portOf(context.flags.port), allowActions, requestedBy: requester('dashboard') });
    console.log(`dashboard: ${allowActions ? running.actionUrl : running.url}`);
    if (allowActions) console.log(`action token: ${running.token} (header x-evolve-token; the link above carries it)`);
    else console.log('read-only: pass --allow-actions for the pause, resume and cancel buttons');
    if (host !== DEFAULT_DASHBOARD_HOST && host !== 'localhost' && host !== '::1') console.error(`warning: bound to ${host}, not loopback: anyone who can reach it can read the migration's state`);
    console.log('Ctrl-C to stop');
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await running.close();
    return 0;
  },
};
