import { readTableInfo, relationExists, type TableInfo } from '../db/table-catalog.js';
import { withClient } from '../db/with-client.js';
import { NoUsableKeyError } from '../errors.js';
import { runBatchedStatement } from '../operations/batched-statement.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { DataMigrationStore, DEFAULT_TRACKING, type TrackingLocation } from '../tracking/data-migration-store.js';
import { DEAD_LETTER_TABLE, OWNED_ROWS_TABLE, type ExtractSpec } from './extract-json.js';

/**
 * Removes what an extraction wrote: the child rows its ledger records (for parents matching
 * `source.where` when given; never rows the application wrote itself, even for the same parents), in
 * batches of short transactions, then the dead letters and checkpoints of `name`, and resets its tracking
 * row so the extraction can run again. Idempotent. Returns the number of recorded rows removed (rows the
 * application had deleted already count too).
 */
export async function undoExtraction(options: { database: string; name: string; spec: ExtractSpec; tracking?: Partial<TrackingLocation>; signal?: AbortSignal }): Promise<number> {
  const tracking = { ...DEFAULT_TRACKING, ...options.tracking };
  const sourceSchema = options.spec.source.schema ?? 'public';
  const owned = quoteQualified(tracking.stateSchema, OWNED_ROWS_TABLE);
  const result = await withClient(options.database, async (client) => {
    const source = await readTableInfo(client, sourceSchema, options.spec.source.table);
    const target = await readTableInfo(client, options.spec.target.schema ?? sourceSchema, options.spec.target.table);
    return { source, target, ledger: await relationExists(client, owned) };
  });
  const deleted = result.ledger ? await removeOwnedRows(options, owned, result) : 0;
  await withClient(options.database, async (client) => {
    await client.query(`delete from ${quoteQualified(tracking.stateSchema, DEAD_LETTER_TABLE)} where migration = $1`, [options.name]).catch(() => undefined);
    await client.query(`delete from ${quoteQualified(tracking.stateSchema, 'backfill_state')} where migration = $1`, [options.name]).catch(() => undefined);
    // A later extractJson of the same name must run again, not report "already completed".
    await new DataMigrationStore(tracking).reset(client, options.name).catch(() => undefined);
  });
  return deleted;
}

/** Deletes, in batches, the child rows the ledger records for `options.name` (restricted by `source.where`). */
async function removeOwnedRows(
  options: { database: string; name: string; spec: ExtractSpec; signal?: AbortSignal },
  owned: string,
  result: { source: TableInfo; target: TableInfo },
): Promise<number> {
  const targetKey = result.target.primaryKey[0];
  if (result.target.primaryKey.length !== 1 || !targetKey) throw new NoUsableKeyError(result.target.qualified, 'undoExtraction needs the single-column primary key the extraction recorded rows by');
  const keyType = result.target.columns.get(targetKey)?.type ?? 'text';
  const parents = options.spec.source.where
    ? ` and x.parent_key in (select t.${quoteIdent(result.source.primaryKey[0] ?? 'id')}::text from ${result.source.qualified} t where ${options.spec.source.where})`
    : '';
  const deleted = await runBatchedStatement(
    options.database,
    options.name,
    result.target.qualified,
    `with gone as (delete from ${owned} o where o.ctid in (select x.ctid from ${owned} x where x.migration = ${quoteLiteral(options.name)}${parents} limit 5000) returning o.row_key),
          removed as (delete from ${result.target.qualified} c where c.${quoteIdent(targetKey)} = any(array(select row_key::${keyType} from gone)) returning 1)
     select row_key from gone`,
    { timeouts: { lockMs: 2_000, statementMs: 60_000 }, ...(options.signal ? { signal: options.signal } : {}) },
  );
  return deleted.rows;
}
