import { quoteLiteral } from '../sql.js';
import type { PlannedStatement } from './operation.js';

/**
 * A statement that fails (`RAISE EXCEPTION`) while `unfinished` (a SQL boolean) is true. Contract folders
 * start with it, so a plain `prisma migrate deploy` elsewhere cannot drop data that a data step has
 * not finished copying. On an empty database (a shadow database) the condition is false and it passes.
 * Pure.
 */
export function guardStatement(unfinished: string, message: string): PlannedStatement {
  return {
    sql: `DO $evolve_guard$ BEGIN\n  IF ${unfinished} THEN\n    RAISE EXCEPTION ${quoteLiteral(`prisma-evolve guard: ${message}`)};\n  END IF;\nEND $evolve_guard$`,
    lock: 'ACCESS SHARE',
    scansData: true,
  };
}

/**
 * `statement` run only while `condition` (a SQL boolean over the catalog) holds, as one `DO` block: a down
 * unit that must be safe to run again, or after an expand that stopped half-way (a constraint already back, a
 * table not renamed yet). The statement is passed as a literal, so PostgreSQL plans it only when it runs.
 * Pure.
 */
export function conditionalStatement(condition: string, statement: PlannedStatement): PlannedStatement {
  return { ...statement, sql: `DO $evolve_if$ BEGIN\n  IF ${condition} THEN\n    EXECUTE ${quoteLiteral(statement.sql)};\n  END IF;\nEND $evolve_if$` };
}

/** SQL: constraint `name` exists on table `qualified` (quoted). Pure. */
export function constraintExists(qualified: string, name: string): string {
  return `EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(${quoteLiteral(qualified)}) AND conname = ${quoteLiteral(name)})`;
}
