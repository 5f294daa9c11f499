import { applyPrismaMigrations, isPlanFolder, readMigrationsDir, releaseFailedPlanFolders, UsageError, withClient, withRunnerLease } from '@prisma-evolve/core';
import type { Command, CommandContext } from '../command.js';
import { renderPhases } from '../phase-commands.js';

/**
 * `deploy`: what a CI pipeline calls instead of `prisma migrate deploy`. First every pending plain folder
 * of the migrations directory (what `prisma migrate deploy` would apply, through Prisma's own engine), in
 * name order; then the plan's pending phases in dependency order, each with its folders and data steps
 * (the plan's own folders, `<migrationPrefix>_…`, are left to the runner). Idempotent: a second deploy
 * applies nothing. Exit 1 on the first failure, naming it; what had been applied stays applied. Holds the
 * runner lease for the whole command (`--wait` seconds for another runner to finish).
 */
export const deploy: Command = {
  name: 'deploy',
  synopsis: '',
  summary: 'apply pending migration folders, then run pending phases in order (use it instead of prisma migrate deploy)',
  flags: ['config', 'database-url', 'migrations-dir', 'json', 'wait'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`"deploy" takes no arguments, got "${context.args.join(' ')}"`);
    const databaseUrl = await context.databaseUrl();
    return withRunnerLease(databaseUrl, { command: 'deploy', waitMs: context.leaseWaitMs() }, () => deployLeased(context, databaseUrl));
  },
};

async function deployLeased(context: CommandContext, databaseUrl: string): Promise<number> {
  const loaded = await context.plan(false);
  const migrationsDir = await context.migrationsDir(loaded);
  if (!loaded) {
    // Without its plan, a phase's folders would be applied like plain ones: without their data steps.
    const list = await readMigrationsDir(migrationsDir);
    const planned = list.migrationDirectories.find((dir) => dir.migrationFile.content.tag === 'ok' && dir.migrationFile.content.value.startsWith('-- prisma-evolve: phase "'));
    if (planned) {
      throw new UsageError(`${migrationsDir} holds folders a prisma-evolve plan wrote (${planned.path}), and no plan was found; pass --config with the plan that wrote them`, '--config');
    }
  } else {
    const released = await withClient(databaseUrl, (client) => releaseFailedPlanFolders(client, loaded.plan));
    for (const name of released) console.error(`folder ${name}: its failed attempt is marked rolled back; the phase applies it again`);
  }
  const applied = await applyPrismaMigrations({ databaseUrl, migrationsDir, select: (folder) => !loaded || !isPlanFolder(loaded.plan, folder) });
  for (const name of applied) console.error(`folder ${name}: applied`);
  let exitCode = 0;
  const runner = loaded ? await context.runner(loaded) : undefined;
  if (runner) {
    try {
      await runner.runAll();
    } catch (error) {
      console.error(`prisma-evolve deploy failed: ${error instanceof Error ? error.message : String(error)}`);
      exitCode = 1;
    }
  }
  const phases = runner ? await runner.status() : [];
  context.print({ applied, phases }, `${applied.length} folder(s) applied${phases.length > 0 ? `\n${renderPhases(phases)}` : ''}`);
  return exitCode;
}
