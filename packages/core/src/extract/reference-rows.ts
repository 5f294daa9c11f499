import { withClient } from '../db/with-client.js';
import { readTableInfo, requireColumns } from '../db/table-catalog.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';

/** One table the reference values come from. */
export interface ReferenceSource {
  readonly schema?: string;
  readonly table: string;
  /** SQL appended after `FROM <table> t` (e.g. `CROSS JOIN LATERAL unnest(t."subjects") AS s(v)`). */
  readonly join?: string;
  /** Target column → SQL expression (normalise here: trim, case, spacing). */
  readonly select: Readonly<Record<string, string>>;
  readonly where?: string;
}

/** Options of {@link extractReferenceRows}. */
export interface ReferenceRowsOptions {
  readonly database: string;
  /** The reference table; `key` must carry a unique index (add it with `addUnique` first). */
  readonly target: {
    readonly schema?: string;
    readonly table: string;
    readonly idColumn: string;
    readonly key: readonly string[];
    /** Other columns every source provides. */
    readonly columns?: readonly string[];
    /** Columns filled by SQL expressions (e.g. `{ updatedAt: 'now()' }`). */
    readonly fixed?: Readonly<Record<string, string>>;
    /** Among the candidate rows of one key, which to keep first (SQL over the target column names). Default: nulls last on every column. */
    readonly prefer?: string;
    /** Fallbacks applied after the pick, for columns still NULL (SQL over the picked row, e.g. `{ name: '"code"' }`). */
    readonly defaults?: Readonly<Record<string, string>>;
  };
  readonly sources: readonly ReferenceSource[];
}

/** What {@link extractReferenceRows} found and wrote. */
export interface ReferenceRowsReport {
  readonly sources: readonly { readonly table: string; readonly rows: number; readonly distinctKeys: number }[];
  readonly distinctKeys: number;
  readonly inserted: number;
  readonly existing: number;
}

/**
 * Fills a reference table from the distinct (normalised) values found in several source tables: one row
 * per key, with a deterministic id `md5(key parts joined by '|')`, so every environment and every re-run
 * produce the same ids and foreign keys can be backfilled by joining on the key. Idempotent (`ON CONFLICT
 * DO NOTHING` on the key): a re-run inserts only new keys. One statement; it takes ACCESS SHARE on the
 * sources (reads) and writes only the reference table, which application code does not write yet.
 */
export async function extractReferenceRows(options: ReferenceRowsOptions): Promise<ReferenceRowsReport> {
  return withClient(options.database, async (client) => {
    const schema = options.target.schema ?? 'public';
    const target = await readTableInfo(client, schema, options.target.table);
    const columns = [...options.target.key, ...(options.target.columns ?? [])];
    requireColumns(target, [options.target.idColumn, ...columns, ...Object.keys(options.target.fixed ?? {})], '"target"');
    if (options.sources.length === 0) throw new InvalidArgumentError('sources', 'name at least one source table');
    const selects = [];
    for (const [i, source] of options.sources.entries()) {
      const table = await readTableInfo(client, source.schema ?? schema, source.table);
      const missing = columns.filter((column) => source.select[column] === undefined);
      if (missing.length > 0) throw new InvalidArgumentError(`sources[${i}].select`, `${table.qualified} gives no expression for ${missing.map((c) => `"${c}"`).join(', ')}`);
      selects.push(
        `select ${columns.map((column) => `(${source.select[column]}) as ${quoteIdent(column)}`).join(', ')}, ${i} as source from ${table.qualified} t ${source.join ?? ''} where ${source.where ?? 'true'}`,
      );
    }
    const key = options.target.key.map(quoteIdent);
    const notNull = key.map((k) => `${k} is not null`).join(' and ');
    const prefer = options.target.prefer ?? columns.map((c) => `${quoteIdent(c)} nulls last`).join(', ');
    const fixed = Object.entries(options.target.fixed ?? {});
    const candidates = `(${selects.join(' union all ')}) c`;
    const { rows: perSource } = await client.query<{ source: number; rows: string; keys: string }>(
      `select source, count(*)::text as rows, count(distinct (${key.join(', ')}))::text as keys from ${candidates} where ${notNull} group by source order by source`,
    );
    const { rows: inserted } = await client.query<{ inserted: string; distinct_keys: string }>(
      `with picked as (
         select distinct on (${key.join(', ')}) * from ${candidates} where ${notNull} order by ${key.join(', ')}, ${prefer}
       ), ins as (
         insert into ${target.qualified} (${[options.target.idColumn, ...columns, ...fixed.map(([name]) => name)].map(quoteIdent).join(', ')})
         select md5(concat_ws('|', ${key.join(', ')})), ${columns
           .map((c) => (options.target.defaults?.[c] ? `coalesce(${quoteIdent(c)}, ${options.target.defaults[c]})` : quoteIdent(c)))
           .join(', ')}${fixed.map(([, expression]) => `, (${expression})`).join('')} from picked
         on conflict (${key.join(', ')}) do nothing
         returning 1
       )
       select (select count(*) from ins)::text as inserted, (select count(*) from picked)::text as distinct_keys`,
    );
    const distinctKeys = Number(inserted[0]?.distinct_keys ?? 0);
    const written = Number(inserted[0]?.inserted ?? 0);
    return {
      sources: options.sources.map((source, i) => {
        const row = perSource.find((r) => r.source === i);
        return { table: quoteQualified(source.schema ?? schema, source.table), rows: Number(row?.rows ?? 0), distinctKeys: Number(row?.keys ?? 0) };
      }),
      distinctKeys,
      inserted: written,
      existing: distinctKeys - written,
    };
  });
}
