import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { touchedObjects } from '../db/catalog-model.js';
import { readStepRecord } from '../phases/step-record.js';
import type { PhaseDefinition } from '../phases/define-plan.js';
import { stepRowName } from '../phases/row-names.js';
import { quoteQualified } from '../sql.js';
import { DataMigrationStore, type TrackingLocation } from '../tracking/data-migration-store.js';

/** A table, by schema and name. */
export interface TableName {
  readonly schema: string;
  readonly table: string;
}

const QUOTED = '"((?:[^"]|"")*)"';
const ON_TABLE = new RegExp(`^(?:table|column|constraint):${QUOTED}\\.${QUOTED}`);
const INDEX = new RegExp(`^index:${QUOTED}\\.(.+)$`);
const unquote = (text: string): string => text.replace(/""/g, '"');

/**
 * The migration folders the schema steps of `phase` recorded when they ran (their tracking rows' step records),
 * in step order; folders whose `migration.sql` is not in `migrationsDir` are returned as `missing`. Read-only.
 */
export async function phaseFolders(client: pg.ClientBase, options: { tracking: TrackingLocation; phase: PhaseDefinition; migrationsDir: string }): Promise<{ sql: string[]; missing: string[] }> {
  const store = new DataMigrationStore(options.tracking);
  const sql: string[] = [];
  const missing: string[] = [];
  for (const step of options.phase.steps) {
    if (step.kind !== 'schema') continue;
    const record = readStepRecord((await store.get(client, stepRowName(options.phase, step)))?.rollbackData);
    for (const folder of record?.folders ?? []) {
      const file = path.join(options.migrationsDir, folder, 'migration.sql');
      if (existsSync(file)) sql.push(await readFile(file, 'utf8'));
      else missing.push(folder);
    }
  }
  return { sql, missing };
}

/**
 * The tables a phase's schema steps touched: the tables its recorded folders' SQL creates, alters, renames or
 * indexes (from PostgreSQL's parse tree, the one reading `verify` uses), that still exist as tables, sorted.
 * An index is resolved to its table through the catalog. Data steps name no table of theirs and are not
 * counted. Read-only.
 */
export async function phaseTables(client: pg.ClientBase, options: { tracking: TrackingLocation; phase: PhaseDefinition; migrationsDir: string }): Promise<{ tables: TableName[]; missing: string[] }> {
  const { sql, missing } = await phaseFolders(client, options);
  const candidates = new Set<string>();
  const indexes: string[] = [];
  for (const object of await touchedObjects(sql)) {
    const table = ON_TABLE.exec(object);
    if (table) candidates.add(quoteQualified(unquote(table[1] as string), unquote(table[2] as string)));
    const index = INDEX.exec(object);
    if (index) indexes.push(quoteQualified(unquote(index[1] as string), index[2] as string));
  }
  const { rows } = await client.query<{ schema: string; table: string }>(
    `select distinct n.nspname::text as schema, c.relname::text as table
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'm') and (c.oid = any (select to_regclass(x) from unnest($1::text[]) x)
        or c.oid = any (select i.indrelid from pg_index i where i.indexrelid = any (select to_regclass(x) from unnest($2::text[]) x)))
     order by 1, 2`,
    [[...candidates], indexes],
  );
  return { tables: rows, missing };
}
