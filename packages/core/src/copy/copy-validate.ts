import pg from 'pg';
import { withClient } from '../db/with-client.js';
import { quoteIdent, quoteLiteral } from '../sql.js';
import { COPY_SESSION, stageRange } from './copy-batch.js';
import { isRowProblem, rejectionMessage } from './copy-insert.js';
import { planEntry, readTargetColumns, type EntryPlan, type TargetColumns } from './copy-planner.js';
import type { CopyPlan } from './copy-spec.js';
import { COPY_SCHEMA, readRanges, readTotals } from './copy-store.js';
import { pendingDeferred } from './copy-deferred.js';

/** One validation check (the CLI's `validation.checks[]`). */
export interface CopyCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The validation of a copy: ok only when every check is. */
export interface CopyValidation {
  readonly ok: boolean;
  readonly checks: readonly CopyCheck[];
}

/** Source rows now = copied + dead letters + collapsed, each figure shown; and the target table holds the copied rows. */
async function countChecks(plan: CopyPlan, entries: readonly EntryPlan[], source: pg.ClientBase, target: pg.ClientBase): Promise<CopyCheck[]> {
  const checks: CopyCheck[] = [];
  const copiedByTable = new Map<string, number>();
  for (const entry of entries) {
    const totals = await readTotals(target, plan.name, entry.table.entry);
    const sourceRows = Number((await source.query<{ rows: string }>(entry.countQuery)).rows[0]?.rows ?? 0);
    const accounted = totals.inserted + totals.dead + totals.collapsed;
    checks.push({
      name: `count ${entry.table.entry}`,
      ok: sourceRows === accounted && totals.rangesDone === totals.ranges && totals.ranges > 0,
      detail: `source ${sourceRows} ${sourceRows === accounted ? '=' : '≠'} copied ${totals.inserted} + dead letters ${totals.dead} + collapsed ${totals.collapsed}${totals.rangesDone === totals.ranges ? '' : `; ${totals.ranges - totals.rangesDone} of ${totals.ranges} ranges not copied`}`,
    });
    copiedByTable.set(entry.targetQualified, (copiedByTable.get(entry.targetQualified) ?? 0) + totals.inserted);
  }
  for (const [table, copied] of copiedByTable) {
    const rows = Number((await target.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]?.n ?? 0);
    checks.push({ name: `rows ${table}`, ok: rows === copied, detail: `${rows} rows in the target, ${copied} copied${rows === copied ? '' : ` (${rows - copied > 0 ? 'rows the copy did not write' : 'copied rows missing'})`}` });
  }
  return checks;
}

/** Orphans of every foreign key of the target tables (rows whose reference has no parent: zero when the key is enforced and valid). */
async function orphanChecks(entries: readonly EntryPlan[], target: pg.ClientBase): Promise<CopyCheck[]> {
  const tables = [...new Set(entries.map((e) => e.targetQualified))];
  const { rows } = await target.query<{ name: string; child: string; parent: string; child_cols: string[]; parent_cols: string[] }>(
    `select k.conname::text as name, k.conrelid::regclass::text as child, k.confrelid::regclass::text as parent,
            array(select a.attname::text from unnest(k.conkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i) as child_cols,
            array(select a.attname::text from unnest(k.confkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n order by u.i) as parent_cols
     from pg_constraint k where k.contype = 'f' and k.conparentid = 0 and k.conrelid = any($1::regclass[])`,
    [tables],
  );
  const checks: CopyCheck[] = [];
  for (const fk of rows) {
    const match = fk.child_cols.map((c, i) => `p.${quoteIdent(fk.parent_cols[i] as string)} = c.${quoteIdent(c)}`).join(' and ');
    const present = fk.child_cols.map((c) => `c.${quoteIdent(c)} is not null`).join(' and ');
    const n = Number((await target.query<{ n: string }>(`select count(*) as n from ${fk.child} c where ${present} and not exists (select 1 from ${fk.parent} p where ${match})`)).rows[0]?.n ?? 0);
    checks.push({ name: `orphans ${fk.child}.${fk.name}`, ok: n === 0, detail: `${n} rows of ${fk.child} refer to no row of ${fk.parent}` });
  }
  return checks;
}

/**
 * Content, range by range: the source rows of each range are streamed again into the staging table and
 * compared column by column (cast to the target types; references through the id map) with the target row
 * of the same id. A difference names the range and up to three keys.
 */
async function contentCheck(plan: CopyPlan, entry: EntryPlan, sourceUrl: string, target: pg.ClientBase): Promise<CopyCheck> {
  const table = entry.table;
  if (table.id === false) return { name: `content ${table.entry}`, ok: true, detail: 'no id column (id: false): rows are counted, not compared' };
  const stage = quoteIdent(entry.stage);
  const id = quoteIdent(table.id.column);
  const differs = [
    ...entry.columns.map((c) =>
      c.refEntry
        ? `t.${quoteIdent(c.target)}::text is distinct from ((select m.new_id from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = ${quoteLiteral(c.refEntry)} and m.old_key = st.${c.stage})::${c.type})::text`
        : // Compared as text, in the column's own type: json, xml and point have no equality operator.
          `t.${quoteIdent(c.target)}::text is distinct from (st.${c.stage}::${c.type})::text`,
    ),
  ];
  const newId = table.id.generate === 'keep' && !entry.idMap ? 'st.__key' : `(select m.new_id from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = st.__key)`;
  // Dead letters and collapsed duplicates (in the id map, not survivors) were not copied as rows of their own; any other row must be.
  const compared = `not exists (select 1 from ${COPY_SCHEMA}.copy_dead_letter d where d.copy = $1 and d.entry = $2 and d.source_key = st.__key)
    and not (st.__dedupe is not null
      and exists (select 1 from ${COPY_SCHEMA}.id_map m where m.copy = $1 and m.entry = $2 and m.old_key = st.__key)
      and not exists (select 1 from ${COPY_SCHEMA}.copy_survivor sv where sv.copy = $1 and sv.entry = $2 and sv.old_key = st.__key))`;
  const sql = `select st.__key as key from ${stage} st left join ${entry.targetQualified} t on t.${id} = (${newId})::${entry.idType}
    where ${compared} and (t.${id} is null${differs.length ? ` or ${differs.join(' or ')}` : ''}) order by st.__seq limit 3`;
  const ranges = await readRanges(target, plan.name, table.entry);
  const source = new pg.Client({ connectionString: sourceUrl, application_name: 'prisma-evolve copy validate' });
  await source.connect();
  const bad: string[] = [];
  try {
    await source.query(COPY_SESSION);
    await target.query(entry.stageDdl);
    for (const range of ranges) {
      await target.query('begin');
      try {
        await stageRange(entry, source, target, range, false);
        const { rows } = await target.query<{ key: string }>(sql, [plan.name, table.entry]);
        if (rows.length) bad.push(`range ${range.rangeNo} (${range.lo ?? '−∞'}, ${range.hi ?? '+∞'}]: keys ${rows.map((r) => r.key).join(', ')}`);
      } catch (error) {
        // A source value that no longer converts to its column's type (changed since the copy) is a difference too.
        if (!isRowProblem(error)) throw error;
        bad.push(`range ${range.rangeNo} (${range.lo ?? '−∞'}, ${range.hi ?? '+∞'}]: a source value does not convert to its column (${rejectionMessage(error)})`);
      } finally {
        await target.query('rollback');
      }
    }
  } finally {
    await source.end().catch(() => undefined);
  }
  return { name: `content ${table.entry}`, ok: bad.length === 0, detail: bad.length ? `differs or missing in ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more ranges` : ''}` : `${ranges.length} ranges equal` };
}

/**
 * Validates a copy against the source as it is now: counts through the tracker (source = copied + dead
 * letters + collapsed), target row counts, orphans of every target foreign key, catch-up's open conflicts,
 * deferred references still waiting for their second pass, and the content of every
 * range compared row by row. Read-only on both databases (staging rows are rolled back). Loud: `ok` is false
 * on any difference, and each check's detail gives the figures.
 */
export async function validateCopy(plan: CopyPlan, options: { sourceUrl: string; targetUrl: string; entries?: readonly string[] }): Promise<CopyValidation> {
  return withClient(options.targetUrl, async (target) => {
    const columns = await readTargetColumns(target, plan);
    const entries = plan.tables.filter((t) => !options.entries || options.entries.includes(t.entry)).map((t) => planEntry(plan, t, columns.get(`${t.schema}.${t.targetTable}`) as TargetColumns));
    const counts = await withClient(options.sourceUrl, (source) => countChecks(plan, entries, source, target));
    const checks: CopyCheck[] = [...counts, ...(await orphanChecks(entries, target))];
    for (const entry of entries) {
      const { rows: open } = await target.query<{ n: number; sample: string[] | null }>(
        `select count(*)::int as n, (array_agg(source_key || ': ' || reason order by source_key))[1:3] as sample from ${COPY_SCHEMA}.copy_conflict where copy = $1 and entry = $2`,
        [plan.name, entry.table.entry],
      );
      const conflicts = open[0]?.n ?? 0;
      if (conflicts > 0) checks.push({ name: `conflicts ${entry.table.entry}`, ok: false, detail: `${conflicts} source rows catch-up could not apply to their copied row: ${(open[0]?.sample ?? []).join('; ')}${conflicts > 3 ? '; …' : ''}` });
      for (const waiting of await pendingDeferred(target, entry)) {
        checks.push({
          name: `deferred ${entry.table.entry}.${waiting.column}`,
          ok: waiting.rows === 0,
          detail: waiting.rows === 0 ? 'every deferred reference set' : `${waiting.rows} rows still wait for their ${waiting.column} (old keys ${waiting.sample.join(', ')}${waiting.rows > 3 ? ', …' : ''}): no copied row has that key, or the second pass has not run (copy run)`,
        });
      }
    }
    for (const entry of entries) checks.push(await contentCheck(plan, entry, options.sourceUrl, target));
    return { ok: checks.every((c) => c.ok), checks };
  });
}
