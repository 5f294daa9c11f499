import { createInterface } from 'node:readline/promises';
import type { ParseArgsConfig } from 'node:util';
import { UsageError, type PhaseRunner } from '@prisma-evolve/core';
import type { LoadedPlan } from './plan-loader.js';
import type { ProjectConfig } from './project-config.js';

/** Every flag of the CLI; each command says which of them it takes. */
export const FLAGS = {
  config: { type: 'string', help: 'FILE  plan module exporting `plan` (default: evolve.plan.ts beside schema.prisma)' },
  'prisma-config': { type: 'string', help: 'FILE  Prisma config to read paths and the datasource from (default: ./prisma.config.ts)' },
  'database-url': { type: 'string', help: 'URL  database (default: DATABASE_URL, else prisma.config.ts datasource.url)' },
  'shadow-database-url': { type: 'string', help: 'URL  server where a throwaway shadow database is created (default: the database\'s server)' },
  'migrations-dir': { type: 'string', help: 'DIR  migrations directory (default: the plan\'s, else prisma.config.ts, else prisma/migrations)' },
  schema: { type: 'string', help: 'PATH  schema.prisma or a multi-file schema folder (default: prisma.config.ts, else prisma/schema.prisma)' },
  all: { type: 'boolean', help: 'every phase' },
  json: { type: 'boolean', help: 'print one JSON object on the last line of stdout' },
  'dry-run': { type: 'boolean', help: 'show what would happen, change nothing' },
  yes: { type: 'boolean', help: 'do not ask for confirmation' },
  cascade: { type: 'boolean', help: 'roll back the phases depending on it first' },
  force: { type: 'boolean', help: 'rollback: roll back a completed phase; what it removes is moved into the trash (_evolve_trash)' },
  safe: { type: 'boolean', help: 'rewrite unsafe SQL into the safe folder sequence and a phase module' },
  'soft-delete': { type: 'boolean', help: 'add the prisma-evolve-meta generator for the soft-delete and audit-log extensions' },
  rename: { type: 'string', multiple: true, help: 'T.FROM:TO  the drop of T.FROM and add of T.TO are a rename (repeatable)' },
  backfill: { type: 'string', multiple: true, help: 'T.COL=SQL  the value of required column T.COL for existing rows (repeatable)' },
  drop: { type: 'string', multiple: true, help: 'T.COL  the drop of T.COL is intended, not half of a rename (repeatable)' },
  'phase-out': { type: 'string', help: 'FILE  where the phase module goes (default: evolve.<folder>.phase.ts beside the migrations directory)' },
  'skip-step': { type: 'string', multiple: true, help: 'PHASE/STEP  rollback: leave this step\'s effects in place when its down cannot run (repeatable)' },
  'restart-step': { type: 'string', multiple: true, help: 'PHASE/STEP  run: start this data step over from its first row (repeatable)' },
  wait: { type: 'string', help: 'SECONDS  wait this long for another runner of the database to finish (default 0: exit 1 naming it)' },
  copy: { type: 'string', help: 'FILE  copy module exporting `copy` (default: evolve.copy.ts beside schema.prisma)' },
  'source-url': { type: 'string', help: 'URL  copy: the legacy database (default: the copy\'s source, else SOURCE_DATABASE_URL)' },
  table: { type: 'string', multiple: true, help: 'NAME  copy: only this table of the copy (repeatable)' },
  phase: { type: 'string', help: 'N  copy: only the tables of phase N; optimize: only the tables phase N touched' },
  'batch-size': { type: 'string', help: 'N  copy: rows per batch when a table is first cut into ranges (default: the copy\'s, else 10000)' },
  workers: { type: 'string', help: 'N  copy: parallel workers per table (default 1)' },
  'read-only': { type: 'boolean', help: 'copy cutover: make the source database read-only for new sessions' },
  'read-write': { type: 'boolean', help: 'copy cutover: restore the source database\'s setting from before --read-only' },
  baseline: { type: 'string', help: 'FILE  analyze: report only findings not in this file (written with today\'s findings when it does not exist)' },
  fix: { type: 'string', help: 'FILE  analyze: write the fix steps as a phase module' },
  'min-stats-days': { type: 'string', help: 'N  analyze: days of statistics before an index may be called unused (default 7)' },
  out: { type: 'string', help: 'FILE  backup: where the dump goes (default: backups/<database>-<time>.dump)' },
  clean: { type: 'boolean', help: 'restore: drop the dump\'s objects first (into a database that is not empty)' },
  analyze: { type: 'boolean', help: 'run: capture the plan\'s watchQueries with EXPLAIN ANALYZE (each executed in a transaction rolled back)' },
  port: { type: 'string', help: 'N  dashboard: port to listen on (default 4545; 0 picks a free one)' },
  host: { type: 'string', help: 'ADDRESS  dashboard: address to bind (default 127.0.0.1, loopback only)' },
  'allow-actions': { type: 'boolean', help: 'dashboard: enable the pause, resume and cancel buttons, protected by a token printed at start' },
  help: { type: 'boolean', help: 'this text' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; multiple?: boolean; help: string }>;

export type FlagName = keyof typeof FLAGS;
/** Parsed flag values: strings, booleans, or string lists for repeatable flags. */
export type Flags = { [K in FlagName]?: (typeof FLAGS)[K] extends { multiple: true } ? string[] : (typeof FLAGS)[K]['type'] extends 'string' ? string : boolean };

/** The node:util parseArgs options for all flags. */
export const PARSE_OPTIONS = Object.fromEntries(
  Object.entries(FLAGS).map(([name, flag]) => [name, { type: flag.type, ...('multiple' in flag ? { multiple: true } : {}) }]),
) as NonNullable<ParseArgsConfig['options']>;

/** What a command receives: its arguments, flags, and lazily loaded project facts. */
export interface CommandContext {
  readonly args: readonly string[];
  readonly flags: Flags;
  readonly cwd: string;
  /** Aborted on SIGINT/SIGTERM: batches in flight finish, then the command stops resumably. */
  readonly signal: AbortSignal;
  /** prisma.config.ts and the flags that override it. */
  project(): Promise<ProjectConfig>;
  /** `--database-url`, DATABASE_URL, or prisma.config.ts; a {@link UsageError} when none. */
  databaseUrl(): Promise<string>;
  /** The plan (`--config` or the default path); undefined when optional and absent. */
  plan(required: true): Promise<LoadedPlan>;
  plan(required: boolean): Promise<LoadedPlan | undefined>;
  /** The migrations directory: `--migrations-dir`, else the plan's, else the project's. */
  migrationsDir(plan?: LoadedPlan): Promise<string>;
  /** `--wait` in milliseconds (0 when absent); a {@link UsageError} when it is not a number. */
  leaseWaitMs(): number;
  /** A runner for the plan on the database, with progress bars unless `--json`. */
  runner(plan: LoadedPlan): Promise<PhaseRunner>;
  /** Prints `json` (with `--json`, one line) or `text` to stdout. */
  print(json: unknown, text: string): void;
  /** Asks on the terminal; `--yes` answers yes when `honourYes`. A {@link UsageError} when not interactive. */
  confirm(question: string, honourYes?: boolean): Promise<boolean>;
}

/** One CLI command: its help, the flags it takes, and `run` returning the exit code. */
export interface Command {
  readonly name: string;
  /** `<phase>|--all` and the like, for the usage line. */
  readonly synopsis: string;
  readonly summary: string;
  readonly flags: readonly FlagName[];
  run(context: CommandContext): Promise<number>;
}

/** The one argument of `command`, or a {@link UsageError}; `--all` stands for it when `allowAll`. */
export function phaseArgument(context: CommandContext, command: string, allowAll: boolean): string | undefined {
  const { args, flags } = context;
  if (args.length > 1) throw new UsageError(`"${command}" takes one phase, got "${args.join(' ')}"`);
  if (allowAll && flags.all) {
    if (args.length > 0) throw new UsageError('pass a phase or --all, not both', '--all');
    return undefined;
  }
  if (args.length === 0) throw new UsageError(`"${command}" needs a phase${allowAll ? ' or --all' : ''}`);
  return args[0];
}

/** A yes/no question on stderr; default no. */
export async function askYesNo(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}
