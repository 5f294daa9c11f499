import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { PrismaLocation, PrismaMap } from './prisma-locations.js';

/**
 * The static checks of `analyze`: valid on a freshly migrated, empty database (CI can run them), each with one
 * definition (docs/analyze.md) and its own catalog query. Schemas of PostgreSQL and of the toolkit
 * (`_evolve…`) and Prisma's `_prisma_migrations` are left out.
 */

/** A finding (the CLI's `findings[]`). */
export interface AnalyzeFinding {
  readonly check: string;
  readonly kind: 'static' | 'runtime';
  readonly severity: 'error' | 'warning' | 'info';
  /** The database object, schema-qualified (`public.Post.authorId`, `public.Post_authorId_idx`). */
  readonly object: string;
  readonly prisma: PrismaLocation | null;
  readonly message: string;
  /** The schema.prisma edit and the plan steps (TypeScript) that apply it safely; null when there is none to write. */
  readonly fix: AnalyzeFix | null;
}

/** How to fix a finding. */
export interface AnalyzeFix {
  readonly prisma: string | null;
  /** `schemaStep(…)` expressions for a phase, using the toolkit's operations. */
  readonly steps: readonly string[];
}

/** What a check reads. */
export interface CheckContext {
  readonly client: pg.ClientBase;
  readonly prisma: PrismaMap | undefined;
}

/** A static check. */
export interface StaticCheck {
  readonly id: string;
  readonly severity: AnalyzeFinding['severity'];
  run(context: CheckContext): Promise<AnalyzeFinding[]>;
}

const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%' and n.nspname not like '\\_evolve%'`;
const USER_TABLES = `${USER_SCHEMAS} and c.relkind in ('r', 'p') and c.relname <> '_prisma_migrations'`;
const literal = (value: unknown): string => JSON.stringify(value);
/** A step name from object names (step names take letters, digits, `_`, `-`, `.`). Pure. */
const stepName = (text: string): string => literal(text.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, 's'));

const tableAt = (context: CheckContext, schema: string, table: string): PrismaLocation | null => context.prisma?.tables.get(`${schema}.${table}`) ?? null;
const columnAt = (context: CheckContext, schema: string, table: string, column: string): PrismaLocation | null =>
  context.prisma?.columns.get(`${schema}.${table}.${column}`) ?? tableAt(context, schema, table);
const schemaField = (schema: string): string => (schema === 'public' ? '' : `schema: ${literal(schema)}, `);

/** A foreign key whose columns are not the leading columns (in any order) of a valid, non-partial btree index (the definition `indexCoversColumns` shares with addForeignKey). */
const fkWithoutIndex: StaticCheck = {
  id: 'fk-without-index',
  severity: 'warning',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; name: string; columns: string[] }>(
      `select n.nspname::text as schema, c.relname::text as table, k.conname::text as name,
              array(select a.attname::text from unnest(k.conkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i) as columns
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
       where k.contype = 'f' and ${USER_TABLES}
         and not exists (
           select 1 from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
           where i.indrelid = k.conrelid and i.indisvalid and i.indpred is null and am.amname = 'btree'
             and (select array_agg(x order by x) from unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)]) x)
               = (select array_agg(x order by x) from unnest(k.conkey) x))
       order by 1, 2, 3`,
    );
    return rows.map((r) => {
      const relation = context.prisma?.relations.find((rel) => rel.schema === r.schema && rel.table === r.table && rel.columns.join() === r.columns.join());
      const fields = relation ? relation.columns.map((c) => context.prisma?.columns.get(`${r.schema}.${r.table}.${c}`)?.field ?? c) : r.columns;
      return {
        check: 'fk-without-index',
        kind: 'static',
        severity: 'warning',
        object: `${r.schema}.${r.table}.${r.columns.join(',')}`,
        prisma: relation ? { model: relation.model, field: relation.field, file: relation.file, line: relation.line } : columnAt(context, r.schema, r.table, r.columns[0] as string),
        message: `foreign key "${r.name}" on "${r.table}" (${r.columns.join(', ')}) has no index starting with its columns: every delete or key update of the referenced row scans "${r.table}", and joins on it cannot use an index`,
        fix: {
          prisma: `@@index([${fields.join(', ')}])${relation ? ` in model ${relation.model}` : ''}`,
          steps: [`schemaStep(${stepName(`index_${r.table}_${r.columns.join('_')}`)}, step(createIndex, { ${schemaField(r.schema)}table: ${literal(r.table)}, columns: ${literal(r.columns)} }))`],
        },
      } satisfies AnalyzeFinding;
    });
  },
};

/**
 * An index whose key (columns, operator classes, collations, orders), expressions and predicate equal another's
 * (a duplicate) or are a prefix of another's (redundant), and that enforces nothing the other does not: not
 * unique unless the other is unique on the same columns, and backing no constraint.
 */
const redundantIndex: StaticCheck = {
  id: 'redundant-index',
  severity: 'warning',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; name: string; other: string; duplicate: boolean; columns: string[] }>(
      `with ix as (
         select i.indexrelid, i.indrelid, ic.relname::text as name, i.indisunique as uniq, n.nspname::text as schema, c.relname::text as table,
                string_to_array(i.indkey::text, ' ') as keys, string_to_array(i.indclass::text, ' ') as classes,
                string_to_array(i.indcollation::text, ' ') as collations, string_to_array(i.indoption::text, ' ') as options,
                coalesce(pg_get_expr(i.indexprs, i.indrelid), '') as exprs, coalesce(pg_get_expr(i.indpred, i.indrelid), '') as pred,
                exists (select 1 from pg_constraint k where k.conindid = i.indexrelid) as backs,
                array(select a.attname::text from unnest(string_to_array(i.indkey::text, ' ')::int2[]) u(n) left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = u.n) as columns
         from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
         join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
         where i.indisvalid and am.amname = 'btree' and ${USER_TABLES})
       select a.schema, a.table, a.name, b.name as other, cardinality(a.keys) = cardinality(b.keys) as duplicate, a.columns
       from ix a join ix b on a.indrelid = b.indrelid and a.indexrelid <> b.indexrelid
       where a.pred = b.pred and a.exprs = b.exprs and not a.backs
         and cardinality(a.keys) <= cardinality(b.keys)
         and a.keys = b.keys[1:cardinality(a.keys)] and a.classes = b.classes[1:cardinality(a.keys)]
         and a.collations = b.collations[1:cardinality(a.keys)] and a.options = b.options[1:cardinality(a.keys)]
         and (not a.uniq or (b.uniq and cardinality(a.keys) = cardinality(b.keys)))
         -- of two exact duplicates, report one: the one backing nothing, else the later name
         and not (cardinality(a.keys) = cardinality(b.keys) and a.uniq = b.uniq and not b.backs and a.name < b.name)
       order by 1, 2, 3`,
    );
    return rows.map((r) => ({
      check: 'redundant-index',
      kind: 'static',
      severity: 'warning',
      object: `${r.schema}.${r.name}`,
      prisma: tableAt(context, r.schema, r.table),
      message: `index "${r.name}" on "${r.table}" (${r.columns.join(', ')}) ${r.duplicate ? 'duplicates' : 'is a prefix of'} "${r.other}": every write maintains it for nothing`,
      fix: { prisma: `remove the @@index (or @unique) that declares "${r.name}"`, steps: [`schemaStep(${stepName(`drop_${r.name}`)}, step(dropIndex, { ${schemaField(r.schema)}name: ${literal(r.name)} }))`] },
    }));
  },
};

/** An index left INVALID (a failed concurrent build), or a constraint left NOT VALID (`kind` says which). */
const leftBehind = (kind: 'index' | 'constraint'): StaticCheck => ({
  id: kind === 'index' ? 'invalid-index' : 'not-valid-constraint',
  severity: 'error',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; name: string; kind: 'index' | 'constraint' }>(
      `select n.nspname::text as schema, c.relname::text as table, ic.relname::text as name, 'index' as kind
       from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
       where not i.indisvalid and ${USER_TABLES}
       union all
       select n.nspname::text, c.relname::text, k.conname::text, 'constraint'
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
       where not k.convalidated and ${USER_TABLES}
       order by 1, 2, 3`,
    );
    return rows.filter((r) => r.kind === kind).map((r) => ({
      check: r.kind === 'index' ? 'invalid-index' : 'not-valid-constraint',
      kind: 'static',
      severity: 'error',
      object: `${r.schema}.${r.name}`,
      prisma: tableAt(context, r.schema, r.table),
      message:
        r.kind === 'index'
          ? `index "${r.name}" on "${r.table}" is INVALID (a concurrent build that failed): it is maintained on every write but never used`
          : `constraint "${r.name}" on "${r.table}" is NOT VALID: existing rows were never checked`,
      fix: {
        prisma: null,
        steps: [
          r.kind === 'index'
            ? `schemaStep(${stepName(`reindex_${r.name}`)}, step(rawSql, { name: ${literal(`reindex_${r.name}`)}, transactional: false, lock: 'SHARE UPDATE EXCLUSIVE', scansData: true, up: [${literal(`REINDEX INDEX CONCURRENTLY ${quoteQualified(r.schema, r.name)}`)}], down: [] }))`
            : `schemaStep(${stepName(`validate_${r.name}`)}, step(rawSql, { name: ${literal(`validate_${r.name}`)}, lock: 'SHARE UPDATE EXCLUSIVE', scansData: true, up: [${literal(`ALTER TABLE ${quoteQualified(r.schema, r.table)} VALIDATE CONSTRAINT ${quoteIdent(r.name)}`)}], down: [] }))`,
        ],
      },
    }));
  },
});

/** A table with no primary key. */
const noPrimaryKey: StaticCheck = {
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
const fkTypeMismatch: StaticCheck = {
  id: 'fk-type-mismatch',
  severity: 'warning',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; column: string; type: string; ref_table: string; ref_column: string; ref_type: string; name: string }>(
      `select n.nspname::text as schema, c.relname::text as table, a.attname::text as column, format_type(a.atttypid, a.atttypmod) as type,
              p.relname::text as ref_table, b.attname::text as ref_column, format_type(b.atttypid, b.atttypmod) as ref_type, k.conname::text as name
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace join pg_class p on p.oid = k.confrelid
       cross join lateral unnest(k.conkey, k.confkey) as u(col, ref)
       join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.col join pg_attribute b on b.attrelid = k.confrelid and b.attnum = u.ref
       where k.contype = 'f' and ${USER_TABLES} and (a.atttypid <> b.atttypid or a.atttypmod <> b.atttypmod) order by 1, 2, 3`,
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
const jsonColumn: StaticCheck = {
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
const sequenceNearLimit: StaticCheck = {
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
const softDeleteIndex: StaticCheck = {
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
const relationWithoutForeignKey: StaticCheck = {
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

/** The static checks, in report order. */
export const STATIC_CHECKS: readonly StaticCheck[] = [fkWithoutIndex, redundantIndex, leftBehind('index'), leftBehind('constraint'), noPrimaryKey, fkTypeMismatch, jsonColumn, sequenceNearLimit, softDeleteIndex, relationWithoutForeignKey];
