/**
 * SQL text helpers. Every identifier the toolkit writes goes through {@link quoteIdent}; nothing is
 * concatenated raw.
 */
import { InvalidArgumentError } from './errors.js';

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Quotes one identifier for PostgreSQL: wraps it in double quotes and doubles embedded quotes.
 * Refuses empty names, NUL bytes and names longer than 63 bytes (which PostgreSQL would silently
 * truncate, making two different names collide). Pure; no database access.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new InvalidArgumentError('identifier', 'an identifier cannot be empty');
  if (name.includes('\u0000')) throw new InvalidArgumentError('identifier', `"${name}" contains a nul byte`);
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new InvalidArgumentError('identifier', `"${name}" is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes `schema.name`, each part through {@link quoteIdent}. Pure. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Quotes a string literal for PostgreSQL (standard_conforming_strings on). Pure. */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new InvalidArgumentError('literal', 'a string literal cannot contain a nul byte');
  return `'${value.replaceAll("'", "''")}'`;
}
