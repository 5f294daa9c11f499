import { withClient } from '../db/with-client.js';
import { relationExists } from '../db/table-catalog.js';
import { InvalidArgumentError, PhaseNotFoundError } from '../errors.js';
import { isStepControlObeyed, readStepControls, setStepControl, stepControlDdl, type ControlAction } from '../monitor/step-control.js';
import { DataMigrationStore, DEFAULT_TRACKING, type DataMigrationStatus, type TrackingLocation } from '../tracking/data-migration-store.js';
import type { PhaseDefinition, PlanDefinition, StepDefinition } from './define-plan.js';
import { stepRowName } from './row-names.js';
import { leaseHolder } from './runner-lease.js';
import { readStepRecord } from './step-record.js';

/** One step of the plan as `status --json` (and the dashboard) report it. */
export interface StepStatus {
  readonly phase: string;
  readonly name: string;
  readonly kind: StepDefinition['kind'];
  /** Its tracking name (`phase:<phase>/<step>`): its `DataMigration` row, checkpoints and history. */
  readonly row: string;
  readonly status: DataMigrationStatus | 'pending';
  /** Records of the step and of its data units (a schema step's backfill). */
  readonly processedRecords: number;
  readonly failedRecords: number;
  readonly totalRecords: number | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  /** The operator's flag on it (`prisma-evolve pause|cancel`), or null. */
  readonly control: ControlAction | null;
  /** Migration folders the step recorded when it started (schema steps). */
  readonly folders: readonly string[];
  /** The coverage gate's last measurement, when the step has one. */
  readonly coverage: unknown;
  /** The newest `errorLog` entry's message. */
  readonly lastError: string | null;
}

interface TrackingRow {
  name: string;
  status: DataMigrationStatus;
  startedAt: string | null;
  completedAt: string | null;
  totalRecords: number | null;
  processedRecords: number;
  failedRecords: number;
  resultSummary: unknown;
  lastError: { error?: unknown } | null;
  rollbackData: unknown;
}

/**
 * Every step of `plan` with its tracking row, its units' counters, its control flag and its recorded
 * folders, in plan order. Read-only (one read of the tracking and control tables); a database where
 * nothing ran reports every step pending.
 */
export async function readPlanSteps(plan: PlanDefinition, databaseUrl: string): Promise<StepStatus[]> {
  const tracking: TrackingLocation = { ...DEFAULT_TRACKING, ...plan.tracking };
  return withClient(databaseUrl, async (client) => {
    const store = new DataMigrationStore(tracking);
    const rows = (await relationExists(client, store.qualified))
      ? (
          await client.query<TrackingRow>(
            `select "name", "status", to_char(("startedAt" at time zone current_setting('TimeZone')) at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "startedAt",
                    to_char(("completedAt" at time zone current_setting('TimeZone')) at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "completedAt",
                    "totalRecords"::float8 as "totalRecords", "processedRecords"::float8 as "processedRecords",
                    "failedRecords"::float8 as "failedRecords", "resultSummary", "errorLog" -> -1 as "lastError", "rollbackData"
             from ${store.qualified} where left("name", 6) = 'phase:'`,
          )
        ).rows
      : [];
    const byName = new Map(rows.map((row) => [row.name, row]));
    const controls = new Map((await readStepControls(client, tracking.stateSchema)).map((flag) => [flag.step, flag.action]));
    return plan.phases.flatMap((phase) => phase.steps.map((step) => stepStatus(phase, step, byName, rows, controls)));
  });
}

function stepStatus(phase: PhaseDefinition, step: StepDefinition, byName: Map<string, TrackingRow>, rows: readonly TrackingRow[], controls: Map<string, ControlAction>): StepStatus {
  const row = stepRowName(phase, step);
  const own = byName.get(row);
  const units = rows.filter((candidate) => candidate.name.startsWith(`${row}/`));
  const all = own ? [own, ...units] : units;
  const sum = (pick: (r: TrackingRow) => number): number => all.reduce((acc, r) => acc + pick(r), 0);
  const totals = all.map((r) => r.totalRecords).filter((n): n is number => n !== null);
  const summary = own?.resultSummary as { coverage?: unknown; passed?: unknown } | null | undefined;
  const lastError = own?.lastError?.error;
  return {
    phase: phase.name,
    name: step.name,
    kind: step.kind,
    row,
    status: own?.status ?? 'pending',
    processedRecords: sum((r) => r.processedRecords),
    failedRecords: sum((r) => r.failedRecords),
    totalRecords: totals.length > 0 ? totals.reduce((a, b) => a + b, 0) : null,
    startedAt: own?.startedAt ?? null,
    completedAt: own?.completedAt ?? null,
    control: controls.get(row) ?? null,
    folders: readStepRecord(own?.rollbackData)?.folders ?? [],
    // A data step's summary is the gate's report itself; a backfill's own row nests it under `coverage`.
    coverage: summary && typeof summary === 'object' ? ('passed' in summary ? summary : (summary.coverage ?? null)) : null,
    lastError: typeof lastError === 'string' ? lastError : null,
  };
}

/**
 * The step `<phase>/<step>` of `plan` that a control flag can target: a data step, or a schema step
 * (its data units obey the flag). An unknown phase is a `PhaseNotFoundError`; an unknown step or a verify
 * step an `InvalidArgumentError` naming it and the phase's steps. Pure.
 */
export function findControllableStep(plan: PlanDefinition, target: string): { phase: PhaseDefinition; step: StepDefinition; row: string } {
  const slash = target.indexOf('/');
  if (slash <= 0) throw new InvalidArgumentError('step', `"${target}" is not <phase>/<step>`);
  const phaseName = target.slice(0, slash);
  const stepName = target.slice(slash + 1);
  const phase = plan.phases.find((candidate) => candidate.name === phaseName);
  if (!phase) throw new PhaseNotFoundError(phaseName, plan.phases.map((candidate) => candidate.name));
  const step = phase.steps.find((candidate) => candidate.name === stepName);
  if (!step) throw new InvalidArgumentError('step', `phase "${phase.name}" has no step "${stepName}" (steps: ${phase.steps.map((s) => s.name).join(', ')})`);
  if (step.kind === 'verify') throw new InvalidArgumentError('step', `"${target}" is a verify step; only data steps (and schema steps' data units) run in batches`);
  return { phase, step, row: stepRowName(phase, step) };
}

/** Why a running step cannot take a pause or a cancel now (what obeys the flag, and what to do instead). */
const NOT_OBEYED =
  'nothing in it reads the flag right now. Only the batch engine (backfill, backfillWith, extractJson, runBatchedTableJob) reads it, between batches, ' +
  'and the runner before each data unit starts; a custom dataStep function, a schema step applying its migration folders, the coverage gate ' +
  'or the step\'s last moments cannot be paused or canceled mid-way (stop the run with Ctrl-C instead, or try again once its batches run)';

/**
 * Pauses, resumes or cancels step `target` (`<phase>/<step>`) of a run going on in any process: sets or
 * clears its flag in `_evolve.step_control`, which the step's workers read between batches (within about
 * 250 ms, after the batch in flight). Creates the tracking and control tables if missing (idempotent).
 * Writes nothing else: no status changes here (a cancelled step becomes `pending`, then `failed` by its
 * runner, when its workers stop).
 *
 * Refused (`InvalidArgumentError` naming the step and why), so that an accepted action is always obeyed:
 * - a cancel of a step that is not running, or a pause of a completed step;
 * - a pause or cancel of a running step that nothing obeys right now: no batch-engine worker (nor the
 *   runner holding a data unit) has read its flag within the last 10 s (see `isStepControlObeyed`). A
 *   pause is still accepted when no run holds the runner lease (the step was left `running` by a run
 *   that is gone; the next run obeys it).
 * A pause of a step that has not started is accepted: the runner holds it before its first data unit
 * (whatever the unit runs), and the batch engine at its first batch. `resume` clears a pause, and also a
 * cancel when the step is not running or nothing obeys it (a stale cancel nothing would consume).
 * Returns the flag set afterwards.
 */
export async function controlPlanStep(
  plan: PlanDefinition,
  databaseUrl: string,
  target: string,
  action: ControlAction | 'resume',
  requestedBy: string,
): Promise<{ step: string; row: string; control: ControlAction | null }> {
  const { row } = findControllableStep(plan, target);
  const tracking: TrackingLocation = { ...DEFAULT_TRACKING, ...plan.tracking };
  return withClient(databaseUrl, async (client) => {
    const store = new DataMigrationStore(tracking);
    await store.ensure(client, stepControlDdl(tracking.stateSchema));
    const status = (await store.get(client, row))?.status ?? 'pending';
    const obeyed = status === 'running' && (await isStepControlObeyed(client, tracking.stateSchema, row));
    if (action === 'cancel' && status !== 'running') throw new InvalidArgumentError('step', `step "${target}" is ${status}, not running: nothing to cancel`);
    if (action === 'pause' && status === 'completed') throw new InvalidArgumentError('step', `step "${target}" is completed: nothing to pause`);
    // A step left `running` by a run that is gone (no runner lease) is not running: a pause then waits for the next run.
    const orphaned = status === 'running' && !obeyed && action === 'pause' && (await leaseHolder(client)) === undefined;
    if (action !== 'resume' && status === 'running' && !obeyed && !orphaned) {
      throw new InvalidArgumentError('step', `step "${target}" is running, but ${NOT_OBEYED}; its ${action} was not recorded`);
    }
    const control = await setStepControl(client, tracking.stateSchema, row, action, requestedBy, { clearCancel: !obeyed });
    return { step: target, row, control: control ?? null };
  });
}
