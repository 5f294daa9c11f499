import { quoteIdent } from '../sql.js';

/** A key column with the type its text form is cast back to. */
export interface KeyColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * A position in keyset order: the text form (`::text`) of each key column, in key order. Text keeps every
 * type exact (timestamps to the microsecond, int8, numeric) and is what checkpoints store as JSON.
 */
export type KeyText = readonly string[];

/** `alias."a", alias."b"`. Pure. */
export function keyColumnList(alias: string, key: readonly KeyColumn[]): string {
  return key.map((column) => `${quoteIdent(alias)}.${quoteIdent(column.name)}`).join(', ');
}

/** `(alias."a", alias."b")`, the row value keyset comparisons are made on. Pure. */
export function keyRow(alias: string, key: readonly KeyColumn[]): string {
  return `(${keyColumnList(alias, key)})`;
}

/** `($n::type, $n+1::type)`: the key as parameters cast from text. Pure. */
export function keyParamRow(key: readonly KeyColumn[], firstParam: number): string {
  return `(${key.map((column, i) => `$${firstParam + i}::${column.type}`).join(', ')})`;
}

/** `alias."a"::text as "__k0", …`: selects the key's text form under fixed aliases. Pure. */
export function keyTextSelect(alias: string, key: readonly KeyColumn[]): string {
  return key.map((column, i) => `${quoteIdent(alias)}.${quoteIdent(column.name)}::text as ${keyTextAlias(i)}`).join(', ');
}

/** The alias `keyTextSelect` gives key column `index`. Pure. */
export function keyTextAlias(index: number): string {
  return `"__k${index}"`;
}

/** Reads back what `keyTextSelect` selected. Pure. */
export function keyTextOf(row: Readonly<Record<string, unknown>>, key: readonly KeyColumn[]): KeyText {
  return key.map((_, i) => String(row[`__k${i}`]));
}

/** `alias."a" desc, alias."b" desc` (or asc). Pure. */
export function keyOrder(alias: string, key: readonly KeyColumn[], direction: 'asc' | 'desc'): string {
  return key.map((column) => `${quoteIdent(alias)}.${quoteIdent(column.name)} ${direction}`).join(', ');
}

/**
 * The predicate "strictly after `after` and at most `upTo`" on `alias`'s key, with the parameters it
 * needs appended to `params`. Either bound may be absent. A row comparison, so a btree index on the key
 * serves it as one range scan, composite keys included. Pure.
 */
export function keyRangePredicate(
  alias: string,
  key: readonly KeyColumn[],
  after: KeyText | null,
  upTo: KeyText | null,
  params: unknown[],
): string {
  const parts: string[] = [];
  if (after) {
    parts.push(`${keyRow(alias, key)} > ${keyParamRow(key, params.length + 1)}`);
    params.push(...after);
  }
  if (upTo) {
    parts.push(`${keyRow(alias, key)} <= ${keyParamRow(key, params.length + 1)}`);
    params.push(...upTo);
  }
  return parts.length > 0 ? parts.join(' and ') : 'true';
}
