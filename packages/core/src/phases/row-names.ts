import type { PhaseDefinition, StepDefinition } from './define-plan.js';

/** Tracking name of a phase. Pure. */
export function phaseRowName(phase: string): string {
  return `phase:${phase}`;
}

/**
 * Tracking name of a step of a phase: `phase:<phase>/<step>`. A step is known by its name (unique within its
 * phase), never by its position, so inserting a step before it in the plan does not change which row, checkpoints
 * and record are its own. Pure.
 */
export function stepRowName(phase: PhaseDefinition, step: StepDefinition): string {
  return `${phaseRowName(phase.name)}/${step.name}`;
}
