import {
  controlPlanStep,
  DEFAULT_TRACKING,
  leaseHolder,
  parseConnectionTarget,
  readBatchHistory,
  readDeadLetters,
  type ControlAction,
  type PhaseCheck,
  type PlanDefinition,
  type StepDefinition,
} from '@prisma-evolve/core';
import type pg from 'pg';
import type { StatusReport } from '../status-command.js';

/** Runs `work` on a connection of the server's shared pool. */
export type WithDb = <T>(work: (client: pg.ClientBase) => Promise<T>) => Promise<T>;

/** What the dashboard reads from: a database, the plan (if any), and the `status --json` report. */
export interface DashboardSource {
  readonly databaseUrl: string;
  readonly plan: PlanDefinition | undefined;
  /** Exactly the object `status --json` prints. Read-only. */
  status(): Promise<StatusReport>;
  /** Post-conditions of every completed phase (`verify --all`). Read-only. */
  verify(): Promise<readonly PhaseCheck[]>;
}

/** A step of the plan as `GET /api/plan` describes it. */
interface PlanStepView {
  readonly name: string;
  readonly kind: StepDefinition['kind'];
  readonly description: string;
}

/** `GET /api/plan`: the plan's graph (phases, dependencies, steps) and where the dashboard is connected. Read-only, no database access. */
export function planView(source: DashboardSource, allowActions: boolean): Record<string, unknown> {
  const target = parseConnectionTarget(source.databaseUrl);
  return {
    name: source.plan?.name ?? null,
    database: `${target.database} on ${target.host}:${target.port} as ${target.user}`,
    allowActions,
    phases: (source.plan?.phases ?? []).map((phase) => ({
      name: phase.name,
      id: phase.id ?? null,
      kind: phase.kind,
      risk: phase.risk,
      description: phase.description,
      dependsOn: phase.dependsOn,
      steps: phase.steps.map((step): PlanStepView => ({ name: step.name, kind: step.kind, description: describeStep(step) })),
    })),
  };
}

function describeStep(step: StepDefinition): string {
  if (step.kind === 'data') return step.description;
  if (step.kind === 'verify') return 'post-conditions';
  try {
    return `${step.stage}: ${step.operation.operation.describe(step.operation.spec)}`;
  } catch {
    return step.stage;
  }
}

/** The tracking row name of `<phase>/<step>`, or undefined when the plan has no such step. Pure. */
export function stepRow(plan: PlanDefinition | undefined, phase: string, step: string): string | undefined {
  const found = plan?.phases.find((candidate) => candidate.name === phase)?.steps.some((candidate) => candidate.name === step);
  return found ? `phase:${phase}/${step}` : undefined;
}

/** `GET /api/steps/<phase>/<step>/batches?after=ID&limit=N`: the step's batch history, oldest first. Read-only. */
export async function batchesView(source: DashboardSource, db: WithDb, row: string, query: URLSearchParams): Promise<Record<string, unknown>> {
  const stateSchema = source.plan?.tracking?.stateSchema ?? DEFAULT_TRACKING.stateSchema;
  const entries = await db((client) =>
    readBatchHistory(client, stateSchema, row, { afterId: numberParam(query, 'after', 0), limit: Math.min(numberParam(query, 'limit', 2_000), 10_000) }),
  );
  return { row, entries };
}

/** `GET /api/dead-letters?step=&offset=&limit=`: a page of dead letters with counts per reason. Read-only. */
export async function deadLettersView(source: DashboardSource, db: WithDb, query: URLSearchParams): Promise<unknown> {
  const stateSchema = source.plan?.tracking?.stateSchema ?? DEFAULT_TRACKING.stateSchema;
  const step = query.get('step') ?? undefined;
  return db((client) =>
    readDeadLetters(client, stateSchema, { ...(step ? { step } : {}), offset: numberParam(query, 'offset', 0), limit: numberParam(query, 'limit', 25) }),
  );
}

/** `GET /api/lease`: who holds the runner lease now (`null` when nobody runs). Read-only. */
export async function leaseView(db: WithDb): Promise<unknown> {
  const holder = await db((client) => leaseHolder(client));
  return { holder: holder ? { ...holder, since: holder.since.toISOString() } : null };
}

/** `GET /api/verify`: the post-conditions of every completed phase. Read-only. */
export async function verifyView(source: DashboardSource): Promise<unknown> {
  const checks = await source.verify();
  return { ok: checks.every((check) => check.ok), checks };
}

/** `POST /api/steps/<phase>/<step>/<action>`: sets or clears the step's control flag (the one write the dashboard makes). */
export async function actionView(source: DashboardSource, target: string, action: ControlAction | 'resume', requestedBy: string): Promise<unknown> {
  if (!source.plan) throw new Error('no plan loaded');
  return controlPlanStep(source.plan, source.databaseUrl, target, action, requestedBy);
}

function numberParam(query: URLSearchParams, name: string, fallback: number): number {
  const value = Number(query.get(name) ?? fallback);
  return Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
}
