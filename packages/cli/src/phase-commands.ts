import type { PhaseCheck, PhaseReport, StepPlan } from '@prisma-evolve/core';

/** The `status`/`run`/`rollback --json` object. */
export interface PhasesReport {
  readonly phases: readonly PhaseReport[];
}

/** The `verify --json` object. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly checks: readonly PhaseCheck[];
}

/** Renders phases as the table the CLI prints. Pure. */
export function renderPhases(phases: readonly PhaseReport[]): string {
  if (phases.length === 0) return 'no phases';
  const width = Math.max(...phases.map((phase) => phase.name.length));
  return phases
    .map((phase) => {
      const records = phase.processedRecords || phase.failedRecords ? `  ${phase.processedRecords} processed, ${phase.failedRecords} failed` : '';
      const deps = phase.dependsOn.length > 0 ? `  (after ${phase.dependsOn.join(', ')})` : '';
      return `${phase.name.padEnd(width)}  ${phase.status.padEnd(11)}${records}${deps}`;
    })
    .join('\n');
}

/** Renders a phase plan: steps, folders, SQL with lock levels, and precheck findings. Pure. */
export function renderPlan(phase: string, steps: readonly StepPlan[]): string {
  const lines = [`phase "${phase}"`];
  for (const step of steps) {
    lines.push(`\n[${step.status}] ${step.kind} step "${step.name}": ${step.description}`);
    if (step.deferred) lines.push('  planned when it runs (it uses objects an earlier step creates)');
    for (const unit of step.units) {
      if (unit.kind === 'data') {
        lines.push(`  data: ${unit.description} (batched, resumable)`);
        continue;
      }
      lines.push(`  folder ${unit.folder} (${unit.transactional ? 'one transaction' : 'no transaction'})`);
      for (const statement of unit.statements) {
        lines.push(`    -- lock: ${statement.lock ?? 'none on existing tables'}${statement.scansData ? ', scans rows' : ''}`);
        lines.push(...statement.sql.split('\n').map((line) => `    ${line}`));
      }
    }
    for (const check of step.prechecks) lines.push(`  precheck ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  }
  return lines.join('\n');
}

/** Renders verify checks. Pure. */
export function renderChecks(report: VerifyReport): string {
  if (report.checks.length === 0) return 'nothing to verify (no completed phase)';
  return [...report.checks.map((check) => `${check.ok ? 'ok  ' : 'FAIL'} ${check.phase}: ${check.name} (${check.detail})`), report.ok ? 'all checks passed' : 'verification failed'].join('\n');
}
