import { withClient } from '../db/with-client.js';
import { readTableInfo, requireColumns } from '../db/table-catalog.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';

/** One table merged into the target. */
export interface MergeSource {
  readonly schema?: string;
  readonly table: string;
  /** Target column → SQL expression over the source (alias `t`). */
  readonly select: Readonly<Record<string, string>>;
  readonly where?: string;
}

/** Options of {@link mergeTables}. */
export interface MergeOptions {
  readonly database: string;
  /** A table dedicated to the merge (created by the plan): the merge replaces its content. */
  readonly target: { readonly schema?: string; readonly table: string; readonly columns: readonly string[] };
  readonly sources: readonly MergeSource[];
  /** Target columns whose combination must be unique in the result (`DISTINCT ON`). */
  readonly distinctOn: readonly string[];
  /** Which candidate of one key wins (SQL over target column names and `source_rank`, the source's position). */
  readonly orderBy?: string;
}

/** The reconciliation of a merge: every source row is accounted for. */
export interface MergeReport {
  readonly sources: readonly { readonly table: string; readonly rows: number }[];
  readonly sourceRows: number;
  /** Source rows dropped because an earlier-ranked row had the same key. */
  readonly duplicatesCollapsed: number;
  readonly written: number;
  /** sourceRows − duplicatesCollapsed = written. */
  readonly balanced: boolean;
}

/**
 * Merges several tables into one (seed 000: four junction tables into `teacher_assignments`).
 * - The union of the sources is reduced with `DISTINCT ON (distinctOn) … ORDER BY distinctOn, orderBy`
 *   and written to the target in one transaction that first empties it, so a re-run gives the same result.
 * - Returns a reconciliation that must balance: the count of source rows, how many were collapsed as
 *   duplicates, and how many were written. An unbalanced result rolls back and throws.
 * - Locks: ACCESS SHARE on the sources while they are read; the target, which only the migration uses,
 *   is written under ROW EXCLUSIVE.
 */
export async function mergeTables(options: MergeOptions): Promise<MergeReport> {
  return withClient(options.database, async (client) => {
    const schema = options.target.schema ?? 'public';
    const target = await readTableInfo(client, schema, options.target.table);
    requireColumns(target, [...options.target.columns, ...options.distinctOn], '"target"');
    const columns = options.target.columns.map(quoteIdent);
    const selects: string[] = [];
    for (const [rank, source] of options.sources.entries()) {
      const table = await readTableInfo(client, source.schema ?? schema, source.table);
      const missing = options.target.columns.filter((column) => source.select[column] === undefined);
      if (missing.length > 0) throw new InvalidArgumentError(`sources[${rank}].select`, `${table.qualified} gives no expression for ${missing.map((c) => `"${c}"`).join(', ')}`);
      selects.push(`select ${options.target.columns.map((c) => `(${source.select[c]}) as ${quoteIdent(c)}`).join(', ')}, ${rank} as source_rank from ${table.qualified} t where ${source.where ?? 'true'}`);
    }
    const key = options.distinctOn.map(quoteIdent).join(', ');
    const union = `(${selects.join(' union all ')}) u`;
    // One snapshot for counting and writing, so the reconciliation describes exactly what was merged.
    await client.query('begin isolation level repeatable read');
    try {
      const { rows: counts } = await client.query<{ source_rank: number; n: string }>(`select source_rank, count(*)::text as n from ${union} group by 1 order by 1`);
      await client.query(`delete from ${target.qualified}`);
      const written = await client.query(
        `insert into ${target.qualified} (${columns.join(', ')})
         select ${columns.join(', ')} from (select distinct on (${key}) * from ${union} order by ${key}, ${options.orderBy ?? 'source_rank'}) d`,
      );
      const perSource = options.sources.map((source, rank) => ({
        table: quoteQualified(source.schema ?? schema, source.table),
        rows: Number(counts.find((c) => c.source_rank === rank)?.n ?? 0),
      }));
      const sourceRows = perSource.reduce((sum, s) => sum + s.rows, 0);
      const { rows: distinct } = await client.query<{ n: string }>(`select count(*)::text as n from (select distinct ${key} from ${union}) k`);
      const duplicatesCollapsed = sourceRows - Number(distinct[0]?.n ?? 0);
      const report = { sources: perSource, sourceRows, duplicatesCollapsed, written: written.rowCount ?? 0, balanced: sourceRows - duplicatesCollapsed === (written.rowCount ?? 0) };
      if (!report.balanced) throw new InvalidArgumentError('mergeTables', `the merge does not balance: ${JSON.stringify(report)}`);
      await client.query('commit');
      return report;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  });
}
