import type { CatalogSnapshot } from '../db/catalog-snapshot.js';
import type { PlannedUnit, SqlUnit } from '../operations/operation.js';

/** A down unit as recorded: SQL units whole; data units (functions) by name, found again in the step's plan. */
export type RecordedDownUnit = SqlUnit | { readonly kind: 'data'; readonly name: string };

/**
 * What a schema step executed, written to its tracking row (`rollbackData`) when it first starts, before
 * any of its folders is applied: the catalog it was planned against, the folders it applies, and the exact
 * down units that undo it. A rollback runs those recorded units; it never re-plans a step from the plan as
 * it reads now (which the user may have edited, or into which a step may have been inserted).
 */
export interface StepRecord {
  readonly version: 2;
  readonly catalog: CatalogSnapshot;
  readonly folders: readonly string[];
  readonly down: readonly RecordedDownUnit[];
}

/** The record of a step about to run. Pure. */
export function stepRecord(catalog: CatalogSnapshot, folders: readonly string[], down: readonly PlannedUnit[]): StepRecord {
  return {
    version: 2,
    catalog,
    folders,
    down: down.map((unit) => (unit.kind === 'sql' ? { kind: 'sql', name: unit.name, transactional: unit.transactional, statements: unit.statements, ...(unit.buildsIndex ? { buildsIndex: unit.buildsIndex } : {}) } : { kind: 'data', name: unit.name })),
  };
}

/** Reads a step's `rollbackData` as its {@link StepRecord}; `undefined` when the step has none (it never got past its precheck). Pure. */
export function readStepRecord(data: unknown): StepRecord | undefined {
  return typeof data === 'object' && data !== null && (data as { version?: unknown }).version === 2 ? (data as StepRecord) : undefined;
}
