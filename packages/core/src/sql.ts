/**
 * SQL text helpers. Every identifier the toolkit writes goes through {@link quoteIdent}; nothing is
 * concatenated raw.
 */
import { z } from 'zod';
import { InvalidArgumentError } from './errors.js';

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/** ASCII control characters (a newline in a name would end a `--` comment of a migration folder). */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** What is wrong with `name` as an identifier (empty, a control character, too long), or undefined. Pure. */
export function identifierProblem(name: string): string | undefined {
  if (name.length === 0) return 'an identifier cannot be empty';
  const control = CONTROL_CHARACTERS.exec(name);
  if (control) return `${JSON.stringify(name)} contains the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')}`;
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) return `"${name}" is longer than ${MAX_IDENTIFIER_BYTES} bytes`;
  return undefined;
}

/**
 * The one zod schema of an identifier field (table, column, index, schema name) in every spec and option:
 * refuses what {@link quoteIdent} refuses, at parse time, with the field's path in the message.
 */
export const identifierSchema = z.string().superRefine((name, context) => {
  const problem = identifierProblem(name);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/**
 * Quotes one identifier for PostgreSQL: wraps it in double quotes and doubles embedded quotes.
 * Refuses empty names, control characters (NUL, newlines: they would break out of the comments of
 * migration folders) and names longer than 63 bytes (which PostgreSQL would silently truncate, making two
 * different names collide). Pure; no database access.
 */
export function quoteIdent(name: string): string {
  const problem = identifierProblem(name);
  if (problem) throw new InvalidArgumentError('identifier', problem);
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes `schema.name`, each part through {@link quoteIdent}. Pure. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A table as a statement names it: schema-qualified, or bare (found by search_path) when no schema was written. Pure. */
export function quoteTable(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdent(name) : quoteQualified(schema, name);
}

/** Quotes a string literal for PostgreSQL (standard_conforming_strings on). Pure. */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new InvalidArgumentError('literal', 'a string literal cannot contain a nul byte');
  return `'${value.replaceAll("'", "''")}'`;
}
