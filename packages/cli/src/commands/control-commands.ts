import { hostname, userInfo } from 'node:os';
import { controlPlanStep, UsageError, type ControlAction } from '@prisma-evolve/core';
import type { Command, CommandContext } from '../command.js';

type Action = ControlAction | 'resume';

const SAID: Record<Action, string> = {
  pause: 'paused: its workers stop within about 250 ms, after the batch in flight, then wait holding no lock and no range (prisma-evolve resume to go on)',
  resume: 'resumed: its workers go on within about 250 ms (a cancel of a step that is not running is cleared too)',
  cancel: 'cancel requested: its workers stop within about 250 ms, after the batch in flight, checkpoints kept; `run` resumes it later',
};

/** Who asked, as the control table records it: `user@host pid N`. */
export function requester(via: string): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep "unknown".
  }
  return `${user}@${hostname()} pid ${process.pid} (${via})`;
}

/** Sets the flag of the one `<phase>/<step>` argument; prints `{"step","row","control"}`. */
async function control(context: CommandContext, action: Action): Promise<number> {
  const [target, ...extra] = context.args;
  if (!target || extra.length > 0) throw new UsageError(`"${action}" takes one <phase>/<step>, got "${context.args.join(' ')}"`);
  const loaded = await context.plan(true);
  const result = await controlPlanStep(loaded.plan, await context.databaseUrl(), target, action, requester('cli'));
  context.print(result, `step ${target}: ${SAID[action]}`);
  return 0;
}

function controlCommand(action: Action, summary: string): Command {
  return { name: action, synopsis: '<phase>/<step>', summary, flags: ['config', 'database-url', 'migrations-dir', 'json'], run: (context) => control(context, action) };
}

/** `pause <phase>/<step>`: a running (or not yet started) data step waits between batches until resumed. */
export const pause = controlCommand('pause', 'pause a data step of a run going on elsewhere: its workers wait between batches (shown in status)');
/** `resume <phase>/<step>`: clears a pause (and a cancel nothing will consume: the step is not running). */
export const resume = controlCommand('resume', 'let a paused data step go on (also clears a stale cancel)');
/** `cancel <phase>/<step>`: the running step stops after its batches in flight; resumable by `run`. */
export const cancel = controlCommand('cancel', 'stop a running data step after its batches in flight (checkpoints kept; run resumes it)');
