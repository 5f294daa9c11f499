import { rm } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { BatchTimeouts } from '../backfill/batch-transaction.js';
import { discardCheckpoints } from '../backfill/range-claims.js';
import type { CatalogSnapshot } from '../db/catalog-snapshot.js';
import type { RetryPolicy } from '../db/retry-policy.js';
import { RollbackRefusedError } from '../errors.js';
import { BACKUP_SCHEMA } from '../naming.js';
import type { DataUnit, DataUnitContext, OperationPlan } from '../operations/operation.js';
import { archiveMigrationRows } from '../prisma/migration-rows.js';
import type { DataMigrationRow, DataMigrationStore, TrackingLocation } from '../tracking/data-migration-store.js';
import type { PhaseDefinition, PlanDefinition, SchemaStepDefinition, StepDefinition } from './define-plan.js';
import { describeRemoval, unitRemovals, type Removal, type StatementRemovals } from './down-removals.js';
import type { RunnerEvent } from './phase-runner.js';
import { phaseRowName, stepRowName } from './row-names.js';
import { readStepRecord, type RecordedDownUnit } from './step-record.js';
import { countRemoved, moveToTrash, TRASH_SCHEMA, trashProblem, type TrashOrigin } from './trash.js';
import { executeSqlUnit } from './unit-executor.js';

/** What the runner lends the rollback. */
export interface RollbackContext {
  readonly plan: PlanDefinition;
  readonly store: DataMigrationStore;
  readonly tracking: TrackingLocation;
  readonly timeouts: BatchTimeouts;
  readonly retry: RetryPolicy;
  readonly migrationsDir: string;
  readonly onEvent?: (event: RunnerEvent) => void | Promise<void>;
  dataContext(name: string): DataUnitContext;
  /** A schema step's plan against its recorded catalog: for its data down units, which are functions and cannot be recorded. */
  replan(step: SchemaStepDefinition, catalog: CatalogSnapshot): OperationPlan;
}

/** One unit that undoes part of a step: SQL with what each statement removes, or data. */
type UndoUnit = { readonly kind: 'sql'; readonly unit: Extract<RecordedDownUnit, { kind: 'sql' }>; readonly statements: readonly StatementRemovals[] } | { readonly kind: 'data'; readonly unit: DataUnit };

/** A step that ran and how to undo it. */
interface StepUndo {
  readonly step: StepDefinition;
  readonly rowName: string;
  readonly row: DataMigrationRow;
  readonly units: readonly UndoUnit[];
  /** The migration folders the step applied, by exact name, from its record. */
  readonly folders: readonly string[];
}

/** A phase to roll back: its status and its steps that ran, last first. */
export interface PhaseUndo {
  readonly phase: PhaseDefinition;
  readonly status: string;
  readonly steps: readonly StepUndo[];
  /** What the phase row kept from an earlier, interrupted rollback (`{ folders }`). */
  readonly kept: unknown;
}

/** A table or column a rollback would remove, with what it holds now. */
export interface RemovalReport {
  readonly phase: string;
  readonly step: string;
  readonly object: string;
  readonly kind: 'table' | 'column';
  /** Rows of the table, or non-null values of the column, now. */
  readonly rows: number;
}

/**
 * Resolves, for each phase in `order`, the steps that ran (last first) and the units that undo them: the
 * down units recorded when each schema step started, with what each SQL statement removes, and the folders
 * the steps recorded. Read-only.
 */
export async function planUndo(client: pg.ClientBase, context: RollbackContext, order: readonly PhaseDefinition[]): Promise<PhaseUndo[]> {
  const stateSchemas = new Set([context.tracking.schema, context.tracking.stateSchema, BACKUP_SCHEMA, TRASH_SCHEMA]);
  const phases: PhaseUndo[] = [];
  for (const phase of order) {
    const phaseRow = await context.store.get(client, phaseRowName(phase.name));
    const status = phaseRow?.status ?? 'pending';
    const steps: StepUndo[] = [];
    for (const step of [...phase.steps].reverse()) {
      const rowName = stepRowName(phase, step);
      const row = await context.store.get(client, rowName);
      if (!row || row.status === 'pending' || row.status === 'rolled_back') continue;
      const units: UndoUnit[] = [];
      const record = step.kind === 'schema' ? readStepRecord(row.rollbackData) : undefined;
      // A schema step without a record failed its precheck: nothing of it ran.
      if (step.kind === 'schema' && record) {
        let planned: OperationPlan | undefined;
        const plannedDown = (): OperationPlan => (planned ??= context.replan(step, record.catalog));
        for (const unit of record.down) {
          if (unit.kind === 'sql') {
            units.push({ kind: 'sql', unit, statements: await unitRemovals(unit, stateSchemas) });
            continue;
          }
          const found = plannedDown().down.find((candidate): candidate is DataUnit => candidate.kind === 'data' && candidate.name === unit.name);
          if (!found) {
            throw new RollbackRefusedError(phase.name, `step "${step.name}" recorded the data unit "${unit.name}" to undo it, and its operation no longer plans one by that name (was the plan edited?)`);
          }
          units.push({ kind: 'data', unit: found });
        }
      }
      steps.push({ step, rowName, row, units, folders: record?.folders ?? [] });
    }
    phases.push({ phase, status, steps, kept: phaseRow?.rollbackData ?? null });
  }
  return phases;
}

/** Every table or column the undo of `phases` removes, with its phase and step, skipped steps left out. Pure. */
function removalsOf(phases: readonly PhaseUndo[], skip: ReadonlySet<string>): { phase: string; step: string; removal: Removal }[] {
  return phases.flatMap(({ phase, steps }) =>
    steps
      .filter(({ step }) => !skip.has(`${phase.name}/${step.name}`))
      .flatMap(({ step, units }) => units.flatMap((unit) => (unit.kind === 'sql' ? unit.statements.flatMap((s) => s.removals) : [])).map((removal) => ({ phase: phase.name, step: step.name, removal }))),
  );
}

/**
 * Every down unit's precheck, run before the first one changes anything: a column to keep in the trash
 * needs a primary key on its table. Returns the problems, each naming the phase, step, table and column.
 * Read-only.
 */
export async function precheckUndo(client: pg.ClientBase, phases: readonly PhaseUndo[], skip: ReadonlySet<string>): Promise<string[]> {
  const problems: string[] = [];
  for (const { phase, steps } of phases) {
    for (const { step, units } of steps) {
      if (skip.has(`${phase.name}/${step.name}`)) continue;
      for (const unit of units) {
        if (unit.kind === 'sql' && !unit.unit.transactional && unit.statements.some((s) => s.removals.length > 0)) {
          problems.push(`step "${phase.name}/${step.name}": its down unit "${unit.unit.name}" removes ${unit.statements.flatMap((s) => s.removals).map(describeRemoval).join(', ')} outside a transaction, where the move into the trash could not be atomic (pass --skip-step ${phase.name}/${step.name} to leave it in place)`);
        }
      }
    }
  }
  for (const { phase, step, removal } of removalsOf(phases, skip)) {
    const problem = await trashProblem(client, removal);
    if (problem) problems.push(`step "${phase}/${step}": ${problem} (pass --skip-step ${phase}/${step} to leave it in place)`);
  }
  return problems;
}

/** What the rollback of `phases` would remove, per table and column, with the rows or values there now. Read-only. */
export async function reportRemovals(client: pg.ClientBase, phases: readonly PhaseUndo[], skip: ReadonlySet<string>): Promise<RemovalReport[]> {
  const report: RemovalReport[] = [];
  for (const { phase, step, removal } of removalsOf(phases, skip)) {
    const rows = await countRemoved(client, removal);
    if (rows !== undefined) report.push({ phase, step, object: describeRemoval(removal), kind: removal.column === undefined ? 'table' : 'column', rows });
  }
  return report;
}

/** One line per removal: `"public"."AuditLog" (table): 1000 rows`. Pure. */
export function formatRemovals(report: readonly RemovalReport[]): string {
  return report.map((r) => `${r.object} (${r.kind}): ${r.rows} ${r.kind === 'table' ? 'rows' : 'non-null values'}`).join('; ');
}

/**
 * Rolls one phase back from its records:
 * 1. the phase becomes `rolling_back` (a rerun after a crash continues here; `run` refuses it meanwhile);
 * 2. each step that ran, last first: its recorded down units, where every table or column a statement
 *    would remove is moved into the trash in the unit's own transaction; then the step becomes `rolled_back`
 *    and its checkpoints go;
 * 3. the phase's folders are deleted from the migrations directory, then, in one transaction, their
 *    `_prisma_migrations` rows are archived and deleted and the phase becomes `rolled_back`. Prisma then
 *    sees them as never applied, and no `prisma migrate deploy` recreates what the phase made.
 * A step whose down fails stops with a `RollbackRefusedError` saying what to do; `skip` leaves steps'
 * effects in place deliberately, logged in their rows, with their folders and `_prisma_migrations` rows.
 */
export async function rollbackPhase(client: pg.ClientBase, context: RollbackContext, undo: PhaseUndo, skip: ReadonlySet<string>, at: Date): Promise<void> {
  const { phase } = undo;
  const phaseRow = phaseRowName(phase.name);
  if (undo.status === 'pending' || undo.status === 'rolled_back') {
    await context.onEvent?.({ kind: 'phase', phase: phase.name, state: 'skip' });
    return;
  }
  await context.store.transition(client, phaseRow, 'rolling_back');
  // The folders to remove, by exact name, kept on the phase row: undone steps lose their records, a rerun must not.
  // A skipped step keeps its folders and rows: what it made is still there, and Prisma's history says so.
  const kept = (undo.kept as { folders?: unknown } | null)?.folders;
  const undone = undo.steps.filter(({ step }) => !skip.has(`${phase.name}/${step.name}`)).flatMap(({ folders }) => folders);
  const folders = [...new Set([...(Array.isArray(kept) ? (kept as string[]) : []), ...undone])].sort();
  await context.store.setRollbackData(client, phaseRow, { folders });
  for (const { step, rowName, units } of undo.steps) {
    if (skip.has(`${phase.name}/${step.name}`)) {
      await context.store.logError(client, rowName, { step: step.name, error: 'rollback skipped on request (--skip-step): its down did not run, what it created or changed is still there' });
    } else {
      try {
        await undoStep(client, context, undo, step, rowName, units, at);
      } catch (error) {
        throw new RollbackRefusedError(
          phase.name,
          `undoing step "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}. The steps after it are undone already. Fix the cause and run rollback again, ` +
            `or pass --skip-step ${phase.name}/${step.name} to leave this step's effects in place and go on`,
        );
      }
    }
    // A later run does the step again from its first row: its old checkpoints must not make it a no-op.
    await discardCheckpoints(client, context.tracking.stateSchema, rowName);
    await context.store.resetRow(client, rowName, 'rolled_back');
    await context.onEvent?.({ kind: 'step', phase: phase.name, step: step.name, state: skip.has(`${phase.name}/${step.name}`) ? 'skip' : 'rolled_back' });
  }
  // Folders first: a crash before the rows go leaves rows without folders (Prisma recreates nothing), never the reverse.
  await removeFolders(context.migrationsDir, folders);
  await client.query('begin');
  try {
    await archiveMigrationRows(client, folders, context.tracking.stateSchema);
    await context.store.resetRow(client, phaseRow, 'rolled_back', { childrenOnly: true });
    await context.store.transition(client, phaseRow, 'rolled_back');
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
  await context.onEvent?.({ kind: 'phase', phase: phase.name, state: 'rolled_back' });
}

/**
 * Runs a step's down units, skipping those an interrupted rollback finished: each finished unit is recorded
 * as `<step row>/undone:<n>`, in the unit's own transaction when it has one (a unit outside a transaction, or
 * a data unit, is idempotent and recorded after it).
 */
async function undoStep(client: pg.ClientBase, context: RollbackContext, undo: PhaseUndo, step: StepDefinition, rowName: string, units: readonly UndoUnit[], at: Date): Promise<void> {
  const origin: TrashOrigin = { phase: undo.phase.name, step: step.name, at, stateSchema: context.tracking.stateSchema };
  const downContext = context.dataContext(`${rowName}/down`);
  if (step.kind === 'data') {
    await step.down?.(downContext);
    return;
  }
  for (const [n, undoUnit] of units.entries()) {
    const done = `${rowName}/undone:${n + 1}`;
    if ((await context.store.get(client, done))?.status === 'completed') continue;
    const markDone = async (): Promise<void> => {
      await context.store.start(client, done, { description: `down unit ${n + 1} of "${step.name}"` });
      await context.store.finish(client, done, 'completed');
    };
    if (undoUnit.kind === 'data') {
      await undoUnit.unit.run({ ...downContext, name: `${rowName}/down:${undoUnit.unit.name}` });
      await markDone();
      continue;
    }
    // A column copied into the trash is a scan: no statement timeout for that unit (its locks stay bounded).
    const copiesColumn = undoUnit.statements.some((s) => s.removals.some((r) => r.column !== undefined));
    const unit = copiesColumn ? { ...undoUnit.unit, statements: undoUnit.unit.statements.map((s) => ({ ...s, scansData: true })) } : undoUnit.unit;
    await executeSqlUnit(
      client,
      unit,
      context.timeouts,
      context.retry,
      async (index) => {
        const statement = undoUnit.statements[index];
        if (!statement || statement.removals.length === 0) return 'run';
        for (const removal of statement.removals) await moveToTrash(client, removal, origin);
        return statement.replaceable ? 'skip' : 'run';
      },
      unit.transactional ? markDone : undefined,
    );
    if (!unit.transactional) await markDone();
  }
}

/** Deletes the migration folders named `names` from `migrationsDir`. Idempotent. */
async function removeFolders(migrationsDir: string, names: readonly string[]): Promise<void> {
  for (const name of names) await rm(path.join(migrationsDir, name), { recursive: true, force: true });
}
