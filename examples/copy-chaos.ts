/**
 * The SIGKILL harness of the copy examples: `prisma-evolve copy run` as one node process (tsx as a loader, not
 * its wrapper process, so SIGKILL kills the copy itself), killed at random moments until three kills of one
 * target landed mid-copy, then run to the end. Each attempt lets a random number of ranges (of a clean run's
 * total) commit, then a random 0–25 ms more, and kills wherever the process is then (staging, inserting,
 * committing). A run that finishes before its kill starts over on a fresh target.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withClient } from '@prisma-evolve/core';
import type { TestDatabase } from '@prisma-evolve/testing';
import { execa, type ResultPromise } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The CLI in one node process. */
export function cli(args: readonly string[]): ResultPromise<{ cwd: string; reject: false; env: Record<string, string>; extendEnv: false }> {
  return execa(process.execPath, ['--import', 'tsx', path.join(root, 'packages', 'cli', 'src', 'main.ts'), ...args], {
    cwd: root,
    reject: false,
    env: { PATH: process.env['PATH'] ?? '', TSX_TSCONFIG_PATH: process.env['TSX_TSCONFIG_PATH'] ?? '' },
    extendEnv: false,
  });
}

/** The last line of a command's stdout, parsed. */
export function lastJson<T>(result: { stdout: unknown }): T {
  return JSON.parse(String(result.stdout).trim().split('\n').at(-1) ?? '{}') as T;
}

/** Ranges committed and cut so far in a target. */
async function rangesDone(url: string): Promise<{ done: number; all: number; tablesDone: number }> {
  return withClient(url, async (client) => {
    if (!(await client.query(`select to_regclass('_evolve.copy_range') is not null as ok`)).rows[0]?.ok) return { done: 0, all: 0, tablesDone: 0 };
    const { rows } = await client.query<{ done: number; all: number; tables_done: number }>(
      `select count(*) filter (where status = 'done')::int as done, count(*)::int as all, (select count(*) filter (where status = 'done') from _evolve.copy_table)::int as tables_done from _evolve.copy_range`,
    );
    const row = rows[0];
    return { done: row?.done ?? 0, all: row?.all ?? 0, tablesDone: row?.tables_done ?? 0 };
  });
}

/**
 * Copies into a fresh target from `createTarget` under random SIGKILLs (see the module comment) and returns
 * that target, copied to the end, with the state each mid-copy kill left (ranges done of those cut).
 */
export async function copyUnderKills(options: {
  readonly args: (targetUrl: string) => string[];
  readonly createTarget: () => Promise<TestDatabase>;
  readonly totalRanges: number;
  readonly tables: number;
}): Promise<{ target: TestDatabase; kills: { done: number; all: number }[]; created: TestDatabase[] }> {
  const created: TestDatabase[] = [];
  let target = await options.createTarget();
  created.push(target);
  let kills: { done: number; all: number }[] = [];
  for (let attempt = 0; attempt < 60 && kills.length < 3; attempt += 1) {
    const child = cli(options.args(target.url));
    const after = 1 + Math.floor(Math.random() * (options.totalRanges - 1));
    const killer = (async () => {
      while (child.exitCode === null || child.exitCode === undefined) {
        if ((await rangesDone(target.url)).done >= after) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 25));
          child.kill('SIGKILL');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const result = await child;
    await killer;
    const landed = result.signal === 'SIGKILL' ? await rangesDone(target.url) : undefined;
    if (landed && landed.done > 0 && landed.tablesDone < options.tables) {
      kills.push({ done: landed.done, all: landed.all });
    } else if (result.exitCode === 0 || landed) {
      // The copy finished before the kill: start over on a fresh target.
      target = await options.createTarget();
      created.push(target);
      kills = [];
    } else {
      throw new Error(`copy run failed after a kill: ${String(result.stderr)}`);
    }
  }
  const final = await cli(options.args(target.url));
  if (final.exitCode !== 0) throw new Error(`copy run did not finish after the kills: ${String(final.stderr)}${String(final.stdout)}`);
  return { target, kills, created };
}
