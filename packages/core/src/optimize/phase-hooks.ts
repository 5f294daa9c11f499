import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { backupDatabase, type BackupManifest } from '../backup/backup.js';
import { parseConnectionTarget } from '../db/connection-target.js';
import { relationExists } from '../db/table-catalog.js';
import type { PhaseDefinition, PlanDefinition } from '../phases/define-plan.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { TrackingLocation } from '../tracking/data-migration-store.js';
import { optimizeDatabase, type OptimizeAction } from './optimize.js';
import { phaseTables } from './phase-tables.js';
import { capturePlans, type PlanMoment } from './watch-queries.js';

/**
 * What the runner does around a phase when the plan asks for it: a backup before its first folder
 * (`backup: true`), `optimize` after it (`optimize: true`), and the plans of the plan's `watchQueries` before and
 * after it. Each is said through a runner event.
 */

/** A runner event of these hooks. */
export interface PhaseHookEvent {
  readonly kind: 'hook';
  readonly phase: string;
  readonly hook: 'backup' | 'optimize' | 'plans';
  readonly message: string;
  /** The dump (backup). */
  readonly file?: string;
}

/** What the hooks need from the runner. */
export interface PhaseHookContext {
  readonly client: pg.ClientBase;
  readonly databaseUrl: string;
  readonly migrationsDir: string;
  readonly plan: PlanDefinition;
  readonly phase: PhaseDefinition;
  readonly tracking: TrackingLocation;
  /** Absolute folder of pre-phase backups (default: {@link backupDirectory}). */
  readonly backupDir?: string;
  /** Capture watched queries with EXPLAIN ANALYZE (executed in a transaction rolled back). */
  readonly explainAnalyze?: boolean;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  emit(event: PhaseHookEvent): void | Promise<void>;
}

/** The table of pre-phase backups, in the toolkit's state schema. */
export const PHASE_BACKUPS_TABLE = 'phase_backups';

/**
 * Where pre-phase backups go: the runner's `backupDir`, else the plan's `backupDir` (relative to the migrations
 * directory's parent, the folder of schema.prisma in a usual layout), else `backups/` in that folder. Pure.
 */
export function backupDirectory(plan: PlanDefinition, migrationsDir: string, override?: string): string {
  return override ?? path.resolve(path.dirname(migrationsDir), plan.backupDir ?? 'backups');
}

/** The backup recorded for a phase, if any. Read-only. */
export async function recordedBackup(client: pg.ClientBase, stateSchema: string, phase: string): Promise<{ file: string; manifest: BackupManifest } | undefined> {
  const table = quoteQualified(stateSchema, PHASE_BACKUPS_TABLE);
  if (!(await relationExists(client, table))) return undefined;
  const { rows } = await client.query<{ file: string; manifest: BackupManifest }>(`SELECT "file", "manifest" FROM ${table} WHERE "phase" = $1`, [phase]);
  return rows[0];
}

/** Creates the backup folder readable by its owner only, with a `.gitignore` so dumps never reach the repository. */
async function privateDirectory(directory: string): Promise<void> {
  if (existsSync(directory)) return;
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeFile(path.join(directory, '.gitignore'), '# database dumps: never commit them\n*\n');
}

/**
 * Takes the pre-phase backup of a phase marked `backup: true` (pg_dump -Fc with its manifest, see
 * `backupDatabase`) and records where it is in `<state schema>.phase_backups`. A resumed phase (`fresh` false)
 * keeps the backup taken at its first start when the dump is still there. A missing or old pg_dump is a
 * `UsageError` naming it and both versions, before anything of the phase runs.
 */
async function preBackup(context: PhaseHookContext, fresh: boolean): Promise<string | undefined> {
  if (!context.phase.backup) return undefined;
  const { client, phase, tracking } = context;
  const kept = fresh ? undefined : await recordedBackup(client, tracking.stateSchema, phase.name);
  if (kept && existsSync(kept.file)) {
    await context.emit({ kind: 'hook', phase: phase.name, hook: 'backup', file: kept.file, message: `backup from the phase's first start kept: ${kept.file}` });
    return kept.file;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const directory = backupDirectory(context.plan, context.migrationsDir, context.backupDir);
  await privateDirectory(directory);
  // A resumed phase whose first backup is gone gets a dump of its state now: said so, and the record of the
  // backup taken before the phase is kept.
  const midPhase = !fresh && kept !== undefined;
  const file = path.join(directory, `${parseConnectionTarget(context.databaseUrl).database}-${phase.name}-${midPhase ? 'midphase-' : ''}${stamp}.dump`);
  const manifest = await backupDatabase({ databaseUrl: context.databaseUrl, file });
  if (midPhase) {
    await context.emit({ kind: 'hook', phase: phase.name, hook: 'backup', file, message: `the backup taken before the phase (${kept.file}) is missing: this dump holds the phase's state now, mid-phase: ${file}` });
    return file;
  }
  const table = quoteQualified(tracking.stateSchema, PHASE_BACKUPS_TABLE);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(tracking.stateSchema)}; CREATE TABLE IF NOT EXISTS ${table} ("phase" text PRIMARY KEY, "file" text NOT NULL, "manifest" jsonb NOT NULL, "takenAt" timestamptz NOT NULL DEFAULT now())`);
  await client.query(`INSERT INTO ${table} ("phase", "file", "manifest") VALUES ($1, $2, $3::jsonb) ON CONFLICT ("phase") DO UPDATE SET "file" = EXCLUDED."file", "manifest" = EXCLUDED."manifest", "takenAt" = now()`, [phase.name, file, JSON.stringify(manifest)]);
  await context.emit({ kind: 'hook', phase: phase.name, hook: 'backup', file, message: `backup before the phase: ${file} (${manifest.bytes} bytes, ${manifest.tables} tables, sha256 ${manifest.sha256.slice(0, 12)}…)` });
  return file;
}

/** Captures the watched queries' plans at `moment`; a query that cannot be EXPLAINed is said, never thrown. */
async function plans(context: PhaseHookContext, moment: PlanMoment, replace: boolean): Promise<void> {
  const queries = context.plan.watchQueries;
  if (!queries || Object.keys(queries).length === 0) return;
  const captured = await capturePlans(context.client, {
    stateSchema: context.tracking.stateSchema,
    phase: context.phase.name,
    moment,
    queries,
    analyze: context.explainAnalyze === true,
    replace,
    lockTimeoutMs: context.lockTimeoutMs,
    statementTimeoutMs: context.statementTimeoutMs,
  });
  if (captured.length === 0) return;
  const failed = captured.filter((c) => c.error !== null);
  const message = `${captured.length} watched plan(s) captured ${moment} the phase${context.explainAnalyze ? ' (EXPLAIN ANALYZE, rolled back)' : ''}${failed.length ? `; EXPLAIN failed for ${failed.map((f) => `${f.query} (${f.error})`).join(', ')}` : ''}`;
  await context.emit({ kind: 'hook', phase: context.phase.name, hook: 'plans', message });
}

/**
 * Runs before a phase's first step: the pre-phase backup, then the "before" plans of the watched queries.
 * `fresh` is false when the phase resumes (it ran before and did not complete): the backup and plans of its
 * first start are kept. Throws only when the backup cannot be taken (the phase must not start without it).
 */
export async function beforePhase(context: PhaseHookContext, fresh: boolean): Promise<void> {
  await preBackup(context, fresh);
  await plans(context, 'before', fresh);
}

/**
 * Runs once a phase's steps have all completed, before it is marked completed: `optimize` of the tables it touched
 * (`optimize: true`), then the "after" plans. Returns the phase's result summary (its backup and what optimize
 * did), or undefined when there is nothing to say. Never throws for an object optimize could not handle.
 */
export async function afterPhase(context: PhaseHookContext): Promise<Record<string, unknown> | undefined> {
  const summary: Record<string, unknown> = {};
  const backup = context.phase.backup ? await recordedBackup(context.client, context.tracking.stateSchema, context.phase.name) : undefined;
  if (backup) summary['backup'] = backup.file;
  if (context.phase.optimize) {
    const { tables } = await phaseTables(context.client, { tracking: context.tracking, phase: context.phase, migrationsDir: context.migrationsDir });
    const emit = (action: OptimizeAction) => context.emit({ kind: 'hook', phase: context.phase.name, hook: 'optimize', message: action.message });
    const result = await optimizeDatabase({ databaseUrl: context.databaseUrl, tables, phase: context.phase.name, lockTimeoutMs: context.lockTimeoutMs, onAction: emit });
    summary['optimize'] = result.actions;
  }
  await plans(context, 'after', true);
  return Object.keys(summary).length > 0 ? summary : undefined;
}
