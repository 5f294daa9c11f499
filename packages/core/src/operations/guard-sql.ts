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
