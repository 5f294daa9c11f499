import type pg from 'pg';
import { withClient } from '../db/with-client.js';
import { quoteIdent } from '../sql.js';
import type { CopyPlan } from './copy-spec.js';
import { COPY_SCHEMA, ensureCopyStore } from './copy-store.js';

/** A sequence set past the copied maximum. */
export interface SequenceSet {
  readonly table: string;
  readonly column: string;
  readonly sequence: string;
  /** The next value the sequence gives. */
  readonly next: number;
}

/**
 * Sets every sequence owned by a column of the copy's target tables (serial and identity alike, found in the
 * catalog, not guessed from names) so its next value is past the column's maximum, never below a value it has
 * already given. Idempotent; takes no lock beyond reading the tables' maxima.
 */
export async function setSequencesPastMaxima(target: pg.ClientBase, plan: CopyPlan): Promise<SequenceSet[]> {
  const tables = [...new Set(plan.tables.map((t) => `${quoteIdent(t.schema)}.${quoteIdent(t.targetTable)}`))];
  const { rows } = await target.query<{ table: string; column: string; sequence: string }>(
    `select d.refobjid::regclass::text as table, a.attname::text as column, d.objid::regclass::text as sequence
     from pg_depend d join pg_class s on s.oid = d.objid and s.relkind = 'S'
     join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
     where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i') and d.refobjid = any($1::regclass[])
     order by 1, 2`,
    [tables],
  );
  const set: SequenceSet[] = [];
  for (const row of rows) {
    const { rows: result } = await target.query<{ next: string }>(
      `with m as (select greatest(max(${quoteIdent(row.column)})::bigint, (select s.last_value from pg_sequences s where format('%I.%I', s.schemaname, s.sequencename)::regclass = $1::regclass)) as top from ${row.table})
       select setval($1::regclass, coalesce(top, 1), top is not null) + case when top is null then 0 else 1 end as next from m`,
      [row.sequence],
    );
    set.push({ ...row, next: Number(result[0]?.next ?? 1) });
  }
  return set;
}

/** The source database's read-only window: its state before and after. */
export interface ReadOnlyWindow {
  readonly database: string;
  readonly readOnly: boolean;
  /** The database's own `default_transaction_read_only` setting before the window opened (undefined: none). */
  readonly previous: string | undefined;
}

/** The source database's name and its database-level `default_transaction_read_only`, if set. Read-only. */
async function readOnlySetting(source: pg.ClientBase): Promise<{ database: string; value: string | undefined }> {
  const { rows } = await source.query<{ database: string; value: string | null }>(
    `select current_database()::text as database,
            (select split_part(c, '=', 2) from pg_db_role_setting s, unnest(s.setconfig) c
             where s.setdatabase = (select oid from pg_database where datname = current_database()) and s.setrole = 0 and c like 'default_transaction_read_only=%') as value`,
  );
  return { database: rows[0]?.database as string, value: rows[0]?.value ?? undefined };
}

/**
 * Opens (`readOnly: true`) or closes the source's read-only window: `ALTER DATABASE … SET
 * default_transaction_read_only = on`, with the previous setting recorded in the target's tracker, and on close
 * exactly that setting restored (RESET when there was none). New sessions see it; open sessions keep theirs, so
 * restart or drain the application's connections. Idempotent both ways.
 */
export async function setSourceReadOnly(plan: CopyPlan, options: { sourceUrl: string; targetUrl: string; readOnly: boolean }): Promise<ReadOnlyWindow> {
  return withClient(options.targetUrl, async (target) => {
    await ensureCopyStore(target);
    return withClient(options.sourceUrl, async (source) => {
      const { database, value } = await readOnlySetting(source);
      const stored = await target.query<{ value: { previous: string | null } }>(`select value from ${COPY_SCHEMA}.copy_setting where copy = $1 and name = 'source_read_only'`, [plan.name]);
      const recorded = stored.rows[0]?.value;
      if (options.readOnly) {
        if (!recorded) await target.query(`insert into ${COPY_SCHEMA}.copy_setting (copy, name, value) values ($1, 'source_read_only', $2)`, [plan.name, JSON.stringify({ previous: value ?? null })]);
        await source.query(`alter database ${quoteIdent(database)} set default_transaction_read_only = on`);
        return { database, readOnly: true, previous: recorded ? (recorded.previous ?? undefined) : value };
      }
      if (!recorded) return { database, readOnly: value === 'on', previous: value };
      const previous = recorded.previous ?? undefined;
      // A session of a read-only database must lift the default for itself before it may change it.
      await source.query('set default_transaction_read_only = off');
      await source.query(previous === undefined ? `alter database ${quoteIdent(database)} reset default_transaction_read_only` : `alter database ${quoteIdent(database)} set default_transaction_read_only = ${previous === 'on' ? 'on' : 'off'}`);
      await target.query(`delete from ${COPY_SCHEMA}.copy_setting where copy = $1 and name = 'source_read_only'`, [plan.name]);
      return { database, readOnly: previous === 'on', previous };
    });
  });
}
