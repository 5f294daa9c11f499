import { columnAt, literal, schemaField, stepName, tableAt, USER_TABLES } from './check-support.js';
import type { AnalyzeFinding, StaticCheck } from './static-checks.js';

/** The static checks on tables and columns: primary keys, types, json, sequences, soft deletes, Prisma relations. */

/** A table with no primary key. */
export const noPrimaryKey: StaticCheck = {
  id: 'no-primary-key',
  severity: 'warning',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string }>(
      `select n.nspname::text as schema, c.relname::text as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and not c.relispartition and not exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'p') order by 1, 2`,
    );
    return rows.map((r) => ({
      check: 'no-primary-key',
      kind: 'static',
      severity: 'warning',
      object: `${r.schema}.${r.table}`,
      prisma: tableAt(context, r.schema, r.table),
      message: `table "${r.table}" has no primary key: rows cannot be addressed one by one (batched backfills, logical replication, Prisma's update and delete need one)`,
      fix: { prisma: 'an @id field or @@id([…]) on the model', steps: [] },
    }));
  },
};

/** A foreign-key column whose type differs from the referenced column's. */
export const fkTypeMismatch: StaticCheck = {
  id: 'fk-type-mismatch',
  severity: 'warning',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; column: string; type: string; ref_table: string; ref_column: string; ref_type: string; name: string }>(
      `select n.nspname::text as schema, c.relname::text as table, a.attname::text as column, format_type(a.atttypid, a.atttypmod) as type,
              p.relname::text as ref_table, b.attname::text as ref_column, format_type(b.atttypid, b.atttypmod) as ref_type, k.conname::text as name
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace join pg_class p on p.oid = k.confrelid
       cross join lateral unnest(k.conkey, k.confkey) as u(col, ref)
       join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.col join pg_attribute b on b.attrelid = k.confrelid and b.attnum = u.ref
       where k.contype = 'f' and k.conparentid = 0 and ${USER_TABLES} and (a.atttypid <> b.atttypid or a.atttypmod <> b.atttypmod) order by 1, 2, 3`,
    );
    return rows.map((r) => ({
      check: 'fk-type-mismatch',
      kind: 'static',
      severity: 'warning',
      object: `${r.schema}.${r.table}.${r.column}`,
      prisma: columnAt(context, r.schema, r.table, r.column),
      message: `"${r.table}"."${r.column}" is ${r.type} but refers to "${r.ref_table}"."${r.ref_column}", ${r.ref_type} (foreign key "${r.name}"): every check and join converts, and values may not fit`,
      fix: {
        prisma: `give ${r.column} the type of ${r.ref_table}.${r.ref_column}`,
        steps: [`schemaStep(${stepName(`type_${r.table}_${r.column}`)}, step(changeColumnType, { ${schemaField(r.schema)}table: ${literal(r.table)}, column: ${literal(r.column)}, type: ${literal(r.ref_type)} }))`],
      },
    }));
  },
};

/** A `json` column (`jsonb` is what Prisma's `Json` maps to: indexable, compared by value, no reparse on read). */
export const jsonColumn: StaticCheck = {
  id: 'json-not-jsonb',
  severity: 'info',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; column: string }>(
      `select n.nspname::text as schema, c.relname::text as table, a.attname::text as column
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and a.attnum > 0 and not a.attisdropped and a.atttypid = 'json'::regtype order by 1, 2, 3`,
    );
    return rows.map((r) => ({
      check: 'json-not-jsonb',
      kind: 'static',
      severity: 'info',
      object: `${r.schema}.${r.table}.${r.column}`,
      prisma: columnAt(context, r.schema, r.table, r.column),
      message: `"${r.table}"."${r.column}" is json, not jsonb: it cannot be indexed or compared, and is parsed again on every read`,
      fix: {
        prisma: 'drop @db.Json from the field (Json maps to jsonb)',
        steps: [`schemaStep(${stepName(`jsonb_${r.table}_${r.column}`)}, step(changeColumnType, { ${schemaField(r.schema)}table: ${literal(r.table)}, column: ${literal(r.column)}, type: 'jsonb' }))`],
      },
    }));
  },
};

/** A sequence (serial or identity) past 75 % of what its column's type (or the sequence itself) can hold. */
export const sequenceNearLimit: StaticCheck = {
  id: 'sequence-near-limit',
  severity: 'error',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; column: string; sequence: string; last: string; limit: string; type: string }>(
      `select n.nspname::text as schema, c.relname::text as table, a.attname::text as column, s.schemaname || '.' || s.sequencename as sequence,
              s.last_value::text as last, least(s.max_value, case a.atttypid when 'int2'::regtype then 32767 when 'int4'::regtype then 2147483647 else 9223372036854775807 end)::text as limit,
              format_type(a.atttypid, a.atttypmod) as type
       from pg_depend d join pg_class sc on sc.oid = d.objid and sc.relkind = 'S' join pg_namespace sn on sn.oid = sc.relnamespace
       join pg_sequences s on s.schemaname = sn.nspname and s.sequencename = sc.relname
       join pg_class c on c.oid = d.refobjid join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
       where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i') and ${USER_TABLES}
         and s.last_value is not null and s.increment_by > 0
         and s.last_value::numeric >= 0.75 * least(s.max_value, case a.atttypid when 'int2'::regtype then 32767 when 'int4'::regtype then 2147483647 else 9223372036854775807 end)
       order by 1, 2, 3`,
    );
    return rows.map((r) => ({
      check: 'sequence-near-limit',
      kind: 'static',
      severity: 'error',
      object: `${r.schema}.${r.table}.${r.column}`,
      prisma: columnAt(context, r.schema, r.table, r.column),
      message: `${r.sequence} is at ${r.last} of ${r.limit} (${Math.round((Number(r.last) / Number(r.limit)) * 100)} %) for "${r.table}"."${r.column}" (${r.type}): inserts fail when it runs out`,
      // A sequence's column is serial or identity, which changeColumnType refuses: widening it is a planned
      // migration of its own (a new bigint key column, backfilled, swapped), not a step written for you.
      fix: { prisma: `${r.column} as BigInt (a new bigint key column, backfilled and swapped in)`, steps: [] },
    }));
  },
};

/** A soft-delete column (`deletedAt`, `deleted_at`) on a table where no index is partial on it. */
export const softDeleteIndex: StaticCheck = {
  id: 'soft-delete-without-partial-index',
  severity: 'info',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; column: string }>(
      `select n.nspname::text as schema, c.relname::text as table, a.attname::text as column
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and a.attnum > 0 and not a.attisdropped and lower(a.attname) in ('deletedat', 'deleted_at')
         and not exists (select 1 from pg_index i where i.indrelid = c.oid and i.indpred is not null and pg_get_expr(i.indpred, i.indrelid) like '%' || quote_ident(a.attname) || '%')
       order by 1, 2, 3`,
    );
    return rows.map((r) => ({
      check: 'soft-delete-without-partial-index',
      kind: 'static',
      severity: 'info',
      object: `${r.schema}.${r.table}.${r.column}`,
      prisma: columnAt(context, r.schema, r.table, r.column),
      message: `"${r.table}" has a soft-delete column "${r.column}" but no index partial on it: every query for live rows filters "${r.column}" IS NULL without one`,
      fix: { prisma: null, steps: [`// an index WHERE "${r.column}" IS NULL on the columns live rows are looked up by (addSoftDelete builds them)`] },
    }));
  },
};

/** A relation declared in schema.prisma (`fields`/`references`) with no foreign key in the database (`relationMode = "prisma"`, or dropped). */
export const relationWithoutForeignKey: StaticCheck = {
  id: 'relation-without-foreign-key',
  severity: 'warning',
  async run(context) {
    if (!context.prisma) return [];
    const { rows } = await context.client.query<{ schema: string; table: string; columns: string[] }>(
      `select n.nspname::text as schema, c.relname::text as table,
              array(select a.attname::text from unnest(k.conkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i) as columns
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace where k.contype = 'f'`,
    );
    const present = new Set(rows.map((r) => `${r.schema}.${r.table}.${r.columns.join(',')}`));
    return context.prisma.relations
      .filter((rel) => !present.has(`${rel.schema}.${rel.table}.${rel.columns.join(',')}`))
      .map((rel) => {
        const referenced = (context.prisma?.modelTables.get(rel.referencedModel) ?? `public.${rel.referencedModel}`).split('.');
        return {
          check: 'relation-without-foreign-key',
          kind: 'static',
          severity: 'warning',
          object: `${rel.schema}.${rel.table}.${rel.columns.join(',')}`,
          prisma: { model: rel.model, field: rel.field, file: rel.file, line: rel.line },
          message: `${rel.model}.${rel.field} relates to ${rel.referencedModel} in schema.prisma, but the database has no foreign key on "${rel.table}" (${rel.columns.join(', ')}): nothing stops rows that point nowhere`,
          fix: {
            prisma: null,
            steps: [
              `schemaStep(${stepName(`fk_${rel.table}_${rel.columns.join('_')}`)}, step(addForeignKey, { ${schemaField(rel.schema)}table: ${literal(rel.table)}, columns: ${literal(rel.columns)}, references: { ${referenced[0] === 'public' ? '' : `schema: ${literal(referenced[0])}, `}table: ${literal(referenced[1])}, columns: ${literal(rel.referencedColumns)} } }))`,
            ],
          },
        } satisfies AnalyzeFinding;
      });
  },
};
