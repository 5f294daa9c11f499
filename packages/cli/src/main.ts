/**
 * `pnpm migrate:phase <command>`: the deploy-time command of prisma-evolve.
 * Exit codes: 0 ok, 1 failed (a step failed, something not applied, verification failed), 2 usage error.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { abortOnSignals, lintPaths, PhaseRunner, renderRewritePhaseModule, rewriteMigrationFolder, type ConfirmedRename, type IntendedDrop, type RequiredColumnBackfill, type RunnerEvent } from '@prisma-evolve/core';
import { renderChecks, renderPhases, renderPlan } from './phase-commands.js';
import { DEFAULT_CONFIG, loadPlan, type LoadedPlan } from './plan-loader.js';
import { ProgressBar } from './progress-bar.js';
import { renderStatus, statusCommand } from './status-command.js';

const USAGE = `usage: pnpm migrate:phase <command> [phase] [options]

commands:
  status              the plan's phases and every prisma migration folder against _prisma_migrations
  plan <phase>        the SQL each step would run, its lock levels and the prechecks' findings; changes nothing
  run <phase>|--all   run a phase (or all, in dependency order); idempotent, resumes a failed one
  verify <phase>|--all  check the post-conditions of a phase (or of every completed one)
  rollback <phase>    undo a phase; refuses while a phase depending on it is applied (see --cascade)
  lint [paths...]     check migration SQL for locking and data-loss hazards (default: the migrations folder)
  rewrite <folder>    turn an unsafe Prisma migration folder into the safe sequence of folders (and a phase
                      module for what moves data)

options:
  --config FILE          plan module exporting \`plan\` (default: ${DEFAULT_CONFIG})
  --database-url URL     database (default: DATABASE_URL)
  --migrations-dir DIR   migrations directory (default: the plan's, else prisma/migrations)
  --all                  run/verify every phase
  --json                 print one JSON object on the last line of stdout
  --dry-run              run/rollback: show what would happen, change nothing
  --yes                  rollback: do not ask for confirmation
  --cascade              rollback: roll back the phases depending on it first
  --rename T.FROM:TO     rewrite: the drop of T.FROM and add of T.TO are a rename (repeatable)
  --backfill T.COL=SQL   rewrite: the value of required column T.COL for existing rows (repeatable)
  --drop T.COL           rewrite: the drop of T.COL is intended, not half of a rename (repeatable)
  --phase-out FILE       rewrite: where the phase module goes (default: evolve.<folder>.phase.ts beside
                         the migrations directory)
  --help                 this text`;

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'database-url': { type: 'string' },
      'migrations-dir': { type: 'string' },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      cascade: { type: 'boolean', default: false },
      rename: { type: 'string', multiple: true, default: [] },
      backfill: { type: 'string', multiple: true, default: [] },
      drop: { type: 'string', multiple: true, default: [] },
      'phase-out': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [command, ...args] = positionals;
const COMMANDS = ['status', 'plan', 'run', 'verify', 'rollback', 'lint', 'rewrite'];
if (!command) usage('no command given');
if (!COMMANDS.includes(command)) usage(`unknown command "${command}"`);
const OFFLINE = new Set(['lint', 'rewrite']);
const databaseUrl = values['database-url'] ?? process.env['DATABASE_URL'] ?? '';
if (!databaseUrl && !OFFLINE.has(command)) usage('no database: pass --database-url or set DATABASE_URL');
if (command === 'lint' || command === 'rewrite') {
  const configured = values.config || existsSync(DEFAULT_CONFIG) ? await loadPlan(values.config ?? DEFAULT_CONFIG).catch(() => undefined) : undefined;
  const migrationsDir = values['migrations-dir'] ? path.resolve(values['migrations-dir']) : (configured?.migrationsDir ?? path.resolve('prisma', 'migrations'));
  const code = command === 'lint' ? await lintCommand(args.length > 0 ? args : [migrationsDir]) : await rewriteCommand(args);
  process.exit(code);
}

async function lintCommand(paths: readonly string[]): Promise<number> {
  try {
    const findings = await lintPaths(paths, values['database-url'] || process.env['DATABASE_URL'] ? { databaseUrl: values['database-url'] ?? process.env['DATABASE_URL'] ?? '' } : {});
    const shown = (file: string): string => (path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file));
    const report = { findings: findings.map((f) => ({ file: shown(f.file), line: f.line, rule: f.rule, severity: f.severity, message: f.message, suggestion: f.suggestion })) };
    print(report, renderFindings(report.findings));
    return findings.some((f) => f.severity === 'error') ? 1 : 0;
  } catch (error) {
    console.error(`migrate:phase lint failed: ${error instanceof Error ? error.message : String(error)}`);
    return (error as { code?: string }).code === 'ENOENT' ? 2 : 1;
  }
}

/** `[schema.]table.from:to` → a confirmed rename; exits 2 naming the flag when malformed. */
function renameFlag(text: string): ConfirmedRename {
  const match = /^(?:(.+)\.)?([^.]+)\.([^.:]+):(.+)$/.exec(text);
  if (!match) usage(`--rename "${text}": expected TABLE.FROM:TO (or SCHEMA.TABLE.FROM:TO)`);
  return { ...(match[1] ? { schema: match[1] } : {}), table: match[2] as string, from: match[3] as string, to: match[4] as string };
}

/** `[schema.]table.column` → an intended drop; exits 2 naming the flag when malformed. */
function dropFlag(text: string): IntendedDrop {
  const match = /^(?:(.+)\.)?([^.]+)\.([^.]+)$/.exec(text);
  if (!match) usage(`--drop "${text}": expected TABLE.COLUMN (or SCHEMA.TABLE.COLUMN)`);
  return { ...(match[1] ? { schema: match[1] } : {}), table: match[2] as string, column: match[3] as string };
}

/** `[schema.]table.column=SQL` → a backfill value; exits 2 naming the flag when malformed. */
function backfillFlag(text: string): RequiredColumnBackfill {
  const match = /^(?:([^=]+)\.)?([^.=]+)\.([^.=]+)=(.+)$/s.exec(text);
  if (!match) usage(`--backfill "${text}": expected TABLE.COLUMN=<SQL expression>`);
  return { ...(match[1] ? { schema: match[1] } : {}), table: match[2] as string, column: match[3] as string, value: match[4] as string };
}

async function rewriteCommand(targets: readonly string[]): Promise<number> {
  if (targets.length !== 1 || !targets[0]) usage('"rewrite" needs one migration folder');
  const folder = path.resolve(targets[0]);
  if (!existsSync(path.join(folder, 'migration.sql'))) usage(`"${folder}" is not a migration folder (no migration.sql)`);
  const renames = (values.rename ?? []).map(renameFlag);
  const backfills = (values.backfill ?? []).map(backfillFlag);
  const drops = (values.drop ?? []).map(dropFlag);
  let result = await rewriteMigrationFolder(folder, { renames, backfills, drops });
  // Interactively, each drop+add that looks like a rename is asked about, and the rewrite reruns with the answer.
  while (result.refusals.length > 0 && process.stdin.isTTY && !values.json) {
    const candidate = result.refusals.find((r) => r.rename)?.rename;
    if (!candidate) break;
    console.error(`"${candidate.table}": "${candidate.from}" is dropped and "${candidate.to}" added in the same migration.`);
    // --yes answers rollback prompts only: whether a column is a rename is never assumed.
    if (await confirm(`is "${candidate.from}" renamed to "${candidate.to}" (its data kept)?`, false)) renames.push(candidate);
    else drops.push({ schema: candidate.schema, table: candidate.table, column: candidate.from });
    result = await rewriteMigrationFolder(folder, { renames, backfills, drops });
  }
  if (result.refusals.length > 0) {
    print({ folders: [], refusals: result.refusals, phase: null }, result.refusals.map((r) => `line ${r.line} (${r.rule}): ${r.reason}`).join('\n'));
    return 1;
  }
  const name = path.basename(folder);
  const phaseFile = result.phaseSteps.length > 0 ? path.resolve(values['phase-out'] ?? path.join(path.dirname(path.dirname(folder)), `evolve.${name}.phase.ts`)) : undefined;
  if (!values['dry-run']) {
    const parent = path.dirname(folder);
    for (const out of result.folders) {
      mkdirSync(path.join(parent, out.name), { recursive: true });
      writeFileSync(path.join(parent, out.name, 'migration.sql'), out.sql);
    }
    if (phaseFile) writeFileSync(phaseFile, renderRewritePhaseModule(name, result.phaseSteps));
  }
  const verb = values['dry-run'] ? 'would write' : 'wrote';
  print(
    { folders: result.folders.map((f) => f.name), refusals: [], phase: phaseFile ? path.relative(process.cwd(), phaseFile) : null },
    `${verb} ${result.folders.length} folder(s):\n${result.folders.map((f) => `  ${f.name}`).join('\n')}${phaseFile ? `\n${verb} the phase for what moves data: ${path.relative(process.cwd(), phaseFile)} (add its \`phases\` to your plan; deploy the folders first)` : ''}`,
  );
  return 0;
}

function renderFindings(findings: readonly { file: string; line: number; rule: string; severity: string; message: string; suggestion: string }[]): string {
  if (findings.length === 0) return 'no findings';
  return findings.map((f) => `${f.file}:${f.line} ${f.severity} ${f.rule}: ${f.message}\n  safe alternative: ${f.suggestion}`).join('\n');
}

function phaseArgument(allowAll: boolean): string | undefined {
  if (args.length > 1) usage(`"${command}" takes one phase, got "${args.join(' ')}"`);
  if (allowAll && values.all) {
    if (args.length > 0) usage(`pass a phase or --all, not both`);
    return undefined;
  }
  if (args.length === 0) usage(`"${command}" needs a phase${allowAll ? ' or --all' : ''}`);
  return args[0];
}

function print(json: unknown, text: string): void {
  console.log(values.json ? JSON.stringify(json) : text);
}

function logEvent(event: RunnerEvent): void {
  if (event.kind === 'phase') console.error(`phase ${event.phase}: ${event.state}`);
  else if (event.kind === 'step') console.error(`  step ${event.step}: ${event.state}`);
  else console.error(`    folder ${event.folder}: ${event.state}`);
}

async function loadConfigured(required: boolean): Promise<LoadedPlan | undefined> {
  const configPath = values.config ?? DEFAULT_CONFIG;
  if (!values.config && !existsSync(configPath)) {
    if (required) usage(`no plan: pass --config FILE or create ${DEFAULT_CONFIG}`);
    return undefined;
  }
  return loadPlan(configPath);
}

async function confirm(question: string, honourYes = true): Promise<boolean> {
  if (values.yes && honourYes) return true;
  if (!process.stdin.isTTY) usage('rollback changes the schema: pass --yes to confirm when not running interactively');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`${question} [y/N] `);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

const stop = abortOnSignals();
const bars: ProgressBar[] = [];
try {
  const loaded = await loadConfigured(command !== 'status');
  const overrideDir = values['migrations-dir'] ? path.resolve(values['migrations-dir']) : undefined;
  const runner = loaded
    ? new PhaseRunner(loaded.plan, {
        databaseUrl,
        migrationsDir: overrideDir ?? loaded.migrationsDir,
        signal: stop.signal,
        onEvent: logEvent,
        onDataProgress: (label) => {
          if (values.json) return undefined;
          const bar = new ProgressBar(`    ${label}`);
          bars.push(bar);
          return bar.update;
        },
      })
    : undefined;
  let exitCode = 0;
  switch (command) {
    case 'status': {
      if (args.length > 0) usage(`"status" takes no arguments, got "${args.join(' ')}"`);
      const migrationsDir = overrideDir ?? loaded?.migrationsDir ?? path.resolve('prisma', 'migrations');
      const phases = runner ? await runner.status() : [];
      const { report, ok } = await statusCommand(databaseUrl, migrationsDir, phases);
      print(report, `${runner ? `${renderPhases(phases)}\n\n` : ''}${renderStatus(report)}`);
      exitCode = ok ? 0 : 1;
      break;
    }
    case 'plan': {
      const phase = phaseArgument(false) as string;
      const steps = await (runner as PhaseRunner).planPhase(phase);
      print({ phase, steps }, renderPlan(phase, steps));
      break;
    }
    case 'run': {
      const r = runner as PhaseRunner;
      const phase = phaseArgument(true);
      if (values['dry-run']) {
        const names = phase ? [r.phase(phase).name] : r.plan.phases.map((p) => p.name);
        const plans = [];
        for (const name of names) plans.push({ phase: name, steps: await r.planPhase(name) });
        print({ dryRun: true, plans }, plans.map((p) => renderPlan(p.phase, p.steps)).join('\n\n'));
        break;
      }
      if (phase) r.phase(phase); // an unknown phase is a usage error, before anything runs
      try {
        if (phase) await r.run(phase);
        else await r.runAll();
      } catch (error) {
        console.error(`migrate:phase run failed: ${error instanceof Error ? error.message : String(error)}`);
        exitCode = 1;
      }
      const phases = await r.status();
      print({ phases }, renderPhases(phases));
      break;
    }
    case 'verify': {
      const phase = phaseArgument(true);
      const checks = await (runner as PhaseRunner).verify(phase);
      const report = { ok: checks.every((check) => check.ok), checks };
      print(report, renderChecks(report));
      exitCode = report.ok ? 0 : 1;
      break;
    }
    case 'rollback': {
      const r = runner as PhaseRunner;
      const phase = phaseArgument(false) as string;
      const order = await r.rollbackPlan(phase, { cascade: values.cascade });
      if (values['dry-run']) {
        print({ dryRun: true, rollback: order }, `would roll back, in order: ${order.join(', ')}`);
        break;
      }
      if (!(await confirm(`roll back ${order.map((n) => `"${n}"`).join(', ')}?`))) {
        console.error('rollback cancelled');
        exitCode = 1;
        break;
      }
      await r.rollback(phase, { cascade: values.cascade });
      const phases = await r.status();
      print({ phases }, renderPhases(phases));
      break;
    }
  }
  for (const bar of bars) bar.done();
  stop.dispose();
  process.exit(exitCode);
} catch (error) {
  stop.dispose();
  const message = error instanceof Error ? error.message : String(error);
  // By code: errors may come from the plan module's own copy of the core package.
  const code = (error as { code?: unknown }).code;
  const usageError = code === 'PHASE_NOT_FOUND' || code === 'INVALID_ARGUMENT';
  console.error(`migrate:phase ${command} failed: ${message}`);
  process.exit(usageError ? 2 : 1);
}
