import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { withClient } from '../db/with-client.js';
import { MIGRATION_FILE } from '../prisma/migrations-dir.js';
import { UsageError } from '../errors.js';
import { checkStatement, RULES, type FileState, type Finding, type LiveFacts } from './lint-rules.js';
import { applyLintConfig, checkStyle, styleEnabled, STYLE_RULES, type LintConfig } from './lint-style.js';

/** Statement types that change the schema (a data change beside one of them holds its locks). */
const DDL = new Set(['AlterTableStmt', 'IndexStmt', 'DropStmt', 'RenameStmt', 'CreateStmt', 'AlterEnumStmt', 'AlterDomainStmt', 'ViewStmt']);
import { loadSqlParser, parseMigrationSql } from './sql-source.js';

/**
 * Lints one migration file's SQL with PostgreSQL's grammar: every rule on every statement, in order, with
 * the file's context (tables it creates are exempt, constraints it adds NOT VALID, lock_timeout set).
 * A `-- evolve-ignore <rule>: <reason>` comment before a statement suppresses that rule there. A file that
 * does not parse gives one `parse-error` finding. `config` turns style rules on and sets a severity (or
 * `off`) per rule. Pure given the parser and `facts`.
 */
export async function lintSql(sql: string, file: string, facts?: LiveFacts, config?: LintConfig): Promise<Finding[]> {
  await loadSqlParser();
  const parsed = parseMigrationSql(sql);
  if (!parsed.ok) {
    return [{ file, line: parsed.line, rule: 'parse-error', severity: 'error', message: parsed.message, suggestion: 'fix the SQL' }];
  }
  const dropped = new Set<string>();
  for (const statement of parsed.statements) {
    if (statement.type !== 'AlterTableStmt') continue;
    for (const item of (statement.body['cmds'] as { AlterTableCmd?: { subtype?: string; name?: string } }[] | undefined) ?? []) {
      if (item.AlterTableCmd?.subtype === 'AT_DropConstraint' && item.AlterTableCmd.name) dropped.add(item.AlterTableCmd.name);
    }
  }
  const views = new Set<string>();
  for (const statement of parsed.statements) {
    const view = statement.type === 'ViewStmt' ? (statement.body['view'] as { schemaname?: string; relname?: string } | undefined) : undefined;
    if (view?.relname) views.add(`${view.schemaname ?? 'public'}.${view.relname}`);
  }
  const hasDdl = parsed.statements.some((statement) => DDL.has(statement.type));
  const state: FileState = { file, created: new Set(), notValid: new Set(), dropped, lockTimeout: false, statementCount: parsed.statements.length, facts, hasDdl, views, notNullChecks: new Set() };
  const findings: Finding[] = [];
  // Style rules are opt-in: unless one is on, their checks (a scan of each statement's tokens) do not run.
  const styleOn = Object.keys(STYLE_RULES).some((rule) => styleEnabled(rule, config));
  for (const statement of parsed.statements) {
    for (const finding of checkStatement(statement, state)) {
      if (!statement.ignored.has(finding.rule)) findings.push(finding);
    }
    if (styleOn) checkStyle(statement, (rule, detail) => {
      const style = STYLE_RULES[rule];
      if (style && styleEnabled(rule, config) && !statement.ignored.has(rule)) {
        findings.push({ file, line: statement.line, rule, severity: style.severity, message: `${detail}: ${style.why}`, suggestion: style.suggestion });
      }
    });
  }
  // lock_timeout bounds the wait, not the hold: a file that sets it should bound statements too.
  const setLock = parsed.statements.find((statement) => statement.type === 'VariableSetStmt' && statement.body['name'] === 'lock_timeout');
  if (setLock && !state.statementTimeout && !setLock.ignored.has('lock-timeout-without-statement-timeout')) {
    const rule = RULES['lock-timeout-without-statement-timeout'];
    if (rule) findings.push({ file, line: setLock.line, rule: rule.id, severity: rule.severity, message: `SET lock_timeout without statement_timeout: ${rule.why}`, suggestion: rule.suggestion });
  }
  return applyLintConfig(findings, config);
}

/** Migration files under `target`: the file itself, a folder's `migration.sql`, or every folder's below a directory (sorted by folder name). */
export async function migrationFiles(target: string): Promise<string[]> {
  const info = await stat(target);
  if (info.isFile()) return [target];
  const own = path.join(target, MIGRATION_FILE);
  const isFile = (file: string): Promise<boolean> => stat(file).then((s) => s.isFile(), () => false);
  if (await isFile(own)) return [own];
  const folders = (await readdir(target, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort((a, b) => a.localeCompare(b));
  const candidates = folders.map((name) => path.join(target, name, MIGRATION_FILE));
  const present = await inBatches(candidates, isFile);
  return candidates.filter((_, i) => present[i]);
}

/** `work` over `items`, at most 64 at a time (file system calls overlap instead of waiting one by one), results in order. */
async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += 64) results.push(...(await Promise.all(items.slice(i, i + 64).map(work))));
  return results;
}

/**
 * Reads facts the rules grade severity with: row estimates, column types, function volatility and the
 * server version. Read-only catalog queries.
 */
export async function readLiveFacts(databaseUrl: string): Promise<LiveFacts> {
  return withClient(databaseUrl, async (client) => {
    // reltuples is -1 for a table never analyzed: its size is unknown (Infinity: errors stay errors) unless it
    // has no pages at all (empty).
    const { rows: tables } = await client.query<{ schema: string; name: string; rows: number | null }>(
      `select n.nspname::text as schema, c.relname::text as name,
              case when c.reltuples >= 0 then c.reltuples::float8 when pg_relation_size(c.oid) = 0 then 0 else null end as rows
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')`,
    );
    const { rows: columns } = await client.query<{ schema: string; table: string; name: string; type: string }>(
      `select n.nspname::text as schema, c.relname::text as table, a.attname::text as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped and n.nspname not in ('pg_catalog', 'information_schema')`,
    );
    const { rows: functions } = await client.query<{ name: string; volatility: string }>(
      `select proname::text as name, max(provolatile::text) as volatility from pg_proc group by proname`,
    );
    const { rows: version } = await client.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    const rowCounts = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t.rows ?? Number.POSITIVE_INFINITY]));
    const types = new Map(columns.map((c) => [`${c.schema}.${c.table}.${c.name}`, c.type]));
    const volatility = new Map(functions.map((f) => [f.name, f.volatility]));
    return {
      rows: (schema, table) => rowCounts.get(`${schema}.${table}`),
      columnType: (schema, table, column) => types.get(`${schema}.${table}.${column}`),
      volatility: (name) => volatility.get(name.toLowerCase()) ?? volatility.get(name),
      version: Number(version[0]?.v ?? 0),
    };
  });
}

/**
 * Lints every migration file under `paths` (files, migration folders, or migrations directories). A path
 * that does not exist or holds no migration is a `UsageError` naming it (the CLI exits 2).
 */
export async function lintPaths(paths: readonly string[], options: { databaseUrl?: string; config?: LintConfig } = {}): Promise<Finding[]> {
  const facts = options.databaseUrl ? await readLiveFacts(options.databaseUrl) : undefined;
  const findings: Finding[] = [];
  for (const target of paths) {
    const files = await migrationFiles(target).catch((error: unknown) => {
      throw new UsageError(`cannot lint "${target}": ${error instanceof Error ? error.message : String(error)}`, 'path');
    });
    // A mistyped path must not pass CI silently.
    if (files.length === 0) throw new UsageError(`"${target}" holds no migration (no migration.sql in it or in a folder below it)`, 'path');
    // Reads overlap in batches; linting is synchronous work on the parser, one file after another.
    for (let i = 0; i < files.length; i += 64) {
      const batch = files.slice(i, i + 64);
      const texts = await Promise.all(batch.map((file) => readFile(file, 'utf8')));
      for (const [k, text] of texts.entries()) findings.push(...(await lintSql(text, batch[k] as string, facts, options.config)));
    }
  }
  return findings;
}
