import { UsageError, type PhaseRunner } from '@prisma-evolve/core';
import { phaseArgument, type Command } from '../command.js';
import { renderChecks, renderPhases, renderPlan } from '../phase-commands.js';
import { readStatus, renderStatus, renderSteps } from '../status-command.js';

/** `status`: the plan's phases and every migration folder against `_prisma_migrations`. */
export const status: Command = {
  name: 'status',
  synopsis: '',
  summary: "the plan's phases and every prisma migration folder against _prisma_migrations; exit 1 unless all completed and applied",
  flags: ['config', 'database-url', 'migrations-dir', 'json'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`"status" takes no arguments, got "${context.args.join(' ')}"`);
    const { report, ok, hasPlan } = await readStatus(context);
    const steps = renderSteps(report.steps ?? []);
    context.print(report, `${hasPlan ? `${renderPhases(report.phases)}\n\n` : ''}${steps ? `steps:\n${steps}\n\n` : ''}${renderStatus(report)}`);
    return ok ? 0 : 1;
  },
};

/** `plan <phase>|--all`: SQL, locks and prechecks; changes nothing. */
export const plan: Command = {
  name: 'plan',
  synopsis: '<phase>|--all',
  summary: 'the SQL each step would run, its lock levels and the prechecks\' findings; changes nothing',
  flags: ['config', 'database-url', 'migrations-dir', 'all', 'json'],
  async run(context) {
    const runner = await context.runner(await context.plan(true));
    const phase = phaseArgument(context, 'plan', true);
    if (phase !== undefined) {
      const steps = await runner.planPhase(phase);
      context.print({ phase, steps }, renderPlan(phase, steps));
      return 0;
    }
    const plans = await planAll(runner);
    context.print({ plans }, plans.map((p) => renderPlan(p.phase, p.steps)).join('\n\n'));
    return 0;
  },
};

/** Every phase's plan (or one's), each on the catalog the phases before it leave. */
async function planAll(runner: PhaseRunner, only?: string) {
  if (only) return [{ phase: runner.phase(only).name, steps: await runner.planPhase(only) }];
  return runner.planAll();
}

/** `run <phase>|--all`: runs phases (idempotent, resumable). */
export const run: Command = {
  name: 'run',
  synopsis: '<phase>|--all',
  summary: 'run a phase (or all, in dependency order); idempotent, resumes a failed one',
  flags: ['config', 'database-url', 'migrations-dir', 'all', 'json', 'dry-run', 'wait', 'restart-step', 'analyze'],
  async run(context) {
    const runner = await context.runner(await context.plan(true));
    const phase = phaseArgument(context, 'run', true);
    if (context.flags['dry-run']) {
      const plans = await planAll(runner, phase);
      context.print({ dryRun: true, plans }, plans.map((p) => renderPlan(p.phase, p.steps)).join('\n\n'));
      return 0;
    }
    if (phase) runner.phase(phase); // an unknown phase is a usage error, before anything runs
    let exitCode = 0;
    for (const target of context.flags['restart-step'] ?? []) {
      await runner.restartStep(target);
      console.error(`step ${target}: restarts from its first row`);
    }
    try {
      if (phase) await runner.run(phase);
      else await runner.runAll();
    } catch (error) {
      console.error(`prisma-evolve run failed: ${error instanceof Error ? error.message : String(error)}`);
      exitCode = 1;
    }
    const phases = await runner.status();
    context.print({ phases }, renderPhases(phases));
    return exitCode;
  },
};

/** `verify <phase>|--all`: post-conditions. */
export const verify: Command = {
  name: 'verify',
  synopsis: '<phase>|--all',
  summary: 'check the post-conditions of a phase (or of every completed one)',
  flags: ['config', 'database-url', 'migrations-dir', 'all', 'json'],
  async run(context) {
    const runner = await context.runner(await context.plan(true));
    const checks = await runner.verify(phaseArgument(context, 'verify', true));
    const report = { ok: checks.every((check) => check.ok), checks };
    context.print(report, renderChecks(report));
    return report.ok ? 0 : 1;
  },
};

/** `rollback <phase>`: undoes a phase, asking first; a completed one only with `--force`, into the trash. */
export const rollback: Command = {
  name: 'rollback',
  synopsis: '<phase>',
  summary: 'undo a phase; a completed one only with --force, moving the tables and columns it removes into the trash (see trash)',
  flags: ['config', 'database-url', 'migrations-dir', 'json', 'dry-run', 'yes', 'cascade', 'force', 'wait', 'skip-step'],
  async run(context) {
    const runner = await context.runner(await context.plan(true));
    const phase = phaseArgument(context, 'rollback', false) as string;
    const cascade = context.flags.cascade === true;
    const skipSteps = context.flags['skip-step'] ?? [];
    const order = await runner.rollbackPlan(phase, { cascade });
    const removals = await runner.rollbackRemovals(phase, { cascade, skipSteps });
    const lines = removals.map((r) => `  ${r.object} (${r.kind}, step ${r.phase}/${r.step}): ${r.rows} ${r.kind === 'table' ? 'rows' : 'non-null values'}`);
    const summary = `would roll back, in order: ${order.join(', ')}\n${lines.length > 0 ? `moving into the trash (_evolve_trash):\n${lines.join('\n')}` : 'removing no table or column'}`;
    if (context.flags['dry-run']) {
      context.print({ dryRun: true, rollback: order, removals }, summary);
      return 0;
    }
    if (!context.flags.json) console.error(summary);
    if (!(await context.confirm(`roll back ${order.map((n) => `"${n}"`).join(', ')}?`))) {
      console.error('rollback cancelled');
      return 1;
    }
    await runner.rollback(phase, { cascade, skipSteps, force: context.flags.force === true });
    const phases = await runner.status();
    context.print({ phases }, renderPhases(phases));
    return 0;
  },
};

