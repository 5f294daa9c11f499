import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../sql.js';
import { backfillUnit } from './backfill-unit.js';
import type { Check, DataUnit, PlannedStatement, PlannedUnit } from './operation.js';
import { createSyncTrigger, dropSyncTrigger, syncObjectNames } from './sync-trigger.js';

/**
 * How a rule being added is kept from breaking old code's writes (pgroll's `up`): `column` is set to `up`
 * (SQL over the row's columns) for every row where `broken(alias)` (SQL over the row under `alias`) holds.
 */
export interface RuleRepair {
  readonly schema: string;
  readonly table: string;
  /** The rule's name (its constraint): names the trigger, so two rules on one column do not collide. */
  readonly rule: string;
  readonly column: string;
  readonly up: string;
  /** SQL over the row under `alias` (a write, in the trigger) that is true when it breaks the rule. */
  broken(alias: string): string;
  /** The existing rows to repair, when that differs from `broken` (a duplicate keeps one row of its group). */
  brokenRows?(alias: string): string;
  /** Repair an UPDATE only when it changes one of these columns (a duplicate's first row must stay as it is). */
  readonly changing?: readonly string[];
}

/**
 * The trigger that repairs old code's writes before the rule checks them: BEFORE INSERT OR UPDATE, it sets
 * the column to `up` when the row breaks the rule (its own short transaction; SHARE ROW EXCLUSIVE, brief).
 * Pure.
 */
export function repairTriggerUnit(repair: RuleRepair): PlannedUnit {
  const col = quoteIdent(repair.column);
  const row = 'evolve_row';
  const changed = repair.changing ? `(TG_OP = 'INSERT' OR ${repair.changing.map((c) => `NEW.${quoteIdent(c)} IS DISTINCT FROM OLD.${quoteIdent(c)}`).join(' OR ')}) AND ` : '';
  const body = `  IF ${changed}(SELECT ${repair.broken(row)} FROM (SELECT NEW.*) AS ${row}) THEN\n    NEW.${col} := (SELECT ${repair.up} FROM (SELECT NEW.*) AS ${row});\n  END IF;`;
  return { kind: 'sql', name: `repair_${repair.rule}`, transactional: true, statements: createSyncTrigger(repair.schema, repair.table, repair.rule, body) };
}

/** The existing rows that break the rule, repaired with `up` in batches by the backfill engine (resumable). Pure. */
export function repairRowsUnit(repair: RuleRepair): DataUnit {
  return backfillUnit(`repair_rows_${repair.rule}`, `set "${repair.column}" to ${repair.up} where "${repair.rule}" would not hold`, {
    schema: repair.schema,
    table: repair.table,
    set: { [repair.column]: repair.up },
    where: (repair.brokenRows ?? repair.broken)('t'),
  });
}

/** Dropping the repair trigger and its function (`IF EXISTS`): at contract, and in down. Pure. */
export function dropRepairTrigger(repair: Pick<RuleRepair, 'schema' | 'table' | 'rule'>): PlannedStatement[] {
  return dropSyncTrigger(repair.schema, repair.table, repair.rule);
}

/** Whether the repair trigger is there (expand) or gone (contract); one check. Read-only. */
export async function checkRepairTrigger(client: pg.ClientBase, repair: Pick<RuleRepair, 'schema' | 'table' | 'rule'>, stage: 'expand' | 'contract'): Promise<Check> {
  const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from pg_trigger where tgrelid = $1::regclass and tgname = $2`, [
    quoteQualified(repair.schema, repair.table),
    syncObjectNames(repair.table, repair.rule).trigger,
  ]);
  const present = (rows[0]?.n ?? 0) > 0;
  return { name: `"up" trigger of "${repair.rule}" ${stage === 'expand' ? 'present' : 'removed'}`, ok: present === (stage === 'expand'), detail: present ? 'present' : 'absent' };
}
