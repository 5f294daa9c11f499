import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  lintPaths,
  parseLintConfig,
  RULES,
  STYLE_RULES,
  renderRewritePhaseModule,
  rewriteMigrationFolder,
  UsageError,
  type ConfirmedRename,
  type Finding,
  type IntendedDrop,
  type LintConfig,
  type Refusal,
  type RequiredColumnBackfill,
} from '@prisma-evolve/core';
import { askYesNo, type Command, type CommandContext } from '../command.js';

/** A finding as the CLI prints it (the `lint --json` and `new --json` contract). */
export interface FindingReport {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  readonly severity: string;
  readonly message: string;
  readonly suggestion: string;
}

/** Findings with paths shown relative to `cwd` when inside it. Pure. */
export function findingReports(findings: readonly Finding[], cwd: string): FindingReport[] {
  const shown = (file: string): string => (path.relative(cwd, file).startsWith('..') ? file : path.relative(cwd, file));
  return findings.map((f) => ({ file: shown(f.file), line: f.line, rule: f.rule, severity: f.severity, message: f.message, suggestion: f.suggestion }));
}

/** Renders findings as the CLI prints them. Pure. */
export function renderFindings(findings: readonly FindingReport[]): string {
  if (findings.length === 0) return 'no findings';
  return findings.map((f) => `${f.file}:${f.line} ${f.severity} ${f.rule}: ${f.message}\n  safe alternative: ${f.suggestion}`).join('\n');
}

/** The file the CLI reads the lint configuration from, in the working directory or its `prisma/` folder. */
export const LINT_CONFIG_FILES = ['evolve.lint.json', path.join('prisma', 'evolve.lint.json')];

/**
 * The lint configuration of the project (`evolve.lint.json`: `{ "style": true, "rules": { "<rule>": "error" |
 * "warning" | "off" } }`), or undefined when there is none. A malformed one is a `UsageError` naming the file.
 */
function readLintConfig(cwd: string): LintConfig | undefined {
  const file = LINT_CONFIG_FILES.map((name) => path.join(cwd, name)).find((candidate) => existsSync(candidate));
  if (!file) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    return parseLintConfig(raw, file, new Set([...Object.keys(RULES), ...Object.keys(STYLE_RULES)]));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** `lint [paths…]`: exit 1 on errors. */
export const lint: Command = {
  name: 'lint',
  synopsis: '[paths...]',
  summary: 'check migration SQL for locking and data-loss hazards (default: the migrations folder)',
  flags: ['config', 'database-url', 'migrations-dir', 'json'],
  async run(context) {
    const paths = context.args.length > 0 ? context.args : [await context.migrationsDir(await context.plan(false).catch(() => undefined))];
    // Live facts (table sizes) only from an explicit --database-url or DATABASE_URL, never from a config default.
    const databaseUrl = context.flags['database-url'] ?? process.env['DATABASE_URL'];
    const config = readLintConfig(context.cwd);
    const findings = await lintPaths(paths, { ...(databaseUrl ? { databaseUrl } : {}), ...(config ? { config } : {}) }).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'ENOENT') throw new UsageError(error instanceof Error ? error.message : String(error));
      throw error;
    });
    const report = { findings: findingReports(findings, context.cwd) };
    context.print(report, renderFindings(report.findings));
    return findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};

/** `[schema.]table.from:to` → a confirmed rename. */
function renameFlag(text: string): ConfirmedRename {
  const match = /^(?:(.+)\.)?([^.]+)\.([^.:]+):(.+)$/.exec(text);
  if (!match) throw new UsageError(`--rename "${text}": expected TABLE.FROM:TO (or SCHEMA.TABLE.FROM:TO)`, '--rename');
  return { ...(match[1] ? { schema: match[1] } : {}), table: match[2] as string, from: match[3] as string, to: match[4] as string };
}

/** `[schema.]table.column` → an intended drop. */
function dropFlag(text: string): IntendedDrop {
  const match = /^(?:(.+)\.)?([^.]+)\.([^.]+)$/.exec(text);
  if (!match) throw new UsageError(`--drop "${text}": expected TABLE.COLUMN (or SCHEMA.TABLE.COLUMN)`, '--drop');
  return { ...(match[1] ? { schema: match[1] } : {}), table: match[2] as string, column: match[3] as string };
}

/** `[schema.]table.column=SQL` → a backfill value. */
function backfillFlag(text: string): RequiredColumnBackfill {
  const match = /^(?:([^=]+)\.)?([^.=]+)\.([^.=]+)=(.+)$/s.exec(text);
  if (!match) throw new UsageError(`--backfill "${text}": expected TABLE.COLUMN=<SQL expression>`, '--backfill');
  return { ...(match[1] ? { schema: match[1] } : {}), table: match[2] as string, column: match[3] as string, value: match[4] as string };
}

/** What {@link rewriteFolder} did: folders written (or that would be), or why it refused. */
export interface RewriteOutcome {
  readonly folders: readonly string[];
  readonly refusals: readonly Refusal[];
  /** The phase module written, relative to cwd, or null when nothing moves data. */
  readonly phaseModule: string | null;
}

/**
 * Rewrites one migration folder into the safe sequence with the `--rename`/`--backfill`/`--drop` answers,
 * asking on a terminal about each drop+add that looks like a rename (never assumed, `--yes` included).
 * Writes the folders beside it and the phase module unless `--dry-run`; the original folder is replaced
 * by the first of the sequence. Refusals write nothing.
 */
export async function rewriteFolder(context: CommandContext, folder: string): Promise<RewriteOutcome> {
  const renames = (context.flags.rename ?? []).map(renameFlag);
  const backfills = (context.flags.backfill ?? []).map(backfillFlag);
  const drops = (context.flags.drop ?? []).map(dropFlag);
  let result = await rewriteMigrationFolder(folder, { renames, backfills, drops });
  while (result.refusals.length > 0 && process.stdin.isTTY && !context.flags.json) {
    const candidate = result.refusals.find((r) => r.rename)?.rename;
    if (!candidate) break;
    console.error(`"${candidate.table}": "${candidate.from}" is dropped and "${candidate.to}" added in the same migration.`);
    if (await askYesNo(`is "${candidate.from}" renamed to "${candidate.to}" (its data kept)?`)) renames.push(candidate);
    else drops.push({ schema: candidate.schema, table: candidate.table, column: candidate.from });
    result = await rewriteMigrationFolder(folder, { renames, backfills, drops });
  }
  if (result.refusals.length > 0) return { folders: [], refusals: result.refusals, phaseModule: null };
  const name = path.basename(folder);
  const phaseFile =
    result.phaseSteps.length > 0 ? path.resolve(context.cwd, context.flags['phase-out'] ?? path.join(path.dirname(path.dirname(folder)), `evolve.${name}.phase.ts`)) : undefined;
  if (!context.flags['dry-run']) {
    const parent = path.dirname(folder);
    for (const out of result.folders) {
      mkdirSync(path.join(parent, out.name), { recursive: true });
      writeFileSync(path.join(parent, out.name, 'migration.sql'), out.sql);
    }
    if (phaseFile) writeFileSync(phaseFile, renderRewritePhaseModule(name, result.phaseSteps));
  }
  return { folders: result.folders.map((f) => f.name), refusals: [], phaseModule: phaseFile ? path.relative(context.cwd, phaseFile) : null };
}

/** Renders refusals, one line each. Pure. */
export function renderRefusals(refusals: readonly Refusal[]): string {
  return refusals.map((r) => `line ${r.line} (${r.rule}): ${r.reason}`).join('\n');
}

/** `rewrite <folder>`: the safe folder sequence for an unsafe Prisma migration. */
export const rewrite: Command = {
  name: 'rewrite',
  synopsis: '<folder>',
  summary: 'turn an unsafe Prisma migration folder into the safe sequence of folders (and a phase module for what moves data)',
  flags: ['json', 'dry-run', 'rename', 'backfill', 'drop', 'phase-out'],
  async run(context) {
    if (context.args.length !== 1 || !context.args[0]) throw new UsageError('"rewrite" needs one migration folder');
    const folder = path.resolve(context.cwd, context.args[0]);
    if (!existsSync(path.join(folder, 'migration.sql'))) throw new UsageError(`"${folder}" is not a migration folder (no migration.sql)`);
    const outcome = await rewriteFolder(context, folder);
    if (outcome.refusals.length > 0) {
      context.print({ folders: [], refusals: outcome.refusals, phase: null }, renderRefusals(outcome.refusals));
      return 1;
    }
    const verb = context.flags['dry-run'] ? 'would write' : 'wrote';
    context.print(
      { folders: outcome.folders, refusals: [], phase: outcome.phaseModule },
      `${verb} ${outcome.folders.length} folder(s):\n${outcome.folders.map((f) => `  ${f}`).join('\n')}${outcome.phaseModule ? `\n${verb} the phase for what moves data: ${outcome.phaseModule} (add its \`phases\` to your plan; deploy the folders first)` : ''}`,
    );
    return 0;
  },
};
