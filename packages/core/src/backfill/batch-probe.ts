import type pg from 'pg';
import { keyColumnList, keyOrder, keyRangePredicate, keyTextOf, keyTextSelect, type KeyColumn, type KeyText } from './keyset-sql.js';

/**
 * Finds where the next batch ends: the last of the next `size` keys after `after` (not past `upTo`, and
 * only rows matching `where` over alias `t`), and how many keys that batch holds. One index-only read; no
 * row locks. `undefined` when no key is left in the range.
 */
export async function probeBatchEnd(
  client: pg.ClientBase,
  table: string,
  key: readonly KeyColumn[],
  request: { readonly after: KeyText | null; readonly upTo: KeyText | null; readonly size: number },
  where = 'true',
): Promise<{ last: KeyText; count: number } | undefined> {
  const params: unknown[] = [];
  const range = keyRangePredicate('t', key, request.after, request.upTo, params);
  params.push(request.size);
  const { rows } = await client.query(
    `select ${keyTextSelect('s', key)}, count(*) over () as n
     from (select ${keyColumnList('t', key)} from ${table} t where ${range} and (${where})
           order by ${keyOrder('t', key, 'asc')} limit $${params.length}) s
     order by ${keyOrder('s', key, 'desc')} limit 1`,
    params,
  );
  const found = rows[0];
  return found ? { last: keyTextOf(found, key), count: Number(found['n']) } : undefined;
}
