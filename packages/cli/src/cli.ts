import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { abortOnSignals, PhaseRunner, UsageError, type RunnerEvent } from '@prisma-evolve/core';
import { askYesNo, FLAGS, PARSE_OPTIONS, type Command, type CommandContext, type FlagName, type Flags } from './command.js';
import { analyze } from './commands/analyze-command.js';
import { backup, restore } from './commands/backup-commands.js';
import { copy } from './commands/copy-command.js';
import { deploy } from './commands/deploy-command.js';
import { health } from './commands/health-command.js';
import { init } from './commands/init-command.js';
import { lint, rewrite } from './commands/lint-commands.js';
import { newMigration } from './commands/new-command.js';
import { optimize, plans } from './commands/optimize-commands.js';
import { plan, rollback, run, status, verify } from './commands/phase-commands.js';
import { trash } from './commands/trash-command.js';
import { cancel, pause, resume } from './commands/control-commands.js';
import { dashboard } from './commands/dashboard-command.js';
import { loadPlan, type LoadedPlan } from './plan-loader.js';
import { ProgressBar } from './progress-bar.js';
import { readProjectConfig, type ProjectConfig } from './project-config.js';

/** The commands, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [init, newMigration, status, plan, run, deploy, verify, rollback, pause, resume, cancel, dashboard, trash, lint, rewrite, copy, analyze, health, backup, restore, optimize, plans];

/** Exit codes: the only place they are decided. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Error codes that mean the command line was wrong (exit 2); anything else thrown is a failure (exit 1). */
const USAGE_CODES = new Set(['USAGE', 'PHASE_NOT_FOUND']);

/** `--help` text: every command and flag, or one command's. Pure. */
export function usageText(command?: Command): string {
  const flagLines = (names: readonly FlagName[]): string =>
    names.map((name) => {
      const [arg, ...rest] = FLAGS[name].help.split('  ');
      const label = rest.length > 0 ? `--${name} ${arg}` : `--${name}`;
      return `  ${label.padEnd(32)} ${rest.length > 0 ? rest.join('  ') : arg}`;
    }).join('\n');
  if (command) return `usage: prisma-evolve ${command.name} ${command.synopsis} [options]\n\n${command.summary}\n\noptions:\n${flagLines([...command.flags, 'help'])}`;
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.synopsis}`.length));
  return `usage: prisma-evolve <command> [arguments] [options]   (in this repository: pnpm migrate:phase …)

commands:
${COMMANDS.map((c) => `  ${`${c.name} ${c.synopsis}`.padEnd(width)}  ${c.summary}`).join('\n')}

options:
${flagLines(Object.keys(FLAGS) as FlagName[])}

exit codes: 0 ok, 1 failed (a step failed, something not applied, verification failed), 2 usage error
"prisma-evolve <command> --help" shows one command's options.`;
}

/** Parses `argv` into a command and its flags; a {@link UsageError} names what is wrong. Pure. */
export function parseCommandLine(argv: readonly string[]): { command: Command | undefined; args: string[]; flags: Flags } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: PARSE_OPTIONS });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const flags = parsed.values as Flags;
  const [name, ...args] = parsed.positionals;
  if (name === undefined) {
    if (flags.help) return { command: undefined, args, flags };
    throw new UsageError('no command given');
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"`);
  const allowed = new Set<string>([...command.flags, 'help']);
  for (const flag of Object.keys(flags)) {
    if (!allowed.has(flag)) throw new UsageError(`"${command.name}" does not take --${flag}`, `--${flag}`);
  }
  return { command, args, flags };
}

/**
 * Runs the CLI on `argv` and returns its exit code (0 ok, 1 failed, 2 usage), printing errors to stderr.
 * Never calls process.exit: the bin does, once. Errors are mapped here and nowhere else: a
 * {@link UsageError} or an unknown phase is a usage error; anything else, including an invalid argument met
 * while running, is a failure.
 */
export async function runCli(argv: readonly string[], cwd = process.cwd()): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usageText()}`);
    return EXIT.usage;
  }
  const { command, args, flags } = parsed;
  if (!command || flags.help) {
    console.log(usageText(command));
    return EXIT.ok;
  }
  const stop = abortOnSignals();
  const bars: ProgressBar[] = [];
  try {
    return await command.run(createContext(args, flags, cwd, stop.signal, bars));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // By code, not instanceof: errors may come from the plan module's own copy of the core package.
    const usage = USAGE_CODES.has(String((error as { code?: unknown }).code));
    console.error(`prisma-evolve ${command.name} failed: ${message}${usage ? `\n\n${usageText(command)}` : ''}`);
    return usage ? EXIT.usage : EXIT.failed;
  } finally {
    for (const bar of bars) bar.done();
    stop.dispose();
  }
}

function createContext(args: string[], flags: Flags, cwd: string, signal: AbortSignal, bars: ProgressBar[]): CommandContext {
  const leaseWaitMs = (): number => {
    if (flags.wait === undefined) return 0;
    const seconds = Number(flags.wait);
    if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--wait "${flags.wait}": expected a number of seconds`, '--wait');
    return seconds * 1000;
  };
  let project: Promise<ProjectConfig> | undefined;
  const loadProject = (): Promise<ProjectConfig> =>
    (project ??= readProjectConfig(cwd, flags['prisma-config']).then((config) => {
      if (config.warning) console.error(`warning: ${config.warning}`);
      return config;
    }));
  const plans = new Map<boolean, Promise<LoadedPlan | undefined>>();
  const context: CommandContext = {
    args,
    flags,
    cwd,
    signal,
    project: loadProject,
    async databaseUrl() {
      const url = flags['database-url'] ?? process.env['DATABASE_URL'] ?? (await loadProject()).datasourceUrl;
      if (!url) throw new UsageError('no database: pass --database-url, set DATABASE_URL, or set datasource.url in prisma.config.ts', '--database-url');
      return url;
    },
    plan: ((required: boolean) => {
      let loaded = plans.get(required);
      if (!loaded) {
        loaded = (async () => {
          const file = flags.config ? path.resolve(cwd, flags.config) : (await loadProject()).planPath;
          if (!flags.config && !existsSync(file)) {
            if (required) throw new UsageError(`no plan: pass --config FILE or create ${path.relative(cwd, file) || file} (prisma-evolve init writes one)`, '--config');
            return undefined;
          }
          return loadPlan(file);
        })();
        plans.set(required, loaded);
      }
      return loaded;
    }) as CommandContext['plan'],
    async migrationsDir(loaded) {
      if (flags['migrations-dir']) return path.resolve(cwd, flags['migrations-dir']);
      return loaded?.migrationsDir ?? (await loadProject()).migrationsDir;
    },
    leaseWaitMs,
    async runner(loaded) {
      return new PhaseRunner(loaded.plan, {
        leaseWaitMs: leaseWaitMs(),
        databaseUrl: await context.databaseUrl(),
        migrationsDir: await context.migrationsDir(loaded),
        signal,
        onEvent: logEvent,
        ...(flags.analyze ? { explainAnalyze: true } : {}),
        onDataProgress: (label) => {
          if (flags.json) return undefined;
          const bar = new ProgressBar(`    ${label}`);
          bars.push(bar);
          return bar.update;
        },
      });
    },
    print(json, text) {
      console.log(flags.json ? JSON.stringify(json) : text);
    },
    async confirm(question, honourYes = true) {
      if (flags.yes && honourYes) return true;
      if (!process.stdin.isTTY) throw new UsageError('this changes the schema: pass --yes to confirm when not running interactively', '--yes');
      return askYesNo(question);
    },
  };
  return context;
}

function logEvent(event: RunnerEvent): void {
  if (event.kind === 'phase') console.error(`phase ${event.phase}: ${event.state}`);
  else if (event.kind === 'step') console.error(`  step ${event.step}: ${event.state}`);
  else if (event.kind === 'hook') console.error(`  ${event.hook}: ${event.message}`);
  else console.error(`    folder ${event.folder}: ${event.state}`);
}
