import type pg from 'pg';
import { withClient } from '../db/with-client.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../db/retry-policy.js';
import { quoteQualified } from '../sql.js';
import { USER_TABLES } from '../analyze/check-support.js';
import type { TableName } from './phase-tables.js';

/**
 * `optimize`: `ANALYZE` of tables (those a phase touched, or all of the application's) and `REINDEX INDEX
 * CONCURRENTLY` of invalid indexes. Each statement runs on its own, outside any transaction, under
 * `lock_timeout`: ANALYZE takes SHARE UPDATE EXCLUSIVE (reads and writes go on; DDL and VACUUM wait), REINDEX
 * CONCURRENTLY takes SHARE UPDATE EXCLUSIVE and builds the new index while writes go on. A statement that fails
 * is reported with its reason and the others still run. Idempotent: running it again analyzes again and finds
 * no invalid index left.
 */

/** What `optimize` did to one object. */
export interface OptimizeAction {
  readonly action: 'analyze' | 'reindex';
  /** `schema.table` or `schema.index`. */
  readonly object: string;
  readonly ok: boolean;
  readonly message: string;
}

/** What `optimize` did (`optimize --json`'s object, with `phase`). */
export interface OptimizeResult {
  readonly phase: string | null;
  readonly actions: readonly OptimizeAction[];
}

/** The application's tables (not PostgreSQL's, not the toolkit's, not `_prisma_migrations`). Read-only. */
export async function applicationTables(client: pg.ClientBase): Promise<TableName[]> {
  const { rows } = await client.query<TableName>(
    `select n.nspname::text as schema, c.relname::text as table from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${USER_TABLES} order by 1, 2`,
  );
  return rows;
}

/** Invalid indexes of application tables (partitioned parents' indexes left out: they are valid once every partition's is). Read-only. */
async function invalidIndexes(client: pg.ClientBase): Promise<{ schema: string; table: string; name: string }[]> {
  const { rows } = await client.query<{ schema: string; table: string; name: string }>(
    `select n.nspname::text as schema, c.relname::text as table, ic.relname::text as name
     from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
     where not i.indisvalid and ic.relkind <> 'I' and ${USER_TABLES} order by 1, 2, 3`,
  );
  return rows;
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** `ANALYZE` of one table under lock_timeout, outside a transaction. */
async function analyzeTable(client: pg.ClientBase, table: TableName): Promise<OptimizeAction> {
  const object = `${table.schema}.${table.table}`;
  try {
    await client.query(`ANALYZE ${quoteQualified(table.schema, table.table)}`);
    return { action: 'analyze', object, ok: true, message: `analyzed "${table.table}"` };
  } catch (error) {
    return { action: 'analyze', object, ok: false, message: `ANALYZE of "${table.table}" failed: ${reason(error)}` };
  }
}

/**
 * `REINDEX INDEX CONCURRENTLY` of one invalid index, outside a transaction. A failed rebuild (duplicates still
 * there for a unique index, a lock not granted in time) leaves a transient `<name>_ccnew` index INVALID:
 * it is dropped (`DROP INDEX CONCURRENTLY`) so the failure leaves nothing behind. `_ccnew`/`_ccold` indexes left by
 * someone else's interrupted REINDEX are reported, not rebuilt (PostgreSQL's advice: drop them).
 */
async function reindex(client: pg.ClientBase, index: { schema: string; table: string; name: string }, before: ReadonlySet<string>): Promise<OptimizeAction> {
  const object = `${index.schema}.${index.name}`;
  if (/_cc(new|old)\d*$/.test(index.name)) {
    return { action: 'reindex', object, ok: false, message: `index "${index.name}" on "${index.table}" was left by an interrupted REINDEX CONCURRENTLY: drop it (DROP INDEX CONCURRENTLY ${quoteQualified(index.schema, index.name)})` };
  }
  try {
    await client.query(`REINDEX INDEX CONCURRENTLY ${quoteQualified(index.schema, index.name)}`);
    return { action: 'reindex', object, ok: true, message: `rebuilt invalid index "${index.name}" on "${index.table}": it is valid now` };
  } catch (error) {
    // PostgreSQL names the transient index `<name>_ccnew[N]`, cutting `<name>` so the whole fits 63 bytes: it is
    // found as a new invalid `_ccnew` index of the same table.
    const leftovers = (await invalidIndexes(client)).filter((i) => i.schema === index.schema && i.table === index.table && /_ccnew\d*$/.test(i.name) && !before.has(`${i.schema}.${i.name}`));
    for (const leftover of leftovers) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${quoteQualified(leftover.schema, leftover.name)}`).catch(() => undefined);
    return { action: 'reindex', object, ok: false, message: `REINDEX INDEX CONCURRENTLY of "${index.name}" on "${index.table}" failed, the index stays invalid: ${reason(error)}` };
  }
}

/**
 * ANALYZEs `tables` (default: every application table) and rebuilds the invalid indexes of those tables (default:
 * every invalid index) with `REINDEX INDEX CONCURRENTLY`, one statement at a time outside any transaction, each under `lockTimeoutMs`
 * (default {@link DEFAULT_LOCK_TIMEOUT_MS}) and no statement timeout (a rebuild scans its table). `onAction`
 * gets each result as it happens. Never throws for one object's failure: it is in the result.
 */
export async function optimizeDatabase(options: {
  databaseUrl: string;
  tables?: readonly TableName[];
  phase?: string;
  lockTimeoutMs?: number;
  onAction?: (action: OptimizeAction) => void | Promise<void>;
}): Promise<OptimizeResult> {
  return withClient(options.databaseUrl, async (client) => {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS))}; SET statement_timeout = 0`);
    const actions: OptimizeAction[] = [];
    const record = async (action: OptimizeAction): Promise<void> => {
      actions.push(action);
      await options.onAction?.(action);
    };
    for (const table of options.tables ?? (await applicationTables(client))) await record(await analyzeTable(client, table));
    const wanted = options.tables ? new Set(options.tables.map((t) => `${t.schema}.${t.table}`)) : undefined;
    const invalid = await invalidIndexes(client);
    const before = new Set(invalid.map((i) => `${i.schema}.${i.name}`));
    for (const index of invalid.filter((i) => !wanted || wanted.has(`${i.schema}.${i.table}`))) await record(await reindex(client, index, before));
    return { phase: options.phase ?? null, actions };
  });
}
