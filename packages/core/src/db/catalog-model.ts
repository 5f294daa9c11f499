import { InvalidArgumentError } from '../errors.js';
import { byteToIndex, loadSqlParser, parseMigrationSql, scanTokens } from '../lint/sql-source.js';
import { quoteQualified } from '../sql.js';
import type { CatalogSnapshot, SnapshotColumn, SnapshotConstraint, SnapshotIndex } from './catalog-snapshot.js';

type Node = Record<string, unknown>;
type MutableTable = { schema: string; name: string; columns: SnapshotColumn[]; constraints: SnapshotConstraint[]; indexes: SnapshotIndex[]; triggers: string[] };
interface Model {
  tables: MutableTable[];
  functions: string[];
}

/** Schemas outside the application's catalog (the toolkit's own): a table moved there leaves the model. */
const OUTSIDE = /^_evolve/;

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (isNode(value) && isNode(value['String']) ? String(value['String']['sval'] ?? '') : '');
const strings = (value: unknown): string[] => list(isNode(value) && isNode(value['List']) ? value['List']['items'] : value).map(str);

const INTERNAL_TYPES: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  varchar: 'character varying',
  bpchar: 'character',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  time: 'time without time zone',
  timetz: 'time with time zone',
  serial: 'integer',
  bigserial: 'bigint',
  smallserial: 'smallint',
};

/** A type name as `format_type` prints it, for the common built-in types; other types as written. Pure. */
function typeText(typeName: unknown): { type: string; serial: boolean } {
  const node = isNode(typeName) ? typeName : {};
  const names = strings(node['names']);
  const base = names.at(-1) ?? '';
  const modifiers = list(node['typmods']).map((m) => (isNode(m) && isNode(m['A_Const']) && isNode(m['A_Const']['ival']) ? Number(m['A_Const']['ival']['ival'] ?? 0) : 0));
  let type = INTERNAL_TYPES[base] ?? (names.length > 1 && names[0] !== 'pg_catalog' ? names.join('.') : base);
  if (modifiers.length > 0) {
    const args = `(${modifiers.join(',')})`;
    const zone = type.match(/^(timestamp|time)( with(?:out)? time zone)$/);
    type = zone ? `${zone[1]}${args}${zone[2]}` : `${type}${args}`;
  }
  return { type: `${type}${'[]'.repeat(list(node['arrayBounds']).length)}`, serial: base.endsWith('serial') };
}

/** Every column a node names (`ColumnRef`), for an index's references. Pure. */
function columnRefs(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((item) => columnRefs(item, into));
  else if (isNode(node)) {
    if (isNode(node['ColumnRef'])) {
      const name = strings(node['ColumnRef']['fields']).at(-1);
      if (name) into.add(name);
    }
    Object.values(node).forEach((value) => columnRefs(value, into));
  }
  return into;
}

/** The source text of the expression starting at byte `location` of `text`: up to a `,` or `)` at its own depth, or a column-constraint keyword. */
function expressionText(text: string, location: unknown): string | null {
  if (typeof location !== 'number') return null;
  const start = byteToIndex(text)(location);
  let depth = 0;
  let end = text.length;
  for (const token of scanTokens(text)) {
    if (token.start < start) continue;
    if (token.text === '(') depth += 1;
    else if (token.text === ')' && --depth < 0) { end = token.start; break; }
    else if (depth === 0 && (token.text === ',' || ['NOT', 'NULL_P', 'PRIMARY', 'UNIQUE', 'REFERENCES', 'CHECK', 'CONSTRAINT', 'COLLATE', 'GENERATED'].includes(token.tokenName))) {
      end = token.start;
      break;
    }
  }
  return text.slice(start, end).trim() || null;
}

function relationOf(node: unknown): { schema: string; name: string } {
  const relation = isNode(node) ? node : {};
  return { schema: typeof relation['schemaname'] === 'string' ? relation['schemaname'] : 'public', name: String(relation['relname'] ?? '') };
}

function sortTable(table: MutableTable): void {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  table.columns.sort(byName);
  table.constraints.sort(byName);
  table.indexes.sort(byName);
  table.triggers.sort();
}

/**
 * Applies planned SQL to a catalog model, from PostgreSQL's parse tree of each statement, so that later
 * steps of a plan are planned against the catalog the earlier ones leave: `CREATE TABLE` (columns, inline
 * and table constraints), `CREATE INDEX`, `ALTER TABLE` (add/drop column, add/validate/drop constraint,
 * NOT NULL, defaults, types), renames of tables, columns, indexes and constraints, `SET SCHEMA`, `DROP
 * TABLE/INDEX/TRIGGER/FUNCTION`, `CREATE TRIGGER/FUNCTION`. Other statements (data changes, `DO` blocks)
 * leave it as it is. Names follow PostgreSQL's defaults where the SQL gives none; unqualified names are
 * `public`. Type names and definitions are close to what the catalog prints, not byte-identical. A
 * statement PostgreSQL cannot parse is an `InvalidArgumentError` quoting it. Pure apart from loading the
 * parser; `catalog` is not changed.
 */
export async function applyPlannedSql(catalog: CatalogSnapshot, statements: readonly string[]): Promise<CatalogSnapshot> {
  await loadSqlParser();
  const model: Model = structuredClone({ tables: catalog.tables, functions: catalog.functions }) as Model;
  for (const sql of statements) {
    const parsed = parseMigrationSql(sql);
    if (!parsed.ok) throw new InvalidArgumentError('planned SQL', `cannot parse ${JSON.stringify(sql.slice(0, 80))}: ${parsed.message}`);
    for (const statement of parsed.statements) applyStatement(model, statement.type, statement.body, sql);
  }
  model.tables = model.tables.filter((t) => !OUTSIDE.test(t.schema));
  model.tables.forEach(sortTable);
  model.tables.sort((a, b) => (`${a.schema}\u0000${a.name}` < `${b.schema}\u0000${b.name}` ? -1 : 1));
  model.functions.sort();
  return model;
}

function findTable(model: Model, schema: string, name: string): MutableTable | undefined {
  return model.tables.find((t) => t.schema === schema && t.name === name);
}

function applyStatement(model: Model, type: string, body: Node, text: string): void {
  switch (type) {
    case 'CreateStmt':
      return createTable(model, body, text);
    case 'IndexStmt':
      return createIndex(model, body, text);
    case 'AlterTableStmt': {
      const relation = relationOf(body['relation']);
      const table = findTable(model, relation.schema, relation.name);
      if (!table) return;
      for (const command of list(body['cmds'])) if (isNode(command) && isNode(command['AlterTableCmd'])) alterTable(table, command['AlterTableCmd'], text);
      return;
    }
    case 'RenameStmt':
      return rename(model, body);
    case 'AlterObjectSchemaStmt': {
      const relation = relationOf(body['relation']);
      const table = body['objectType'] === 'OBJECT_TABLE' ? findTable(model, relation.schema, relation.name) : undefined;
      if (table) table.schema = String(body['newschema']);
      return;
    }
    case 'DropStmt':
      return drop(model, body);
    case 'CreateTrigStmt': {
      const relation = relationOf(body['relation']);
      const table = findTable(model, relation.schema, relation.name);
      if (table && !table.triggers.includes(String(body['trigname']))) table.triggers.push(String(body['trigname']));
      return;
    }
    case 'CreateFunctionStmt': {
      const names = strings(body['funcname']);
      const args = list(body['parameters']).map((p) => (isNode(p) && isNode(p['FunctionParameter']) ? typeText(p['FunctionParameter']['argType']).type : ''));
      const name = `${names.length > 1 ? names[0] : 'public'}.${names.at(-1)}(${args.join(', ')})`;
      if (!model.functions.includes(name)) model.functions.push(name);
      return;
    }
    default:
      return;
  }
}

function columnOf(def: Node, text: string, tableName: string): { column: SnapshotColumn; constraints: Node[] } {
  const { type, serial } = typeText(def['typeName']);
  const constraints = list(def['constraints']).filter(isNode).map((c) => (isNode(c['Constraint']) ? c['Constraint'] : {}));
  const defaultNode = constraints.find((c) => c['contype'] === 'CONSTR_DEFAULT');
  const notNull = constraints.some((c) => c['contype'] === 'CONSTR_NOTNULL' || c['contype'] === 'CONSTR_PRIMARY') || serial;
  const generated = serial || constraints.some((c) => c['contype'] === 'CONSTR_IDENTITY');
  const rawDefault = defaultNode && isNode(defaultNode['raw_expr']) ? firstLocation(defaultNode['raw_expr']) : undefined;
  const name = String(def['colname']);
  const value = serial ? `nextval('${tableName}_${name}_seq'::regclass)` : rawDefault === undefined ? null : expressionText(text, rawDefault);
  return { column: { name, type, notNull, default: value, generated }, constraints };
}

/** The smallest `location` in a node: where its source text starts. */
function firstLocation(node: unknown): number | undefined {
  let found: number | undefined;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isNode(value)) {
      if (typeof value['location'] === 'number' && value['location'] >= 0) found = Math.min(found ?? Infinity, value['location']);
      Object.values(value).forEach(visit);
    }
  };
  visit(node);
  return found;
}

function createTable(model: Model, body: Node, text: string): void {
  const relation = relationOf(body['relation']);
  if (findTable(model, relation.schema, relation.name)) return;
  const table: MutableTable = { schema: relation.schema, name: relation.name, columns: [], constraints: [], indexes: [], triggers: [] };
  model.tables.push(table);
  for (const element of list(body['tableElts']).filter(isNode)) {
    if (isNode(element['ColumnDef'])) {
      const { column, constraints } = columnOf(element['ColumnDef'], text, table.name);
      table.columns.push(column);
      for (const constraint of constraints) addConstraint(table, { ...constraint, keys: constraint['keys'] ?? [{ String: { sval: column.name } }], fk_attrs: constraint['fk_attrs'] ?? [{ String: { sval: column.name } }] }, text);
    } else if (isNode(element['Constraint'])) addConstraint(table, element['Constraint'], text);
  }
}

const CONSTRAINT_TYPES: Record<string, { code: string; suffix: string }> = {
  CONSTR_PRIMARY: { code: 'p', suffix: 'pkey' },
  CONSTR_UNIQUE: { code: 'u', suffix: 'key' },
  CONSTR_FOREIGN: { code: 'f', suffix: 'fkey' },
  CONSTR_CHECK: { code: 'c', suffix: 'check' },
  CONSTR_EXCLUSION: { code: 'x', suffix: 'excl' },
};

function addConstraint(table: MutableTable, constraint: Node, text: string): void {
  const kind = CONSTRAINT_TYPES[String(constraint['contype'])];
  if (!kind) return;
  const isForeign = kind.code === 'f';
  const columns = strings(isForeign ? constraint['fk_attrs'] : constraint['keys']);
  const checked = kind.code === 'c' ? [...columnRefs(constraint['raw_expr'])] : columns;
  const name = typeof constraint['conname'] === 'string' ? constraint['conname'] : kind.code === 'p' ? `${table.name}_pkey` : `${table.name}_${checked.join('_')}_${kind.suffix}`;
  if (table.constraints.some((c) => c.name === name)) return;
  let definition = `${kind.code === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} (${columns.join(', ')})`;
  let referencedTable: string | null = null;
  if (isForeign) {
    const target = relationOf(constraint['pktable']);
    referencedTable = quoteQualified(target.schema, target.name);
    definition = `FOREIGN KEY (${columns.join(', ')}) REFERENCES ${referencedTable}(${strings(constraint['pk_attrs']).join(', ')})`;
  } else if (kind.code === 'c') {
    definition = `CHECK ((${expressionText(text, firstLocation(constraint['raw_expr'])) ?? ''}))`;
  }
  table.constraints.push({
    name,
    type: kind.code,
    definition,
    validated: constraint['skip_validation'] !== true,
    columns: [...checked].sort(),
    referencedTable,
    deleteAction: isForeign ? String(constraint['fk_del_action'] ?? 'a') : null,
  });
  if (kind.code !== 'p' && kind.code !== 'u') return;
  const existing = typeof constraint['indexname'] === 'string' ? table.indexes.find((i) => i.name === constraint['indexname']) : undefined;
  if (existing) {
    table.indexes = table.indexes.map((i) => (i === existing ? { ...i, name, constraint: name } : i));
    return;
  }
  // As the catalog reports it: a constraint's index depends on the constraint, not on its columns.
  table.indexes.push({ name, definition: `CREATE UNIQUE INDEX ${name} ON ${quoteQualified(table.schema, table.name)} USING btree (${columns.join(', ')})`, valid: true, unique: true, columns, constraint: name, references: [] });
}

function createIndex(model: Model, body: Node, text: string): void {
  const relation = relationOf(body['relation']);
  const table = findTable(model, relation.schema, relation.name);
  if (!table) return;
  const elements = list(body['indexParams']).map((p) => (isNode(p) && isNode(p['IndexElem']) ? p['IndexElem'] : {}));
  const columns = elements.map((e) => (typeof e['name'] === 'string' ? e['name'] : null));
  const name = typeof body['idxname'] === 'string' ? body['idxname'] : `${table.name}_${columns.map((c) => c ?? 'expr').join('_')}_idx`;
  if (table.indexes.some((i) => i.name === name)) return;
  const references = [...new Set([...columns.filter((c): c is string => c !== null), ...columnRefs(elements.map((e) => e['expr'])), ...columnRefs(body['whereClause'])])].sort();
  const definition = text.trim().replace(/^CREATE\s+(UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(IF\s+NOT\s+EXISTS\s+)?/i, (_m, unique: string | undefined) => `CREATE ${unique ? 'UNIQUE ' : ''}INDEX `);
  table.indexes.push({ name, definition, valid: true, unique: body['unique'] === true, columns, constraint: null, references });
}

function dropColumn(table: MutableTable, column: string): void {
  table.columns = table.columns.filter((c) => c.name !== column);
  table.constraints = table.constraints.filter((c) => !c.columns.includes(column));
  table.indexes = table.indexes.filter((i) => !i.references.includes(column) && !i.columns.includes(column));
}

function alterTable(table: MutableTable, command: Node, text: string): void {
  const name = String(command['name'] ?? '');
  const column = table.columns.find((c) => c.name === name);
  const setColumn = (change: Partial<SnapshotColumn>) => (table.columns = table.columns.map((c) => (c.name === name ? { ...c, ...change } : c)));
  switch (command['subtype']) {
    case 'AT_AddColumn': {
      if (!isNode(command['def']) || !isNode(command['def']['ColumnDef'])) return;
      const added = columnOf(command['def']['ColumnDef'], text, table.name);
      if (table.columns.some((c) => c.name === added.column.name)) return;
      table.columns.push(added.column);
      for (const constraint of added.constraints) addConstraint(table, { ...constraint, keys: constraint['keys'] ?? [{ String: { sval: added.column.name } }], fk_attrs: constraint['fk_attrs'] ?? [{ String: { sval: added.column.name } }] }, text);
      return;
    }
    case 'AT_DropColumn':
      return dropColumn(table, name);
    case 'AT_AddConstraint':
      if (isNode(command['def']) && isNode(command['def']['Constraint'])) addConstraint(table, command['def']['Constraint'], text);
      return;
    case 'AT_ValidateConstraint':
      table.constraints = table.constraints.map((c) => (c.name === name ? { ...c, validated: true } : c));
      return;
    case 'AT_DropConstraint':
      table.constraints = table.constraints.filter((c) => c.name !== name);
      table.indexes = table.indexes.filter((i) => i.constraint !== name);
      return;
    case 'AT_SetNotNull':
    case 'AT_DropNotNull':
      if (column) setColumn({ notNull: command['subtype'] === 'AT_SetNotNull' });
      return;
    case 'AT_ColumnDefault':
      if (column) setColumn({ default: command['def'] === undefined ? null : expressionText(text, firstLocation(command['def'])) });
      return;
    case 'AT_AlterColumnType':
      if (column && isNode(command['def']) && isNode(command['def']['ColumnDef'])) setColumn({ type: typeText(command['def']['ColumnDef']['typeName']).type });
      return;
    default:
      return;
  }
}

function rename(model: Model, body: Node): void {
  const relation = relationOf(body['relation']);
  const newName = String(body['newname'] ?? '');
  const from = String(body['subname'] ?? '');
  const table = findTable(model, relation.schema, relation.name);
  switch (body['renameType']) {
    case 'OBJECT_COLUMN': {
      if (!table) return;
      const swap = (c: string) => (c === from ? newName : c);
      table.columns = table.columns.map((c) => (c.name === from ? { ...c, name: newName } : c));
      table.constraints = table.constraints.map((c) => ({ ...c, columns: c.columns.map(swap).sort() }));
      table.indexes = table.indexes.map((i) => ({ ...i, columns: i.columns.map((c) => (c === null ? c : swap(c))), references: i.references.map(swap).sort() }));
      return;
    }
    case 'OBJECT_TABLE': {
      if (!table) return;
      const before = quoteQualified(table.schema, table.name);
      table.name = newName;
      const after = quoteQualified(table.schema, newName);
      for (const other of model.tables) other.constraints = other.constraints.map((c) => (c.referencedTable === before ? { ...c, referencedTable: after } : c));
      return;
    }
    case 'OBJECT_INDEX': {
      // ALTER INDEX names the index in `relation`; renaming a constraint's index renames the constraint too.
      for (const owner of model.tables.filter((t) => relation.schema === t.schema)) {
        const index = owner.indexes.find((i) => i.name === relation.name);
        if (!index) continue;
        owner.indexes = owner.indexes.map((i) => (i === index ? { ...i, name: newName, constraint: i.constraint === null ? null : newName } : i));
        if (index.constraint) owner.constraints = owner.constraints.map((c) => (c.name === index.constraint ? { ...c, name: newName } : c));
      }
      return;
    }
    case 'OBJECT_TABCONSTRAINT': {
      if (!table) return;
      table.constraints = table.constraints.map((c) => (c.name === from ? { ...c, name: newName } : c));
      table.indexes = table.indexes.map((i) => (i.constraint === from ? { ...i, name: newName, constraint: newName } : i));
      return;
    }
    default:
      return;
  }
}

function drop(model: Model, body: Node): void {
  for (const object of list(body['objects'])) {
    const names = isNode(object) && isNode(object['ObjectWithArgs']) ? strings(object['ObjectWithArgs']['objname']) : strings(object);
    const schema = names.length > 1 ? (names.at(-2) as string) : 'public';
    const name = names.at(-1) ?? '';
    switch (body['removeType']) {
      case 'OBJECT_TABLE':
        model.tables = model.tables.filter((t) => !(t.schema === schema && t.name === name));
        break;
      case 'OBJECT_INDEX':
        for (const table of model.tables.filter((t) => t.schema === schema)) table.indexes = table.indexes.filter((i) => i.name !== name);
        break;
      case 'OBJECT_TRIGGER': {
        // DROP TRIGGER name ON table: the list is [schema?, table, trigger].
        const table = findTable(model, names.length > 2 ? (names[0] as string) : 'public', names.at(-2) ?? '');
        if (table) table.triggers = table.triggers.filter((t) => t !== name);
        break;
      }
      case 'OBJECT_FUNCTION':
        model.functions = model.functions.filter((f) => !f.startsWith(`${schema}.${name}(`));
        break;
      default:
        break;
    }
  }
}

/**
 * The schema objects planned SQL creates, changes or removes, from its parse tree, as keys
 * (`column:"s"."t".c`, `index:"s".i`, `constraint:"s"."t".c`, `table:"s"."t"` for whole-table
 * create/drop/rename/move): what a later step must touch to supersede an earlier step's post-conditions.
 * Statements it cannot parse touch nothing. Pure apart from loading the parser.
 */
export async function touchedObjects(statements: readonly string[]): Promise<Set<string>> {
  await loadSqlParser();
  const touched = new Set<string>();
  const table = (relation: unknown) => {
    const r = relationOf(relation);
    return quoteQualified(r.schema, r.name);
  };
  for (const sql of statements) {
    const parsed = parseMigrationSql(sql);
    if (!parsed.ok) continue;
    for (const { type, body } of parsed.statements) {
      if (type === 'CreateStmt' || type === 'AlterObjectSchemaStmt') touched.add(`table:${table(body['relation'])}`);
      else if (type === 'IndexStmt') touched.add(`index:"${relationOf(body['relation']).schema}".${String(body['idxname'] ?? '')}`);
      else if (type === 'RenameStmt') {
        const kind = body['renameType'];
        const t = table(body['relation']);
        if (kind === 'OBJECT_COLUMN') touched.add(`column:${t}.${String(body['subname'])}`).add(`column:${t}.${String(body['newname'])}`);
        else if (kind === 'OBJECT_TABLE') touched.add(`table:${t}`);
        else if (kind === 'OBJECT_INDEX') touched.add(`index:"${relationOf(body['relation']).schema}".${relationOf(body['relation']).name}`);
        else if (kind === 'OBJECT_TABCONSTRAINT') touched.add(`constraint:${t}.${String(body['subname'])}`);
      } else if (type === 'DropStmt') {
        for (const object of list(body['objects'])) {
          const names = strings(object);
          const schema = names.length > 1 ? (names.at(-2) as string) : 'public';
          if (body['removeType'] === 'OBJECT_TABLE') touched.add(`table:${quoteQualified(schema, names.at(-1) ?? '')}`);
          if (body['removeType'] === 'OBJECT_INDEX') touched.add(`index:"${schema}".${names.at(-1) ?? ''}`);
        }
      } else if (type === 'AlterTableStmt') {
        const t = table(body['relation']);
        for (const command of list(body['cmds'])) {
          const cmd = isNode(command) && isNode(command['AlterTableCmd']) ? command['AlterTableCmd'] : undefined;
          if (!cmd) continue;
          const def = isNode(cmd['def']) ? cmd['def'] : {};
          if (isNode(def['ColumnDef'])) touched.add(`column:${t}.${String(def['ColumnDef']['colname'] ?? cmd['name'])}`);
          else if (isNode(def['Constraint'])) touched.add(`constraint:${t}.${String(def['Constraint']['conname'] ?? '')}`);
          else if (cmd['subtype'] === 'AT_DropConstraint' || cmd['subtype'] === 'AT_ValidateConstraint') touched.add(`constraint:${t}.${String(cmd['name'])}`);
          else if (typeof cmd['name'] === 'string') touched.add(`column:${t}.${cmd['name']}`);
        }
      }
    }
  }
  return touched;
}
