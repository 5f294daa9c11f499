import pg from 'pg';
import type { BatchTimeouts } from '../backfill/batch-transaction.js';
import type { BackfillProgress } from '../backfill/progress-tracker.js';
import { discardCheckpoints, RangeClaims } from '../backfill/range-claims.js';
import { applyPlannedSql, touchedObjects } from '../db/catalog-model.js';
import { readCatalogSnapshot, type CatalogSnapshot } from '../db/catalog-snapshot.js';
import { relationExists } from '../db/table-catalog.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_RETRY_POLICY, DEFAULT_STATEMENT_TIMEOUT_MS, type RetryPolicy } from '../db/retry-policy.js';
import {
  type ColumnNotFoundError,
  InvalidArgumentError,
  StateTransitionError,
  PhaseDependencyError,
  PhaseFailedError,
  PhaseNotFoundError,
  PrecheckFailedError,
  RollbackRefusedError,
  type TableNotFoundError,
  VerificationFailedError,
} from '../errors.js';
import { guardStatement } from '../operations/guard-sql.js';
import type { Check, DataUnit, DataUnitContext, OperationPlan, PlannedUnit, Stage } from '../operations/operation.js';
import { quoteQualified } from '../sql.js';
import { DataMigrationStore, DEFAULT_TRACKING, type DataMigrationRow, type DataMigrationStatus, type TrackingLocation } from '../tracking/data-migration-store.js';
import { phaseFolderId, phaseMigrationPrefix, type DataStepDefinition, type PhaseDefinition, type PlanDefinition, type SchemaStepDefinition, type StepDefinition } from './define-plan.js';
import { folderName, renderMigrationSql, writeFolders, type PlannedFolder } from './migration-folders.js';
import { applyPrismaFolder } from './prisma-folder-applier.js';
import { formatRemovals, planUndo, precheckUndo, reportRemovals, rollbackPhase, type RemovalReport, type RollbackContext } from './phase-rollback.js';
import { phaseRowName, stepRowName } from './row-names.js';
import { withRunnerLease } from './runner-lease.js';
import { readStepRecord, stepRecord } from './step-record.js';
import { trashDdl } from './trash.js';
import { executeSqlUnit } from './unit-executor.js';
import { clearStepCancel, clearStepControl, holdForStepControl } from '../monitor/step-control.js';
import { afterPhase, beforePhase, type PhaseHookContext, type PhaseHookEvent } from '../optimize/phase-hooks.js';

/** Status of a phase, as `status --json` reports it. */
export type PhaseStatus = 'pending' | 'running' | 'completed' | 'failed' | 'rolling_back' | 'rolled_back';

/** One phase in a status report. */
export interface PhaseReport {
  readonly name: string;
  readonly status: PhaseStatus;
  readonly dependsOn: readonly string[];
  readonly processedRecords: number;
  readonly failedRecords: number;
}

/** A planned unit, as `plan` shows it. */
export type UnitPlan =
  | { readonly kind: 'sql'; readonly folder: string; readonly transactional: boolean; readonly statements: readonly { sql: string; lock: string | null; scansData: boolean }[] }
  | { readonly kind: 'data'; readonly name: string; readonly description: string };

/** A step as `plan` shows it. */
export interface StepPlan {
  readonly name: string;
  readonly kind: StepDefinition['kind'];
  readonly description: string;
  readonly status: DataMigrationStatus | 'pending';
  /** Planned when it runs: it names objects an earlier step of the phase creates. */
  readonly deferred: boolean;
  readonly units: readonly UnitPlan[];
  readonly prechecks: readonly Check[];
}

/** Progress events of a run, for CLIs and logs. */
export type RunnerEvent =
  | { readonly kind: 'phase'; readonly phase: string; readonly state: 'start' | 'skip' | 'done' | 'rolled_back' }
  | { readonly kind: 'step'; readonly phase: string; readonly step: string; readonly state: 'start' | 'skip' | 'done' | 'rolled_back' }
  | { readonly kind: 'folder'; readonly phase: string; readonly step: string; readonly folder: string; readonly state: 'applied' | 'already-applied' | 'written' }
  | PhaseHookEvent;

/** Options of a runner. */
export interface PhaseRunnerOptions {
  readonly databaseUrl: string;
  /** Absolute path of the migrations directory (the plan's `migrationsDir` resolved by the caller). */
  readonly migrationsDir: string;
  readonly signal?: AbortSignal;
  /** Called at each phase, step and folder event; a returned promise is awaited before the runner goes on. */
  readonly onEvent?: (event: RunnerEvent) => void | Promise<void>;
  /** Called when a data unit starts; the callback returned receives its progress. */
  readonly onDataProgress?: (label: string) => ((progress: BackfillProgress) => void) | undefined;
  /** How long `run`/`runAll`/`rollback` wait for the runner lease another runner holds (default 0: fail at once). */
  readonly leaseWaitMs?: number;
  /** Absolute folder of pre-phase backups (phases with `backup: true`); default: the plan's `backupDir`, else `backups/` beside the migrations directory. */
  readonly backupDir?: string;
  /** Capture the plan's `watchQueries` with EXPLAIN ANALYZE (each executed in a transaction that is rolled back). */
  readonly explainAnalyze?: boolean;
}

/** One verify check with its phase, as `verify --json` reports it. */
export interface PhaseCheck extends Check {
  readonly phase: string;
}

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast']);

/**
 * Runs a plan's phases against one database.
 *
 * How a run proceeds:
 * - Schema steps become Prisma migration folders and are applied through Prisma's own engine.
 * - Data steps run in batches.
 * - Verify steps must hold.
 *
 * Progress lives in `DataMigration`:
 * - a row per phase (`phase:<name>`);
 * - a row per step (`phase:<name>/<step>`), whose `rollbackData` holds its record: the catalog it was
 *   planned against, its folders and the down units that undo it;
 * - a row per data unit.
 *
 * Guarantees:
 * - `run` is idempotent: a completed phase is a no-op. A failed one resumes at its first unfinished
 *   step, and within a step at its first unapplied folder or unfinished data unit, re-planned against
 *   the catalog it was first planned against.
 * - Rollback runs each step's recorded down units (under lock_timeout with retries) in reverse, keeps what
 *   they remove in the trash, removes the phase's folders and archives their `_prisma_migrations` rows.
 */
export class PhaseRunner {
  private readonly store: DataMigrationStore;
  private readonly tracking: TrackingLocation;
  private readonly timeouts: BatchTimeouts;
  private readonly retry: RetryPolicy;

  constructor(
    readonly plan: PlanDefinition,
    private readonly options: PhaseRunnerOptions,
  ) {
    this.tracking = { ...DEFAULT_TRACKING, ...plan.tracking };
    this.store = new DataMigrationStore(this.tracking);
    this.timeouts = { lockMs: plan.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, statementMs: plan.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS };
    this.retry = { ...DEFAULT_RETRY_POLICY, ...(plan.maxAttempts ? { maxAttempts: plan.maxAttempts } : {}) };
  }

  /** The phase named `name`; `PhaseNotFoundError` (listing the known ones) otherwise. */
  phase(name: string): PhaseDefinition {
    const found = this.plan.phases.find((phase) => phase.name === name);
    if (!found) throw new PhaseNotFoundError(name, this.plan.phases.map((phase) => phase.name));
    return found;
  }

  /** Status of every phase, in plan order, with the records its data steps processed. Read-only. */
  async status(): Promise<PhaseReport[]> {
    return this.withClient(async (client) => {
      const exists = await this.trackingExists(client);
      const reports: PhaseReport[] = [];
      for (const phase of this.plan.phases) {
        if (!exists) {
          reports.push({ name: phase.name, status: 'pending', dependsOn: phase.dependsOn, processedRecords: 0, failedRecords: 0 });
          continue;
        }
        const row = await this.store.get(client, phaseRowName(phase.name));
        const rows = await this.store.list(client, `${phaseRowName(phase.name)}/`);
        const dataRows = rows.filter((r) => !isStepRowOfKind(r.name, phase, 'schema'));
        reports.push({
          name: phase.name,
          status: (row?.status ?? 'pending') as PhaseStatus,
          dependsOn: phase.dependsOn,
          processedRecords: dataRows.reduce((sum, r) => sum + r.processedRecords, 0),
          failedRecords: dataRows.reduce((sum, r) => sum + r.failedRecords, 0),
        });
      }
      return reports;
    });
  }

  /**
   * What `run` would do for `phaseName`: per step its units with folder names, SQL, lock levels and
   * transactionality, and the prechecks' findings (orphans, duplicates, NULLs, volatile defaults). Each
   * step is planned against the catalog the steps before it leave, earlier unfinished phases included (a
   * catalog model the planned SQL is applied to), so it works on a database where nothing has run yet.
   * Changes nothing: reads the catalog and data only.
   */
  async planPhase(phaseName: string): Promise<StepPlan[]> {
    const target = this.phase(phaseName);
    const index = this.plan.phases.indexOf(target);
    const plans = await this.planPhases(this.plan.phases.slice(0, index + 1));
    return plans.at(-1)?.steps ?? [];
  }

  /** {@link planPhase} for every phase in plan order, each planned on the catalog the ones before leave. Changes nothing. */
  async planAll(): Promise<{ phase: string; steps: StepPlan[] }[]> {
    return this.planPhases(this.plan.phases);
  }

  private async planPhases(phases: readonly PhaseDefinition[]): Promise<{ phase: string; steps: StepPlan[] }[]> {
    return this.withClient(async (client) => {
      const exists = await this.trackingExists(client);
      let catalog = await this.snapshot(client);
      const plans: { phase: string; steps: StepPlan[] }[] = [];
      // The catalog each previewed expand step was planned on: its contract step is planned on the same one, as when it runs.
      const expandedOn = new Map<string, CatalogSnapshot>();
      for (const phase of phases) {
        const preview = await this.previewPhase(client, phase, catalog, exists, expandedOn);
        plans.push({ phase: phase.name, steps: preview.steps });
        catalog = preview.after;
      }
      return plans;
    });
  }

  /**
   * Plans the steps of `phase` on `catalog`, applying each planned schema step's SQL to the model before the
   * next one. Completed steps are shown as they are and change nothing (the live catalog has them).
   */
  private async previewPhase(
    client: pg.ClientBase,
    phase: PhaseDefinition,
    catalog: CatalogSnapshot,
    exists: boolean,
    expandedOn: Map<string, CatalogSnapshot>,
  ): Promise<{ steps: StepPlan[]; after: CatalogSnapshot }> {
    const live = catalog;
    let model = catalog;
    const steps: StepPlan[] = [];
    for (const [index, step] of phase.steps.entries()) {
      const row = exists ? await this.store.get(client, stepRowName(phase, step)) : undefined;
      const status = row?.status ?? 'pending';
      if (step.kind !== 'schema') {
        const units = step.kind === 'data' ? [{ kind: 'data' as const, name: step.name, description: step.description }] : [];
        steps.push({ name: step.name, kind: step.kind, description: step.kind === 'data' ? step.description : 'post-conditions', status, deferred: false, units, prechecks: [] });
        continue;
      }
      const description = step.operation.operation.describe(step.operation.spec);
      const key = `${step.operation.operation.kind}:${JSON.stringify(step.operation.spec)}`;
      const base = step.stage === 'contract' && !row?.rollbackData ? (expandedOn.get(key) ?? model) : model;
      const plannedOn = await this.catalogFor(client, step, row?.rollbackData, base, exists);
      if (step.stage === 'expand') expandedOn.set(key, plannedOn);
      const planned = this.planSchemaStep(phase, index, step, plannedOn);
      if (planned === 'deferred') {
        steps.push({ name: step.name, kind: 'schema', description, status, deferred: true, units: [], prechecks: [] });
        continue;
      }
      const prechecks = status === 'completed' ? [] : await this.previewPrechecks(client, step, model, model !== live);
      if (status !== 'completed') model = await applyPlannedSql(model, sqlOf(planned.units));
      steps.push({
        name: step.name,
        kind: 'schema',
        description,
        status,
        deferred: false,
        units: planned.units.map((unit, u) =>
          unit.kind === 'sql'
            ? { kind: 'sql' as const, folder: planned.folders.get(u)?.name ?? '', transactional: unit.transactional, statements: unit.statements }
            : { kind: 'data' as const, name: unit.name, description: unit.description },
        ),
        prechecks,
      });
    }
    return { steps, after: model };
  }

  /**
   * A step's prechecks for `plan`: they read live data, so when earlier planned steps change the catalog
   * first (`modelled`), a precheck that names an object only they create reports that it runs with the step.
   */
  private async previewPrechecks(client: pg.ClientBase, step: SchemaStepDefinition, catalog: CatalogSnapshot, modelled: boolean): Promise<readonly Check[]> {
    try {
      return (await step.operation.operation.precheck?.(step.operation.spec, client, catalog)) ?? [];
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (modelled && (code === '42P01' || code === '42703')) {
        return [{ name: 'precheck', ok: true, detail: 'reads objects that earlier steps create: it runs when the step runs' }];
      }
      throw error;
    }
  }

  /**
   * Runs `phaseName` to completion. Idempotent (a completed phase returns at once) and resumable (a failed
   * or interrupted one continues where it stopped). Refuses with `PhaseDependencyError` while a phase it
   * depends on has not completed. A failing step leaves the phase `failed` with the error in `errorLog`
   * and throws `PhaseFailedError`. Holds the runner lease (one runner per database; `RunnerBusyError`
   * when another holds it past `leaseWaitMs`).
   */
  async run(phaseName: string): Promise<void> {
    const phase = this.phase(phaseName);
    await this.leased('run', () => this.withClient(async (client) => {
      await this.ensureTracking(client);
      const phaseRow = await this.store.get(client, phaseRowName(phase.name));
      if (phaseRow?.status === 'completed') {
        await this.options.onEvent?.({ kind: 'phase', phase: phase.name, state: 'skip' });
        return;
      }
      if (phaseRow?.status === 'rolling_back') {
        throw new StateTransitionError(phaseRowName(phase.name), 'rolling_back', 'running', `a rollback of phase "${phase.name}" stopped half-way; finish it first (prisma-evolve rollback ${phase.name})`);
      }
      const missing: string[] = [];
      for (const dependency of phase.dependsOn) {
        if ((await this.store.get(client, phaseRowName(dependency)))?.status !== 'completed') missing.push(dependency);
      }
      if (missing.length > 0) throw new PhaseDependencyError(phase.name, missing);
      await this.prevalidate(client, phase);
      // Backup and "before" plans ahead of the first folder; a resumed phase keeps those of its first start.
      await beforePhase(this.hookContext(client, phase), phaseRow?.status !== 'running' && phaseRow?.status !== 'failed');
      await this.store.start(client, phaseRowName(phase.name), { description: phase.description, isReversible: !phase.steps.some((s) => s.kind === 'schema' && s.stage === 'contract') });
      await this.options.onEvent?.({ kind: 'phase', phase: phase.name, state: 'start' });
      for (const [index, step] of phase.steps.entries()) {
        try {
          await this.runStep(client, phase, index, step);
        } catch (error) {
          const failure = error instanceof PhaseFailedError ? error : new PhaseFailedError(phase.name, step.name, error);
          const entry = { step: step.name, error: failure.message, code: (error as { code?: unknown }).code ?? null };
          await this.store.logError(client, stepRowName(phase, step), entry, 'failed').catch(() => undefined);
          await this.store.logError(client, phaseRowName(phase.name), entry, 'failed');
          throw failure;
        }
      }
      // The after-phase hooks (optimize, "after" plans) fail the phase like a step would: logged, and run again
      // by the next `run` (its steps, completed, are skipped).
      let summary: Awaited<ReturnType<typeof afterPhase>>;
      try {
        summary = await afterPhase(this.hookContext(client, phase));
      } catch (error) {
        const failure = new PhaseFailedError(phase.name, 'after-phase hooks', error);
        await this.store.logError(client, phaseRowName(phase.name), { step: 'after-phase hooks', error: failure.message, code: (error as { code?: unknown }).code ?? null }, 'failed');
        throw failure;
      }
      await this.store.finish(client, phaseRowName(phase.name), 'completed', summary);
      await this.options.onEvent?.({ kind: 'phase', phase: phase.name, state: 'done' });
    }));
  }

  /** Runs every phase in plan order (each idempotent), stopping at the first failure; holds the runner lease throughout. */
  async runAll(): Promise<void> {
    await this.leased('run', async () => {
      for (const phase of this.plan.phases) await this.run(phase.name);
    });
  }

  /**
   * Makes data step `phaseName/stepName` start over from its first row on the next `run`: its tracking rows
   * go back to `pending` and its checkpoints and range claims are discarded (for a backfill whose coverage
   * gate failed because rows arrived behind its cursor, or a step whose input was fixed). Only for a data
   * step of a phase that has not completed; a schema step or a completed phase is refused (roll the phase
   * back instead). Holds the runner lease; idempotent.
   */
  async restartStep(target: string): Promise<void> {
    const [phaseName, stepName] = target.split('/');
    const phase = this.phase(phaseName ?? '');
    const index = phase.steps.findIndex((candidate) => candidate.name === stepName);
    const step = phase.steps[index];
    if (!step) throw new InvalidArgumentError('restartStep', `phase "${phase.name}" has no step "${stepName ?? ''}" (steps: ${phase.steps.map((s) => s.name).join(', ')})`);
    if (step.kind !== 'data') throw new InvalidArgumentError('restartStep', `"${target}" is a ${step.kind} step; only data steps restart (roll the phase back to redo a schema step)`);
    await this.leased('run', () =>
      this.withClient(async (client) => {
        await this.ensureTracking(client);
        if ((await this.store.get(client, phaseRowName(phase.name)))?.status === 'completed') {
          throw new InvalidArgumentError('restartStep', `phase "${phase.name}" has completed; roll it back to run "${step.name}" again`);
        }
        const rowName = stepRowName(phase, step);
        await discardCheckpoints(client, this.tracking.stateSchema, rowName);
        await this.store.resetRow(client, rowName, 'pending');
      }),
    );
  }

  /** What the backup, optimize and watched-plans hooks need (see phase-hooks.ts). */
  private hookContext(client: pg.ClientBase, phase: PhaseDefinition): PhaseHookContext {
    const { databaseUrl, migrationsDir, backupDir, explainAnalyze } = this.options;
    const emit = (event: PhaseHookEvent) => this.options.onEvent?.(event);
    return { client, databaseUrl, migrationsDir, plan: this.plan, phase, tracking: this.tracking, lockTimeoutMs: this.timeouts.lockMs, statementTimeoutMs: this.timeouts.statementMs, emit, ...(backupDir ? { backupDir } : {}), ...(explainAnalyze ? { explainAnalyze } : {}) };
  }

  /** Runs `fn` holding the database's runner lease (see {@link withRunnerLease}). */
  private leased<T>(command: string, fn: () => Promise<T>): Promise<T> {
    return withRunnerLease(this.options.databaseUrl, { command, waitMs: this.options.leaseWaitMs ?? 0 }, fn);
  }

  /**
   * Checks the post-conditions of `phaseName` (or of every completed phase): each schema step's
   * operation verify and each verify step. Read-only.
   */
  async verify(phaseName?: string): Promise<PhaseCheck[]> {
    const phases = phaseName ? [this.phase(phaseName)] : this.plan.phases;
    return this.withClient(async (client) => {
      const exists = await this.trackingExists(client);
      const checks: PhaseCheck[] = [];
      for (const phase of phases) {
        const row = exists ? await this.store.get(client, phaseRowName(phase.name)) : undefined;
        if (!phaseName && row?.status !== 'completed') continue;
        if (row?.status !== 'completed') {
          checks.push({ phase: phase.name, name: 'phase completed', ok: false, detail: `status is ${row?.status ?? 'pending'}` });
          continue;
        }
        for (const step of phase.steps) {
          const found =
            step.kind === 'schema'
              ? await step.operation.operation.verify(step.operation.spec, client, await this.currentStage(client, step))
              : step.kind === 'verify'
                ? await step.check(client)
                : [];
          const superseded = step.kind === 'schema' && found.some((check) => !check.ok) ? await this.supersededBy(client, phase, step) : undefined;
          checks.push(
            ...found.map((check) => ({
              phase: phase.name,
              ...check,
              ...(superseded && !check.ok ? { ok: true, detail: `superseded by ${superseded}: ${check.detail}` } : {}),
              name: `${step.name}: ${check.name}`,
            })),
          );
        }
      }
      return checks;
    });
  }

  /**
   * Rolls `phaseName` back (and, with `cascade`, the applied phases depending on it first, in reverse order),
   * from what each step recorded when it ran, never by re-planning. Holds the runner lease. Refuses
   * (`RollbackRefusedError`) while a dependent phase is applied without `cascade`, for a phase whose contract
   * steps ran, and, before anything changes:
   * - when any down unit's precheck fails (a column to keep needs a primary key), naming each;
   * - when a phase to undo has completed and `force` is not set: the message lists, per table and column
   *   it would remove, the rows or non-null values there now.
   * Nothing is dropped outright: every application table and column a down unit removes is moved into the
   * `_evolve_trash` schema in that unit's transaction (`listTrash`/`restoreTrash`/`purgeTrash`). A phase is
   * `rolling_back` until done, and a rerun after a crash or a failed step continues it. Afterwards the
   * phase's folders are gone from the migrations directory and its `_prisma_migrations` rows are archived
   * in the state schema (`rolled_back_migrations`), so Prisma's engine recreates nothing of it. A step whose
   * down fails stops the rollback saying what to do; `skipSteps` (`phase/step`) leaves named steps' effects
   * in place deliberately, recorded in their rows. Returns the phases rolled back, in order.
   */
  async rollback(phaseName: string, options: { cascade?: boolean; skipSteps?: readonly string[]; force?: boolean } = {}): Promise<string[]> {
    return this.leased('rollback', () =>
      this.withClient(async (client) => {
        await this.ensureTracking(client);
        const order = await this.rollbackOrder(client, phaseName, options.cascade ?? false);
        const skip = new Set(options.skipSteps ?? []);
        for (const entry of skip) {
          const [phase, step] = entry.split('/');
          if (!order.some((p) => p.name === phase && p.steps.some((s) => s.name === step))) {
            throw new InvalidArgumentError('skipSteps', `"${entry}" is not a step (phase/step) of the phases being rolled back: ${order.map((p) => `"${p.name}"`).join(', ')}`);
          }
        }
        const context = this.rollbackContext();
        const undo = await planUndo(client, context, order);
        const problems = await precheckUndo(client, undo, skip);
        if (problems.length > 0) throw new RollbackRefusedError(phaseName, `nothing was changed: ${problems.join('; ')}`);
        const completed = undo.filter((u) => u.status === 'completed').map((u) => `"${u.phase.name}"`);
        if (completed.length > 0 && !options.force) {
          const removals = await reportRemovals(client, undo, skip);
          throw new RollbackRefusedError(
            phaseName,
            `${completed.join(', ')} completed, and the application may have written data since. It would remove ${removals.length === 0 ? 'no table or column' : formatRemovals(removals)}. ` +
              `Pass --force to roll back anyway: removed tables and columns are moved into the "_evolve_trash" schema, and prisma-evolve trash restore brings them back`,
          );
        }
        const at = new Date();
        for (const target of undo) await rollbackPhase(client, context, target, skip, at);
        return order.map((phase) => phase.name);
      }),
    );
  }

  /**
   * What rolling back `phaseName` would remove, per table and column, with the rows or non-null values there
   * now, after the same refusals as {@link rollback} (for `--dry-run`). Read-only.
   */
  async rollbackRemovals(phaseName: string, options: { cascade?: boolean; skipSteps?: readonly string[] } = {}): Promise<RemovalReport[]> {
    return this.withClient(async (client) => {
      if (!(await this.trackingExists(client))) return [];
      const order = await this.rollbackOrder(client, phaseName, options.cascade ?? false);
      return reportRemovals(client, await planUndo(client, this.rollbackContext(), order), new Set(options.skipSteps ?? []));
    });
  }

  private rollbackContext(): RollbackContext {
    return {
      plan: this.plan,
      store: this.store,
      tracking: this.tracking,
      timeouts: this.timeouts,
      retry: this.retry,
      migrationsDir: this.options.migrationsDir,
      ...(this.options.onEvent ? { onEvent: this.options.onEvent } : {}),
      dataContext: (name) => this.dataContext(name),
      replan: (step, catalog) => step.operation.operation.plan(step.operation.spec, catalog),
    };
  }

  /**
   * The phases `rollback` would undo, in order, after the same refusals; changes nothing (for `--dry-run`).
   */
  async rollbackPlan(phaseName: string, options: { cascade?: boolean } = {}): Promise<string[]> {
    return this.withClient(async (client) => (await this.rollbackOrder(client, phaseName, options.cascade ?? false)).map((phase) => phase.name));
  }

  /** The phases a rollback of `phaseName` undoes, in order, after its refusals. Read-only (nothing has run without the tracking table). */
  private async rollbackOrder(client: pg.ClientBase, phaseName: string, cascade: boolean): Promise<PhaseDefinition[]> {
    const phase = this.phase(phaseName);
    if (!(await this.trackingExists(client))) return [phase];
    const applied: PhaseDefinition[] = [];
    for (const dependent of this.dependentsOf(phase.name)) {
      const status = (await this.store.get(client, phaseRowName(dependent.name)))?.status;
      if (status && status !== 'pending' && status !== 'rolled_back') applied.push(dependent);
    }
    if (applied.length > 0 && !cascade) {
      const names = applied.map((p) => `"${p.name}"`).join(', ');
      throw new RollbackRefusedError(phase.name, `${names} ${applied.length === 1 ? 'depends' : 'depend'} on it and ${applied.length === 1 ? 'is' : 'are'} applied; roll ${applied.length === 1 ? 'it' : 'them'} back first or pass --cascade`);
    }
    const order = [...applied].reverse();
    order.push(phase);
    for (const target of order) await this.checkReversible(client, target);
    return order;
  }

  /**
   * The completed step after `step` in plan order (`phase/step`) that changes an object `step` made or
   * changed, on purpose (a later phase drops a helper column an earlier one added): `step`'s post-conditions
   * no longer hold, and that is the plan's intent. Both steps' SQL is re-planned from their records and
   * compared by the objects it touches. `undefined` when none does. Read-only.
   */
  private async supersededBy(client: pg.ClientBase, phase: PhaseDefinition, step: SchemaStepDefinition): Promise<string | undefined> {
    const touchedBy = async (owner: PhaseDefinition, candidate: SchemaStepDefinition): Promise<Set<string>> => {
      const record = readStepRecord((await this.store.get(client, stepRowName(owner, candidate)))?.rollbackData);
      if (!record) return new Set();
      const planned = this.planSchemaStep(owner, owner.steps.indexOf(candidate), candidate, record.catalog);
      return planned === 'deferred' ? new Set() : touchedObjects(sqlOf(planned.units));
    };
    const mine = await touchedBy(phase, step);
    if (mine.size === 0) return undefined;
    const later = this.plan.phases.slice(this.plan.phases.indexOf(phase)).flatMap((owner) =>
      owner.steps.filter((s, i): s is SchemaStepDefinition => s.kind === 'schema' && (owner !== phase || i > phase.steps.indexOf(step))).map((s) => [owner, s] as const),
    );
    const key = JSON.stringify(step.operation.spec);
    for (const [owner, candidate] of later) {
      // Its own contract step is checked by verifying at the contract stage, never excused.
      if (candidate.operation.operation === step.operation.operation && JSON.stringify(candidate.operation.spec) === key) continue;
      if ((await this.store.get(client, stepRowName(owner, candidate)))?.status !== 'completed') continue;
      for (const object of await touchedBy(owner, candidate)) if (mine.has(object)) return `${owner.name}/${candidate.name}`;
    }
    return undefined;
  }

  /** An expand step whose contract step has completed is verified at the contract stage. */
  private async currentStage(client: pg.ClientBase, step: SchemaStepDefinition): Promise<Stage> {
    if (step.stage === 'contract') return 'contract';
    const key = JSON.stringify(step.operation.spec);
    for (const phase of this.plan.phases) {
      for (const [index, candidate] of phase.steps.entries()) {
        if (candidate.kind !== 'schema' || candidate.stage !== 'contract' || candidate.operation.operation !== step.operation.operation) continue;
        if (JSON.stringify(candidate.operation.spec) !== key) continue;
        if ((await this.store.get(client, stepRowName(phase, candidate)))?.status === 'completed') return 'contract';
      }
    }
    return 'expand';
  }

  private async checkReversible(client: pg.ClientBase, phase: PhaseDefinition): Promise<void> {
    for (const [index, step] of phase.steps.entries()) {
      if (step.kind !== 'schema' || step.stage !== 'contract') continue;
      const row = await this.store.get(client, stepRowName(phase, step));
      if (row && row.status !== 'pending' && row.status !== 'rolled_back') {
        throw new RollbackRefusedError(phase.name, `its contract step "${step.name}" ran, and a contract step is irreversible`);
      }
    }
  }

  private dependentsOf(name: string): PhaseDefinition[] {
    const result = new Set<string>();
    const visit = (target: string): void => {
      for (const phase of this.plan.phases) {
        if (phase.dependsOn.includes(target) && !result.has(phase.name)) {
          result.add(phase.name);
          visit(phase.name);
        }
      }
    };
    visit(name);
    return this.plan.phases.filter((phase) => result.has(phase.name));
  }

  /** Plans every pending schema step before anything runs, so unknown tables and columns fail first. */
  private async prevalidate(client: pg.ClientBase, phase: PhaseDefinition): Promise<void> {
    let model = await this.snapshot(client);
    for (const [index, step] of phase.steps.entries()) {
      if (step.kind !== 'schema') continue;
      const row = await this.store.get(client, stepRowName(phase, step));
      if (row?.status === 'completed') continue;
      // Planned on the catalog the earlier steps of the phase leave (a model of their SQL), not the one before it.
      const planned = this.planSchemaStep(phase, index, step, await this.catalogFor(client, step, row?.rollbackData, model, true));
      if (planned !== 'deferred') model = await applyPlannedSql(model, sqlOf(planned.units));
    }
  }

  /**
   * The catalog a schema step is planned against: the one stored when it first started; for a contract
   * step, the one its expand step was planned against (the contract undoes what expand prepared, so it
   * must see the table as expand saw it); else `current`.
   */
  private async catalogFor(
    client: pg.ClientBase,
    step: SchemaStepDefinition,
    stored: unknown,
    current: CatalogSnapshot,
    trackingExists: boolean,
  ): Promise<CatalogSnapshot> {
    const record = readStepRecord(stored);
    if (record) return record.catalog;
    if (step.stage !== 'contract' || !trackingExists) return current;
    const key = JSON.stringify(step.operation.spec);
    for (const phase of this.plan.phases) {
      for (const [index, candidate] of phase.steps.entries()) {
        if (candidate.kind !== 'schema' || candidate.stage !== 'expand') continue;
        if (candidate.operation.operation !== step.operation.operation || JSON.stringify(candidate.operation.spec) !== key) continue;
        const expanded = readStepRecord((await this.store.get(client, stepRowName(phase, candidate)))?.rollbackData);
        if (expanded) return expanded.catalog;
      }
    }
    return current;
  }

  /**
   * Plans one schema step against `catalog`. A step naming a table or column that an earlier step of the
   * same phase creates is 'deferred' (planned when it runs); any other unknown name throws.
   */
  private planSchemaStep(
    phase: PhaseDefinition,
    index: number,
    step: SchemaStepDefinition,
    catalog: CatalogSnapshot,
  ): { units: readonly PlannedUnit[]; folders: Map<number, PlannedFolder>; down: OperationPlan['down'] } | 'deferred' {
    try {
      const plan = step.operation.operation.plan(step.operation.spec, catalog);
      const units = this.withGuards(phase, step, step.stage === 'expand' ? plan.expand : plan.contract);
      // A contract step is irreversible: it records no down.
      return { units, folders: this.foldersOf(phase, index, units), down: step.stage === 'expand' ? plan.down : [] };
    } catch (error) {
      if (this.createdEarlier(phase, index, error)) return 'deferred';
      throw error;
    }
  }

  private createdEarlier(phase: PhaseDefinition, index: number, error: unknown): boolean {
    const created = phase.steps
      .slice(0, index)
      .flatMap((s) => (s.kind === 'schema' && s.stage === 'expand' ? (s.operation.operation.creates?.(s.operation.spec) ?? []) : []));
    // By code, not instanceof: a plan module may load its own copy of this package (e.g. through tsx).
    const code = (error as { code?: unknown }).code;
    if (code === 'TABLE_NOT_FOUND') {
      const { schema, table } = error as TableNotFoundError;
      return created.some((c) => c.schema === schema && c.table === table && c.column === undefined);
    }
    if (code === 'COLUMN_NOT_FOUND') {
      const { table, column } = error as ColumnNotFoundError;
      return created.some((c) => quoteQualified(c.schema, c.table) === table && (c.column === undefined || c.column === column));
    }
    return false;
  }

  /** Prepends the guards of the data steps a schema step `requires` to its first folder. Pure. */
  private withGuards(phase: PhaseDefinition, step: SchemaStepDefinition, units: readonly PlannedUnit[]): PlannedUnit[] {
    const guards = step.requires.map((required) => {
      const [phaseName, stepName] = required.includes('/') ? required.split('/', 2) : [phase.name, required];
      const target = this.phase(phaseName ?? phase.name).steps.find((s): s is DataStepDefinition => s.kind === 'data' && s.name === stepName);
      if (!target?.remaining) return undefined;
      return guardStatement(target.remaining, `data step "${phaseName}/${stepName}" is unfinished; run prisma-evolve run ${phaseName}`);
    });
    const statements = guards.filter((g) => g !== undefined);
    if (statements.length === 0) return [...units];
    const [first, ...rest] = units;
    if (first?.kind === 'sql' && first.transactional) return [{ ...first, statements: [...statements, ...first.statements] }, ...rest];
    return [{ kind: 'sql', name: `guard_${step.name}`, transactional: true, statements }, ...units];
  }

  private foldersOf(phase: PhaseDefinition, index: number, units: readonly PlannedUnit[]): Map<number, PlannedFolder> {
    const phaseId = phaseFolderId(phase, this.plan.phases.indexOf(phase));
    const folders = new Map<number, PlannedFolder>();
    units.forEach((unit, u) => {
      if (unit.kind !== 'sql') return;
      const name = folderName(phaseMigrationPrefix(this.plan, phase), phaseId, index + 1, u + 1, `${phase.name}_${unit.name}`);
      folders.set(u, { name, unit, sql: renderMigrationSql(unit, `phase "${phase.name}", step "${phase.steps[index]?.name}": ${unit.name}`, this.timeouts) });
    });
    return folders;
  }

  private async runStep(client: pg.ClientBase, phase: PhaseDefinition, index: number, step: StepDefinition): Promise<void> {
    const rowName = stepRowName(phase, step);
    const row = await this.store.get(client, rowName);
    if (row?.status === 'completed') {
      await this.options.onEvent?.({ kind: 'step', phase: phase.name, step: step.name, state: 'skip' });
      return;
    }
    await this.options.onEvent?.({ kind: 'step', phase: phase.name, step: step.name, state: 'start' });
    if (step.kind === 'schema') {
      const catalog = await this.catalogFor(client, step, row?.rollbackData, await this.snapshot(client), true);
      const planned = this.planSchemaStep(phase, index, step, catalog);
      if (planned === 'deferred') throw new Error(`step "${step.name}" could not be planned`);
      await this.store.start(client, rowName, { description: step.operation.operation.describe(step.operation.spec) });
      await this.obeyControl(client, rowName);
      const record = readStepRecord(row?.rollbackData);
      if (record) keepRecordedFolderNames(planned.folders, record.folders);
      if (!record) {
        const { operation, spec } = step.operation;
        const problems = ((await operation.precheck?.(spec, client, catalog)) ?? []).filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        if (problems.length > 0) throw new PrecheckFailedError(step.name, problems);
        // What this step executes and what undoes it, recorded before its first folder is applied.
        const folders = [...planned.folders.values()].map((folder) => folder.name);
        await this.store.setRollbackData(client, rowName, stepRecord(catalog, folders, planned.down), step.stage === 'expand');
      }
      const written = await writeFolders(this.options.migrationsDir, [...planned.folders.values()]);
      for (const name of written) await this.options.onEvent?.({ kind: 'folder', phase: phase.name, step: step.name, folder: name, state: 'written' });
      for (const [u, unit] of planned.units.entries()) {
        if (unit.kind === 'sql') await this.applyFolder(client, phase, step, planned.folders.get(u) as PlannedFolder);
        else await this.runDataUnit(client, `${rowName}/${pad(u + 1)}:${unit.name}`, unit);
      }
      const failed = (await step.operation.operation.verify(step.operation.spec, client, step.stage)).filter((c) => !c.ok);
      if (failed.length > 0) throw new VerificationFailedError(step.name, failed.map((c) => `${c.name} (${c.detail})`));
    } else if (step.kind === 'data') {
      await this.runDataUnit(client, rowName, { kind: 'data', name: step.name, description: step.description, run: step.run.bind(step) });
    } else {
      await this.store.start(client, rowName, { description: 'verify' });
      const failed = (await step.check(client)).filter((c) => !c.ok);
      if (failed.length > 0) throw new VerificationFailedError(step.name, failed.map((c) => `${c.name} (${c.detail})`));
    }
    await this.store.finish(client, rowName, 'completed');
    // A flag that arrived too late (after the last batch) has nothing left to stop: it must not linger in status.
    await clearStepControl(client, this.tracking.stateSchema, rowName);
    await this.options.onEvent?.({ kind: 'step', phase: phase.name, step: step.name, state: 'done' });
  }

  /**
   * The operator's flag, obeyed before a schema step and before each data unit starts (whatever the unit
   * runs): waits while paused; a cancel stops the step here, consumed, the unit left `pending`.
   */
  private async obeyControl(client: pg.ClientBase, name: string): Promise<void> {
    if ((await holdForStepControl(client, this.tracking.stateSchema, name, this.options.signal)) !== 'cancel') return;
    await clearStepCancel(client, this.tracking.stateSchema, name, { ancestors: true });
    await this.store.logError(client, name, { error: 'canceled by an operator (prisma-evolve cancel) before it started; run again to resume' });
    await this.store.finish(client, name, 'pending');
    throw new Error(`data step "${name}" was canceled; run again to resume it`);
  }

  private async applyFolder(client: pg.ClientBase, phase: PhaseDefinition, step: StepDefinition, folder: PlannedFolder): Promise<void> {
    const applied = await applyPrismaFolder(client, {
      databaseUrl: this.options.databaseUrl,
      migrationsDir: this.options.migrationsDir,
      folder,
      timeouts: this.timeouts,
      retry: this.retry,
    });
    await this.options.onEvent?.({ kind: 'folder', phase: phase.name, step: step.name, folder: folder.name, state: applied ? 'applied' : 'already-applied' });
  }

  private async runDataUnit(client: pg.ClientBase, name: string, unit: DataUnit): Promise<void> {
    if ((await this.store.get(client, name))?.status === 'completed') return;
    await this.store.start(client, name, { description: unit.description });
    await this.obeyControl(client, name);
    const outcome = await unit.run(this.dataContext(name, unit.description));
    if (outcome.canceled) throw new Error(`data step "${name}" was canceled; run again to resume it`);
    await this.store.raiseCounts(client, name, outcome.processed, outcome.failed);
    await this.store.finish(client, name, 'completed', outcome.summary);
  }

  private dataContext(name: string, label?: string): DataUnitContext {
    const onProgress = label ? this.options.onDataProgress?.(label) : undefined;
    return {
      databaseUrl: this.options.databaseUrl,
      name,
      tracking: this.tracking,
      signal: this.options.signal ?? new AbortController().signal,
      ...(onProgress ? { onProgress } : {}),
    };
  }

  private async ensureTracking(client: pg.ClientBase): Promise<void> {
    await this.store.ensure(client, [...RangeClaims.ddl(this.tracking.stateSchema), ...trashDdl(this.tracking.stateSchema)]);
  }

  private async trackingExists(client: pg.ClientBase): Promise<boolean> {
    return relationExists(client, this.store.qualified);
  }

  private async snapshot(client: pg.ClientBase): Promise<CatalogSnapshot> {
    return readCatalogSnapshot(client, await applicationSchemas(client, this.tracking.stateSchema));
  }

  private async withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

/** Schemas holding application objects: everything but PostgreSQL's own and the toolkit's state schema. */
export async function applicationSchemas(client: pg.ClientBase, stateSchema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(`select nspname::text as name from pg_namespace where nspname not like 'pg\\_%' order by 1`);
  return rows.map((row) => row.name).filter((name) => !SYSTEM_SCHEMAS.has(name) && name !== stateSchema);
}

/**
 * A resumed step applies the folders it recorded when it started, by position among its SQL units, even if
 * the plan's numbering has moved since (a step inserted before it). Mutates `folders`.
 */
function keepRecordedFolderNames(folders: Map<number, PlannedFolder>, recorded: readonly string[]): void {
  const entries = [...folders.entries()];
  if (entries.length !== recorded.length) return;
  entries.forEach(([unit, folder], i) => folders.set(unit, { ...folder, name: recorded[i] ?? folder.name }));
}

/** The SQL of a step's planned units, in order (for the catalog model). Pure. */
function sqlOf(units: readonly PlannedUnit[]): string[] {
  return units.flatMap((unit) => (unit.kind === 'sql' ? unit.statements.map((statement) => statement.sql) : []));
}

/** Tracking names of phases and steps (re-exported: part of the public API). */
export { phaseRowName, stepRowName };

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function isStepRowOfKind(rowName: string, phase: PhaseDefinition, kind: StepDefinition['kind']): boolean {
  return phase.steps.some((step) => step.kind === kind && stepRowName(phase, step) === rowName);
}
