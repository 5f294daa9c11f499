import type pg from 'pg';
import { InvalidArgumentError } from '../errors.js';
import type { Check, DataOutcome, DataUnitContext, OperationStep, Stage } from '../operations/operation.js';
import { backfillUnit, type BackfillUnitOptions } from '../operations/backfill-unit.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { TrackingLocation } from '../tracking/data-migration-store.js';
import { parseWatchQueries, type WatchQueries } from '../optimize/watch-queries.js';

/** A schema step: one operation at one stage; its SQL becomes Prisma migration folders. */
export interface SchemaStepDefinition {
  readonly kind: 'schema';
  readonly name: string;
  readonly operation: OperationStep;
  readonly stage: Stage;
  /** Data steps (`phase/step`, or `step` within the same phase) whose `remaining` guard this step's folders carry. */
  readonly requires: readonly string[];
}

/** A data step: work on rows, in short batches, resumable by its name. */
export interface DataStepDefinition {
  readonly kind: 'data';
  readonly name: string;
  readonly description: string;
  /** SQL boolean, true while the work is unfinished (used by guards of later schema steps). */
  readonly remaining?: string;
  /** Does the work; must be idempotent and resumable by the step's name (see {@link dataStep}). */
  run(context: DataUnitContext): Promise<DataOutcome>;
  /** Undoes the step on rollback; absent means the data is left as it is (the schema rollback removes it). */
  down?(context: DataUnitContext): Promise<void>;
}

/** A verify step: post-conditions that must all hold for the phase to complete. */
export interface VerifyStepDefinition {
  readonly kind: 'verify';
  readonly name: string;
  /** Reads the post-conditions; read-only. Every check must hold for the phase to complete. */
  check(client: pg.ClientBase): Promise<readonly Check[]>;
}

/** Any step of a phase. */
export type StepDefinition = SchemaStepDefinition | DataStepDefinition | VerifyStepDefinition;

/** How risky a phase is, for plans and dashboards (seed 003's risk column). */
export type PhaseRisk = 'low' | 'medium' | 'high';

/** One phase: ordered steps, and the phases it depends on. */
export interface PhaseDefinition {
  readonly name: string;
  /**
   * Sortable key of the phase's migration folders (`<prefix>_<id>_…`), e.g. seed 003's phase number. Keep it
   * stable once deployed: inserting a phase later must not rename the folders of deployed ones. Default:
   * the phase's position in the plan, zero-padded.
   */
  readonly id: string | undefined;
  /**
   * The 14-digit timestamp this phase's folders start with instead of the plan's `migrationPrefix`: a phase
   * that follows plain migrations made after the plan (e.g. one written by `prisma-evolve new --safe`) sorts
   * after them, so Prisma replays folders in the order they were meant to run.
   */
  readonly migrationPrefix: string | undefined;
  readonly description: string;
  readonly kind: 'expand' | 'contract';
  readonly risk: PhaseRisk;
  readonly dependsOn: readonly string[];
  readonly steps: readonly StepDefinition[];
  /** `run` takes a backup (pg_dump -Fc with a manifest) before the phase's first folder (docs/analyze.md). */
  readonly backup?: boolean;
  /** `run` runs `optimize` on the tables the phase touched once its steps are done (docs/analyze.md). */
  readonly optimize?: boolean;
}

/** Settings of a plan. */
export interface PlanSettings {
  /** The app's Prisma migrations directory (relative paths resolve against the config file). */
  readonly migrationsDir: string;
  /** 14-digit timestamp the plan's folder names start with; it orders them after the app's own migrations. */
  readonly migrationPrefix: string;
  readonly tracking?: Partial<TrackingLocation>;
  readonly lockTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  readonly maxAttempts?: number;
  /** Folder of pre-phase backups (`backup: true`); relative to the migrations directory's parent. Default `backups`. */
  readonly backupDir?: string;
  /** Named queries whose plans `run` captures before and after every phase (`prisma-evolve plans`). */
  readonly watchQueries?: WatchQueries;
}

/** A validated plan: phases in execution (topological) order. */
export interface PlanDefinition extends PlanSettings {
  readonly name: string;
  /** Phases in an order that respects `dependsOn` (declaration order among independent ones). */
  readonly phases: readonly PhaseDefinition[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) throw new InvalidArgumentError(`${kind} name`, `"${name}" must start with a letter or digit and use only letters, digits, "_", "-" and "."`);
}

function checkPrefix(field: string, prefix: string): void {
  if (!/^\d{14}$/.test(prefix)) throw new InvalidArgumentError(field, `"${prefix}" must be a 14-digit timestamp like 20260301000000`);
}

/**
 * Declares a phase; checks its name and that step names are unique within it. Pure.
 */
export function definePhase(phase: {
  name: string;
  id?: string;
  migrationPrefix?: string;
  description?: string;
  kind?: 'expand' | 'contract';
  risk?: PhaseRisk;
  dependsOn?: readonly string[];
  steps: readonly StepDefinition[];
  backup?: boolean;
  optimize?: boolean;
}): PhaseDefinition {
  checkName('phase', phase.name);
  if (phase.id !== undefined && !/^[0-9a-z_]{1,16}$/.test(phase.id)) {
    throw new InvalidArgumentError(`phase "${phase.name}".id`, `"${phase.id}" must be 1-16 characters of 0-9, a-z and "_"`);
  }
  if (phase.migrationPrefix !== undefined) checkPrefix(`phase "${phase.name}".migrationPrefix`, phase.migrationPrefix);
  if (phase.steps.length === 0) throw new InvalidArgumentError(`phase "${phase.name}".steps`, 'a phase needs at least one step');
  const seen = new Set<string>();
  for (const step of phase.steps) {
    checkName(`step of phase "${phase.name}"`, step.name);
    if (seen.has(step.name)) throw new InvalidArgumentError(`phase "${phase.name}".steps`, `step name "${step.name}" is used twice`);
    seen.add(step.name);
  }
  return {
    name: phase.name,
    id: phase.id,
    migrationPrefix: phase.migrationPrefix,
    description: phase.description ?? '',
    kind: phase.kind ?? 'expand',
    risk: phase.risk ?? 'low',
    dependsOn: phase.dependsOn ?? [],
    steps: phase.steps,
    ...(phase.backup ? { backup: true } : {}),
    ...(phase.optimize ? { optimize: true } : {}),
  };
}

/**
 * Declares a plan: a DAG of phases. Rejects duplicate phase names, unknown dependencies and cycles (naming
 * the cycle), unknown `requires` of schema steps, a malformed migration prefix and malformed `watchQueries` (zod). Returns the phases in
 * topological order. Pure.
 */
export function definePlan(plan: PlanSettings & { name: string; phases: readonly PhaseDefinition[] }): PlanDefinition {
  checkPrefix('migrationPrefix', plan.migrationPrefix);
  const watchQueries = plan.watchQueries === undefined ? undefined : parseWatchQueries(plan.watchQueries);
  const byName = new Map<string, PhaseDefinition>();
  for (const phase of plan.phases) {
    if (byName.has(phase.name)) throw new InvalidArgumentError('phases', `phase name "${phase.name}" is used twice`);
    byName.set(phase.name, phase);
  }
  for (const phase of plan.phases) {
    for (const dependency of phase.dependsOn) {
      if (!byName.has(dependency)) throw new InvalidArgumentError(`phase "${phase.name}".dependsOn`, `unknown phase "${dependency}"`);
    }
  }
  const ordered: PhaseDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (phase: PhaseDefinition, path: readonly string[]): void => {
    const mark = state.get(phase.name);
    if (mark === 'done') return;
    if (mark === 'visiting') {
      const cycle = [...path.slice(path.indexOf(phase.name)), phase.name];
      throw new InvalidArgumentError('phases', `dependency cycle: ${cycle.map((n) => `"${n}"`).join(' -> ')}`);
    }
    state.set(phase.name, 'visiting');
    for (const dependency of phase.dependsOn) visit(byName.get(dependency) as PhaseDefinition, [...path, phase.name]);
    state.set(phase.name, 'done');
    ordered.push(phase);
  };
  for (const phase of plan.phases) visit(phase, []);

  const ids = new Map<string, string>();
  for (const [index, phase] of ordered.entries()) {
    const id = phaseFolderId(phase, index);
    const taken = ids.get(id);
    if (taken) throw new InvalidArgumentError(`phase "${phase.name}".id`, `"${id}" is also the id of phase "${taken}"`);
    ids.set(id, phase.name);
  }
  for (const [index, phase] of ordered.entries()) {
    for (const dependency of phase.dependsOn) {
      const depIndex = ordered.findIndex((p) => p.name === dependency);
      const [own, theirs] = [phaseFolderId(phase, index), phaseFolderId(ordered[depIndex] as PhaseDefinition, depIndex)];
      if (!(theirs < own)) {
        throw new InvalidArgumentError(
          `phase "${phase.name}".id`,
          `"${own}" must sort after "${theirs}" of "${dependency}", which it depends on: a plain prisma migrate deploy applies folders in name order`,
        );
      }
    }
  }

  for (const phase of ordered) {
    for (const step of phase.steps) {
      if (step.kind !== 'schema') continue;
      for (const required of step.requires) {
        const [phaseName, stepName] = required.includes('/') ? required.split('/', 2) : [phase.name, required];
        const target = byName.get(phaseName ?? '')?.steps.find((s) => s.name === stepName);
        if (!target || target.kind !== 'data') {
          throw new InvalidArgumentError(`phase "${phase.name}" step "${step.name}".requires`, `"${required}" is not a data step of this plan`);
        }
      }
    }
  }
  return { ...plan, phases: ordered, ...(watchQueries ? { watchQueries } : {}) };
}

/** The key of a phase's folders: its `id`, or its 1-based position zero-padded to two digits. Pure. */
export function phaseFolderId(phase: PhaseDefinition, index: number): string {
  return phase.id ?? String(index + 1).padStart(2, '0');
}

/** The timestamp `phase`'s folders start with: its own `migrationPrefix`, else the plan's. Pure. */
export function phaseMigrationPrefix(plan: PlanSettings, phase: PhaseDefinition): string {
  return phase.migrationPrefix ?? plan.migrationPrefix;
}

/** Whether migration folder `folder` belongs to a phase of `plan` (the runner applies it, not a plain deploy). Pure. */
export function isPlanFolder(plan: PlanDefinition, folder: string): boolean {
  return [plan.migrationPrefix, ...plan.phases.map((phase) => phase.migrationPrefix)].some((prefix) => prefix !== undefined && folder.startsWith(`${prefix}_`));
}

/** A schema step at the expand stage (or `contract` when given). */
export function schemaStep(name: string, operation: OperationStep, options: { stage?: Stage; requires?: readonly string[] } = {}): SchemaStepDefinition {
  return { kind: 'schema', name, operation, stage: options.stage ?? 'expand', requires: options.requires ?? [] };
}

/** A schema step at the contract stage of an expand/contract operation. */
export function contractStep(name: string, operation: OperationStep, options: { requires?: readonly string[] } = {}): SchemaStepDefinition {
  return schemaStep(name, operation, { stage: 'contract', ...options });
}

/** A data step running any function of yours with the step's tracking name, signal and progress callback. */
export function dataStep(
  name: string,
  run: DataStepDefinition['run'],
  options: { description?: string; remaining?: string; down?: DataStepDefinition['down'] } = {},
): DataStepDefinition {
  return { kind: 'data', name, description: options.description ?? name, run, ...(options.remaining ? { remaining: options.remaining } : {}), ...(options.down ? { down: options.down } : {}) };
}

/**
 * A data step that runs `backfill` (resumable, batched; see docs/backfill.md). Its `remaining` guard is
 * "some row still matches `where`".
 */
export function backfillStep(name: string, options: BackfillUnitOptions): DataStepDefinition {
  const schema = options.schema ?? 'public';
  const from = [
    `${quoteQualified(schema, options.table)} AS ${quoteIdent(options.alias ?? 't')}`,
    ...(options.join ?? []).map((join) => `${quoteQualified(join.schema ?? schema, join.table)} AS ${quoteIdent(join.alias)}`),
  ];
  const conditions = [...(options.join ?? []).map((join) => `(${join.on})`), `(${options.where})`];
  const remaining = `EXISTS (SELECT 1 FROM ${from.join(', ')} WHERE ${conditions.join(' AND ')})`;
  return backfillUnit(name, `backfill "${options.table}" (${Object.keys(options.set).join(', ')})`, options, remaining);
}

/** A verify step from a SQL query returning rows `{ ok boolean, detail text }` (one check per row). */
export function verifySql(name: string, sql: string): VerifyStepDefinition {
  return {
    kind: 'verify',
    name,
    async check(client) {
      const { rows } = await client.query<{ ok: boolean; detail?: string; name?: string }>(sql);
      if (rows.length === 0) return [{ name, ok: false, detail: 'the verify query returned no row' }];
      return rows.map((row, i) => ({ name: row.name ?? (rows.length > 1 ? `${name} #${i + 1}` : name), ok: row.ok === true, detail: row.detail ?? '' }));
    },
  };
}
