import { quoteIdent, quoteQualified } from '../sql.js';
import { commentText, literal, stepName } from './check-support.js';

/**
 * The fix `analyze --fix` writes for a `reference-candidate` finding, as seed 003's phase 2 does it by hand
 * (`prisma/evolve.plan.ts`, `reference_tables`): a reference table keyed by the folded code, filled from every
 * source with `extractReferenceRows`; on each source table a new foreign-key column, backfilled through a join on
 * the folded code (a coverage gate of 95 %, the rest listed with sample keys), and a foreign key added NOT VALID,
 * then validated, with its index. The contract phase drops the old code columns (values backed up first), each
 * folder guarded: it refuses while any row holds a code but no key, whether or not its code has a reference row
 * (the coverage gate lets up to 5 % of codes through unreferenced; dropping the column would lose them).
 */

/** SQL folding a code the way the check counts it: trimmed, inner spacing collapsed, lower case. Pure. */
export const foldCode = (column: string): string => `lower(regexp_replace(btrim(${column}), '\\s+', ' ', 'g'))`;

/** The names a reference fix uses for `column` (`subjectId` → table `Subject`, key column `subjectRefId`). Pure. */
export function referenceNames(column: string): { readonly table: string; readonly foreignKey: string } {
  const base = column.replace(/_?(id|code|key)$/i, '') || column;
  const snake = /_/.test(column) || column === column.toLowerCase();
  return { table: base.charAt(0).toUpperCase() + base.slice(1), foreignKey: snake ? `${base}_ref_id` : `${base}RefId` };
}

/**
 * The data step whose `remaining` guard the contract's drop carries: a row holding a code but no key (its code had
 * no reference row when the backfill ran, or it was written since). Running it only counts them (in `failedRecords`
 * and its summary); the guard is what matters: `prisma-evolve run` and a plain `prisma migrate deploy` refuse the
 * drop while such a row exists. Pure.
 */
function unkeyedStep(schema: string, table: string, column: string, foreignKey: string): string {
  const unkeyed = `${quoteQualified(schema, table)} t WHERE t.${quoteIdent(column)} IS NOT NULL AND t.${quoteIdent(foreignKey)} IS NULL`;
  return `dataStep(
        ${stepName(`${table}_${foreignKey}_unkeyed`)},
        async (context) => {
          // Codes the backfill left without a key: the contract's drop of "${commentText(column)}" refuses while any is left (give them a reference row and key, or clear the code).
          const unkeyed = await withClient(context.databaseUrl, async (client) => Number((await client.query(${literal(`SELECT count(*)::int AS n FROM ${unkeyed}`)})).rows[0]?.n ?? 0));
          return { processed: 0, failed: unkeyed, canceled: false, summary: { unkeyed } };
        },
        { description: ${literal(`rows of "${table}" with a code but no "${foreignKey}" (the contract refuses while any is left)`)}, remaining: ${literal(`EXISTS (SELECT 1 FROM ${unkeyed})`)} },
      )`;
}

/** What the fix writes. */
export interface ReferenceFix {
  readonly steps: readonly string[];
  readonly contract: readonly string[];
}

/**
 * The fix of one reference candidate: `column`, found in `tables` of `schema`, becomes a reference table
 * (`names.table`) and a foreign key (`names.foreignKey`) on each table. The contract steps name the expand
 * phase through the generated module's `EXPAND` constant. Deterministic. Pure.
 */
export function referenceFix(schema: string, tables: readonly string[], column: string): ReferenceFix {
  const names = referenceNames(column);
  const schemaField = schema === 'public' ? '' : `schema: ${literal(schema)}, `;
  const code = quoteIdent(column);
  const fk = quoteIdent(names.foreignKey);
  const sources = tables.map((t) => `{ ${schemaField}table: ${literal(t)}, select: { code: ${literal(foldCode(`t.${code}`))} }, where: ${literal(`t.${code} IS NOT NULL`)} }`);
  const steps = [
    `schemaStep(${stepName(`${names.table}_table`)}, step(createTable, {
        ${schemaField}table: ${literal(names.table)},
        columns: [{ name: 'id', type: 'TEXT' }, { name: 'code', type: 'TEXT', nullable: false }],
        primaryKey: ['id'],
        uniques: [{ columns: ['code'] }],
      }))`,
    `dataStep(
        ${stepName(`${names.table}_rows`)},
        async (context) => {
          // One row per folded code, id md5(code): the same ids everywhere, idempotent.
          const report = await extractReferenceRows({
            database: context.databaseUrl,
            target: { ${schemaField}table: ${literal(names.table)}, idColumn: 'id', key: ['code'] },
            sources: [
              ${sources.join(',\n              ')},
            ],
          });
          return { processed: report.distinctKeys, failed: 0, canceled: false, summary: report };
        },
        { description: ${literal(`"${names.table}" rows from the distinct folded codes of ${tables.map((t) => `"${t}"."${column}"`).join(', ')}`)} },
      )`,
    ...tables.flatMap((table) => [
      `schemaStep(${stepName(`${table}_${names.foreignKey}_column`)}, step(addColumn, { ${schemaField}table: ${literal(table)}, column: ${literal(names.foreignKey)}, type: 'TEXT' }))`,
      `backfillStep(${stepName(`${table}_${names.foreignKey}_fill`)}, {
        ${schemaField}table: ${literal(table)},
        set: { ${literal(names.foreignKey)}: 'r.id' },
        join: [{ ${schemaField}table: ${literal(names.table)}, alias: 'r', on: ${literal(`r.code = ${foldCode(`t.${code}`)}`)} }],
        where: ${literal(`t.${fk} IS NULL AND t.${code} IS NOT NULL`)},
        // Rows written with a code no reference row has yet stay unfilled: at least 95 % must be, the rest is listed.
        coverage: { satisfied: ${literal(`t.${code} IS NULL OR t.${fk} IS NOT NULL`)}, threshold: 0.95 },
      })`,
      `schemaStep(${stepName(`${table}_${names.foreignKey}_fk`)}, step(addForeignKey, { ${schemaField}table: ${literal(table)}, columns: [${literal(names.foreignKey)}], references: { table: ${literal(names.table)}, columns: ['id'] }, onDelete: 'SET NULL' }))`,
      unkeyedStep(schema, table, column, names.foreignKey),
    ]),
  ];
  const contract = tables.map(
    (table) =>
      `schemaStep(${stepName(`drop_${table}_${column}`)}, step(dropColumn, { ${schemaField}table: ${literal(table)}, column: ${literal(column)} }), { requires: [${[`${table}_${names.foreignKey}_fill`, `${table}_${names.foreignKey}_unkeyed`].map((name) => `\`\${EXPAND}/${stepName(name).slice(1, -1)}\``).join(', ')}] })`,
  );
  return { steps, contract };
}
