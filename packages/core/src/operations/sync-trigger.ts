import { toolkitName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { PlannedStatement } from './operation.js';

/** Names of the sync function and trigger of an expand/contract column change. Pure. */
export function syncObjectNames(table: string, column: string): { fn: string; trigger: string } {
  return { fn: toolkitName('fn', table, column), trigger: toolkitName('trg', table, column) };
}

/**
 * The statements creating a `BEFORE INSERT OR UPDATE` row trigger that runs the plpgsql `body` (without
 * BEGIN/END), named after `column`: the function (no lock on existing tables) and the trigger (SHARE ROW
 * EXCLUSIVE, brief). Pure.
 */
export function createSyncTrigger(schema: string, table: string, column: string, body: string): PlannedStatement[] {
  const { fn, trigger } = syncObjectNames(table, column);
  const fnName = quoteQualified(schema, fn);
  return [
    { sql: `CREATE FUNCTION ${fnName}() RETURNS trigger LANGUAGE plpgsql AS $evolve$\nBEGIN\n${body}\n  RETURN NEW;\nEND\n$evolve$`, lock: null, scansData: false },
    {
      sql: `CREATE TRIGGER ${quoteIdent(trigger)} BEFORE INSERT OR UPDATE ON ${quoteQualified(schema, table)} FOR EACH ROW EXECUTE FUNCTION ${fnName}()`,
      lock: 'SHARE ROW EXCLUSIVE',
      scansData: false,
    },
  ];
}

/** The statements dropping what `createSyncTrigger` created (`IF EXISTS`, so partial states undo too). Pure. */
export function dropSyncTrigger(schema: string, table: string, column: string): PlannedStatement[] {
  const { fn, trigger } = syncObjectNames(table, column);
  return [
    { sql: `DROP TRIGGER IF EXISTS ${quoteIdent(trigger)} ON ${quoteQualified(schema, table)}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
    { sql: `DROP FUNCTION IF EXISTS ${quoteQualified(schema, fn)}()`, lock: null, scansData: false },
  ];
}
