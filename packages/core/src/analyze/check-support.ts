import type { PrismaLocation } from './prisma-locations.js';
import type { CheckContext } from './static-checks.js';

/** Shared pieces of the static checks: which relations are the application's, and how findings name things. */

/** Schemas of the application: not PostgreSQL's, not the toolkit's (`_evolve…`) (namespace alias `n`). */
export const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%' and n.nspname not like '\\_evolve%'`;
/** Tables of the application in those schemas, without `_prisma_migrations` (class alias `c`). */
export const USER_TABLES = `${USER_SCHEMAS} and c.relkind in ('r', 'p') and c.relname <> '_prisma_migrations'`;
/** A value as a TypeScript literal in generated steps. Pure. */
export const literal = (value: unknown): string => JSON.stringify(value);
/**
 * A key of an object literal in generated code: always a string literal (database-derived names are never spliced
 * raw), computed for `__proto__`, which as a plain key would set the object's prototype instead. Pure.
 */
export const objectKey = (key: string): string => (key === '__proto__' ? `[${literal(key)}]` : literal(key));
/**
 * Text safe inside a generated comment (`// …` or a JSDoc block): line terminators (`\n`, `\r`, U+2028, U+2029)
 * become spaces and a space splits each `*\/` and `/*`, so database-derived names can neither end the comment nor start
 * a line of code. Pure.
 */
export const commentText = (text: string): string => text.replace(/[\r\n\u2028\u2029]/g, ' ').replace(/\*\//g, '* /').replace(/\/\*/g, '/ *');
/** A step name from object names (step names take letters, digits, `_`, `-`, `.`). Pure. */
export const stepName = (text: string): string => literal(text.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, 's'));

/** The model declaring a table, if schema.prisma does. Pure. */
export const tableAt = (context: CheckContext, schema: string, table: string): PrismaLocation | null => context.prisma?.tables.get(`${schema}.${table}`) ?? null;
/** The field declaring a column, else its table's model. Pure. */
export const columnAt = (context: CheckContext, schema: string, table: string, column: string): PrismaLocation | null =>
  context.prisma?.columns.get(`${schema}.${table}.${column}`) ?? tableAt(context, schema, table);
/** The `schema` field of a generated spec, left out for `public`. Pure. */
export const schemaField = (schema: string): string => (schema === 'public' ? '' : `schema: ${literal(schema)}, `);

