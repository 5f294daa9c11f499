import { readSchemaFiles } from '../prisma/prisma-migrations.js';

/**
 * Where the database's tables and columns are declared in schema.prisma: model and field names with their
 * file and line, through `@@map`, `@map` and `@@schema`, and the relations declared with `fields`/`references`
 * (which `relationMode = "prisma"` keeps out of the database). Read from the schema text line by line: Prisma's
 * own DMMF carries no source positions (prisma/orm#17407 is about exactly that).
 */

/** A place in schema.prisma. */
export interface PrismaLocation {
  readonly model: string;
  readonly field: string | null;
  readonly file: string;
  readonly line: number;
}

/** A relation declared in schema.prisma: `model.fields` refer to `referencedModel.references`. */
export interface DeclaredRelation {
  readonly model: string;
  readonly field: string;
  readonly table: string;
  readonly schema: string;
  readonly columns: readonly string[];
  readonly referencedModel: string;
  readonly referencedColumns: readonly string[];
  readonly file: string;
  readonly line: number;
}

/** The schema's models by table, fields by column, and relations. */
export interface PrismaMap {
  /** `schema.table` → the model. */
  readonly tables: ReadonlyMap<string, PrismaLocation>;
  /** `schema.table.column` → the field. */
  readonly columns: ReadonlyMap<string, PrismaLocation>;
  readonly relations: readonly DeclaredRelation[];
  /** Model name → `schema.table`. */
  readonly modelTables: ReadonlyMap<string, string>;
}

interface RawField {
  readonly name: string;
  readonly type: string;
  readonly column: string;
  readonly line: number;
  readonly attributes: string;
}

interface RawModel {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  table: string;
  schema: string;
  readonly fields: RawField[];
}

const quoted = (text: string, attribute: string): string | undefined => new RegExp(`${attribute}\\(\\s*(?:name:\\s*)?"([^"]+)"`).exec(text)?.[1];
const list = (text: string | undefined): string[] => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** Parses the models of one schema file. Pure. */
function parseModels(file: string, content: string): RawModel[] {
  const models: RawModel[] = [];
  let current: RawModel | undefined;
  content.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\/\/.*$/, '').trim();
    const start = /^model\s+(\w+)\s*\{/.exec(line);
    if (start) {
      current = { name: start[1] as string, file, line: index + 1, table: start[1] as string, schema: 'public', fields: [] };
      models.push(current);
      return;
    }
    if (!current) return;
    if (line.startsWith('}')) {
      current = undefined;
      return;
    }
    if (line.startsWith('@@')) {
      current.table = quoted(line, '@@map') ?? current.table;
      current.schema = quoted(line, '@@schema') ?? current.schema;
      return;
    }
    const field = /^(\w+)\s+([\w.]+(?:\[\])?\??)(.*)$/.exec(line);
    if (field) current.fields.push({ name: field[1] as string, type: field[2] as string, column: quoted(field[3] as string, '@map') ?? (field[1] as string), line: index + 1, attributes: field[3] as string });
  });
  return models;
}

/** Reads schema.prisma (a file or a multi-file folder) into a {@link PrismaMap}. Read-only. */
export async function readPrismaMap(schemaPath: string): Promise<PrismaMap> {
  const models = (await readSchemaFiles(schemaPath)).flatMap((f) => parseModels(f.path, f.content));
  const byName = new Map(models.map((m) => [m.name, m]));
  const tables = new Map<string, PrismaLocation>();
  const columns = new Map<string, PrismaLocation>();
  const relations: DeclaredRelation[] = [];
  for (const model of models) {
    tables.set(`${model.schema}.${model.table}`, { model: model.name, field: null, file: model.file, line: model.line });
    const columnOf = (fieldName: string): string => model.fields.find((f) => f.name === fieldName)?.column ?? fieldName;
    for (const field of model.fields) {
      const target = byName.get(field.type.replace(/[?[\]]/g, ''));
      if (!target) {
        columns.set(`${model.schema}.${model.table}.${field.column}`, { model: model.name, field: field.name, file: model.file, line: field.line });
        continue;
      }
      const fields = list(/fields:\s*\[([^\]]*)\]/.exec(field.attributes)?.[1]);
      const references = list(/references:\s*\[([^\]]*)\]/.exec(field.attributes)?.[1]);
      if (fields.length === 0) continue;
      relations.push({
        model: model.name,
        field: field.name,
        table: model.table,
        schema: model.schema,
        columns: fields.map(columnOf),
        referencedModel: target.name,
        referencedColumns: references.map((r) => target.fields.find((f) => f.name === r)?.column ?? r),
        file: model.file,
        line: field.line,
      });
    }
  }
  return { tables, columns, relations, modelTables: new Map(models.map((m) => [m.name, `${m.schema}.${m.table}`])) };
}
