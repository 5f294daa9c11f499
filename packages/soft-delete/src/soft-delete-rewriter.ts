import type { ModelMeta, RelationMeta } from './model-meta.js';

/** Per model: the soft-delete field, and the to-many relations whose rows are soft-deleted with it. */
export interface SoftDeleteModelConfig {
  readonly field: string;
  readonly cascade?: readonly string[];
  /**
   * The field's value for a row that is not deleted (`createValue(false)`) and for a row being deleted
   * (`createValue(true)`, asked at each delete). Default: `null` and the time for a `DateTime?`, `false` and
   * `true` for a `Boolean`.
   */
  readonly createValue?: (deleted: boolean) => unknown;
  /**
   * Other fields written with the flag: on a delete `alsoSet(true)` (e.g. `{ deletedBy: currentUserId() }`),
   * on a `restore` `alsoSet(false)` (e.g. `{ deletedBy: null }`).
   */
  readonly alsoSet?: (deleted: boolean) => Record<string, unknown>;
  /** Opt-out: a nested to-one `update` reaches the related row even when it is soft-deleted (default: it does not). */
  readonly allowToOneUpdates?: boolean;
  /** Opt-out: `findUnique`/`findUniqueOrThrow` by a compound unique key find soft-deleted rows too (default: they do not). */
  readonly allowCompoundUniqueIndexWhere?: boolean;
}

type Args = Record<string, unknown>;
type Where = Record<string, unknown>;

const LOGICAL = new Set(['AND', 'OR', 'NOT']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** What to do with one relation of a result: hide it when soft-deleted (to-one), strip fields we added, recurse. */
interface ReadPlan {
  readonly relations: Map<string, { readonly toOneField?: string; readonly toOneModel?: string; readonly stripField?: string; readonly nested: ReadPlan }>;
}

/**
 * Rewrites Prisma query arguments so soft-deleted rows behave as deleted, and results so soft-deleted
 * to-one relations read as null. Pure functions over plain argument objects; the extension applies them.
 */
export class SoftDeleteRewriter {
  constructor(
    private readonly meta: ModelMeta,
    private readonly models: Readonly<Record<string, SoftDeleteModelConfig>>,
  ) {}

  /** The soft-delete field of `model`, or undefined when the model is not soft-deletable. */
  field(model: string): string | undefined {
    return this.models[model]?.field;
  }

  /** The value of `model`'s field for a row that is not deleted (`null`, `false`, or `createValue(false)`). */
  private liveValue(model: string): unknown {
    return this.models[model]?.createValue?.(false) ?? null;
  }

  /** `{ field: <not deleted> }`: the filter for live rows of `model` (its field is `field`). Pure. */
  live(model: string, field = this.field(model) ?? ''): Where {
    return { [field]: this.liveValue(model) };
  }

  /** `{ field: { not: <not deleted> } }`: the filter for deleted rows of `model`. Pure. */
  deleted(model: string, field = this.field(model) ?? ''): Where {
    return { [field]: { not: this.liveValue(model) } };
  }

  /** `{ field: <deleted> }`: the data that soft-deletes a row of `model` now. */
  stamp(model: string, now: Date, field = this.field(model) ?? ''): Where {
    const config = this.models[model];
    return { ...(config?.alsoSet?.(true) ?? {}), [field]: config?.createValue ? config.createValue(true) : now };
  }

  /** The data that restores a row of `model`: the live value, and `alsoSet(false)`. */
  restoreData(model: string): Where {
    return { ...(this.models[model]?.alsoSet?.(false) ?? {}), ...this.live(model) };
  }

  /** Whether a value of `model`'s field read from a row means the row is deleted. Pure. */
  isDeletedValue(model: string, value: unknown): boolean {
    if (value === null || value === undefined) return false;
    const live = this.liveValue(model);
    return value instanceof Date && live instanceof Date ? value.getTime() !== live.getTime() : value !== live;
  }

  /** True when `where` names `field` itself at this level (through AND/OR/NOT): the caller decides about deleted rows. */
  static mentions(where: unknown, field: string): boolean {
    if (Array.isArray(where)) return where.some((item) => SoftDeleteRewriter.mentions(item, field));
    if (!isObject(where)) return false;
    // A key set to undefined is ignored by Prisma (conditionally built filters), so it does not count.
    return Object.entries(where).some(([key, value]) => value !== undefined && (key === field || (LOGICAL.has(key) && SoftDeleteRewriter.mentions(value, field))));
  }

  /**
   * The `where` of a query on `model`: relation filters respect deletion, and unless the caller named the
   * field, deleted rows are excluded. `unique` keeps the unique fields at the top level (findUnique,
   * update, delete accept extra filters there).
   */
  where(model: string, where: unknown, unique: boolean, uniqueRead = false): Where | undefined {
    const rewritten = this.relationFilters(model, where);
    const field = this.field(model);
    if (!field || SoftDeleteRewriter.mentions(rewritten, field)) return rewritten;
    if (uniqueRead && this.models[model]?.allowCompoundUniqueIndexWhere && this.namesCompoundUnique(model, rewritten)) return rewritten;
    if (unique) return { ...(rewritten ?? {}), ...this.live(model) };
    return rewritten && Object.keys(rewritten).length > 0 ? { AND: [rewritten, this.live(model)] } : this.live(model);
  }

  /** Whether `where` looks a row up by a compound unique key of `model` (`orgId_userId: { … }`). Pure. */
  private namesCompoundUnique(model: string, where: Where | undefined): boolean {
    const info = this.meta.models[model];
    if (!info || !isObject(where)) return false;
    const inputs = new Set([...(info.idInput ? [info.idInput] : []), ...info.uniques.filter((u) => u.length > 1).map((u) => u.join('_'))]);
    return Object.keys(where).some((key) => inputs.has(key));
  }

  /** Rewrites relation filters (`some`/`every`/`none`/`is`/`isNot`) of `model`'s where, at any depth. */
  relationFilters(model: string, where: unknown): Where | undefined {
    if (!isObject(where)) return where as Where | undefined;
    const out: Where = {};
    for (const [key, value] of Object.entries(where)) {
      if (LOGICAL.has(key)) {
        out[key] = Array.isArray(value) ? value.map((item) => this.relationFilters(model, item)) : this.relationFilters(model, value);
        continue;
      }
      const relation = this.meta.models[model]?.relations[key];
      const targetField = relation ? this.field(relation.model) : undefined;
      if (relation && !relation.list && value === null && targetField) {
        // `profile: null`: no live related row.
        out[key] = { isNot: this.live(relation.model) };
        continue;
      }
      out[key] = relation && isObject(value) ? this.relationFilter(relation, value) : value;
    }
    return out;
  }

  private relationFilter(relation: RelationMeta, filter: Record<string, unknown>): unknown {
    const field = this.field(relation.model);
    const alive = (inner: unknown): Where => {
      const nested = this.relationFilters(relation.model, inner) ?? {};
      if (!field || SoftDeleteRewriter.mentions(nested, field)) return nested;
      return Object.keys(nested).length > 0 ? { AND: [nested, this.live(relation.model)] } : this.live(relation.model);
    };
    if (relation.list) {
      const out: Where = { ...filter };
      if ('some' in filter) out['some'] = alive(filter['some']);
      if ('none' in filter) out['none'] = alive(filter['none']);
      // "every live row matches": deleted rows match vacuously.
      if ('every' in filter) {
        const nested = this.relationFilters(relation.model, filter['every']) ?? {};
        out['every'] = field && !SoftDeleteRewriter.mentions(nested, field) ? { OR: [nested, this.deleted(relation.model)] } : nested;
      }
      return out;
    }
    if ('is' in filter || 'isNot' in filter) {
      const out: Where = { ...filter };
      // With soft deletes, "no related row" means "no live related row", and the other way round.
      if ('is' in filter) {
        if (filter['is'] !== null) out['is'] = alive(filter['is']);
        else if (field) {
          delete out['is'];
          out['isNot'] = this.live(relation.model);
        }
      }
      if ('isNot' in filter) {
        if (filter['isNot'] !== null) out['isNot'] = alive(filter['isNot']);
        else if (field) {
          delete out['isNot'];
          out['is'] = this.live(relation.model);
        }
      }
      return out;
    }
    return alive(filter);
  }

  /**
   * Rewrites `include`/`select` of a query on `model`: to-many relations to soft-deletable models get the
   * deleted filter (at any depth, `_count` included); to-one relations get the field selected so that
   * {@link hideDeleted} can null them. Returns the new args and the plan for the result.
   */
  selection(model: string, args: Args): { args: Args; plan: ReadPlan } {
    const plan: ReadPlan = { relations: new Map() };
    const out: Args = { ...args };
    for (const key of ['include', 'select'] as const) {
      const selection = args[key];
      if (!isObject(selection)) continue;
      const next: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(selection)) {
        if (name === '_count') {
          next[name] = this.countSelection(model, value === true ? { select: this.listRelations(model) } : value);
          continue;
        }
        const relation = this.meta.models[model]?.relations[name];
        if (!relation || !value) {
          next[name] = value;
          continue;
        }
        const field = this.field(relation.model);
        const inner: Args = isObject(value) ? { ...value } : {};
        if (relation.list && field) inner['where'] = this.where(relation.model, inner['where'], false);
        else if (relation.list) inner['where'] = this.relationFilters(relation.model, inner['where']);
        const nested = this.selection(relation.model, inner);
        let stripField: string | undefined;
        if (!relation.list && field && isObject(nested.args['select']) && !nested.args['select'][field]) {
          nested.args['select'] = { ...nested.args['select'], [field]: true };
          stripField = field;
        } else if (!relation.list && field && !isObject(nested.args['select'])) {
          // The field is needed to hide a deleted row, even when the query or the client omits it.
          if (isObject(nested.args['omit']) && nested.args['omit'][field]) stripField = field;
          nested.args['omit'] = { ...(isObject(nested.args['omit']) ? nested.args['omit'] : {}), [field]: false };
        }
        next[name] = Object.keys(nested.args).length === 0 ? true : nested.args;
        plan.relations.set(name, { ...(!relation.list && field ? { toOneField: field, toOneModel: relation.model } : {}), ...(stripField ? { stripField } : {}), nested: nested.plan });
      }
      out[key] = next;
    }
    return { args: out, plan };
  }

  /** `{ relation: true }` for every to-many relation of `model` (what `_count: true` counts). */
  private listRelations(model: string): Record<string, boolean> {
    const relations = this.meta.models[model]?.relations ?? {};
    return Object.fromEntries(Object.entries(relations).filter(([, relation]) => relation.list).map(([name]) => [name, true]));
  }

  /**
   * For results unwrapped along `dataPath` (the fluent API, `post.findUnique(…).author()`): the plan step
   * the result now stands at, so a deleted to-one row still reads as null.
   */
  unwrapped<T>(result: T, plan: ReadPlan, dataPath: readonly string[]): T {
    let step: { toOneField?: string; toOneModel?: string; nested: ReadPlan } | undefined;
    let current = plan;
    for (const segment of dataPath) {
      if (segment === 'select' || segment === 'include') continue;
      step = current.relations.get(segment);
      if (!step) return result;
      current = step.nested;
    }
    if (!step) return this.hideDeleted(result, plan);
    if (step.toOneField && step.toOneModel && isObject(result) && this.isDeletedValue(step.toOneModel, result[step.toOneField])) return null as T;
    return this.hideDeleted(result, current);
  }

  private countSelection(model: string, value: unknown): unknown {
    if (!isObject(value) || !isObject(value['select'])) return value;
    const select: Record<string, unknown> = {};
    for (const [name, inner] of Object.entries(value['select'])) {
      const relation = this.meta.models[model]?.relations[name];
      if (!relation || !inner || !this.field(relation.model)) {
        select[name] = inner;
        continue;
      }
      const args: Args = isObject(inner) ? { ...inner } : {};
      select[name] = { ...args, where: this.where(relation.model, args['where'], false) };
    }
    return { ...value, select };
  }

  /** Applies a read plan to a result: soft-deleted to-one relations become null; added fields are removed. */
  hideDeleted<T>(result: T, plan: ReadPlan): T {
    if (plan.relations.size === 0 || result === null || result === undefined) return result;
    if (Array.isArray(result)) return result.map((item) => this.hideDeleted(item, plan)) as T;
    if (!isObject(result)) return result;
    const record = result as Record<string, unknown>;
    for (const [name, step] of plan.relations) {
      const value = record[name];
      if (value === undefined) continue;
      if (step.toOneField && step.toOneModel && isObject(value) && this.isDeletedValue(step.toOneModel, value[step.toOneField])) {
        record[name] = null;
        continue;
      }
      const cleaned = this.hideDeleted(value, step.nested);
      if (step.stripField && isObject(cleaned)) delete cleaned[step.stripField];
      record[name] = cleaned;
    }
    return result;
  }

  /**
   * Rewrites nested writes in `data` of a create/update on `model`: a nested `delete`/`deleteMany` of a
   * soft-deletable relation becomes an `update`/`updateMany` setting its field, at any depth.
   */
  data(model: string, data: unknown, now: Date): unknown {
    if (Array.isArray(data)) return data.map((item) => this.data(model, item, now));
    if (!isObject(data)) return data;
    const out: Record<string, unknown> = { ...data };
    for (const [name, value] of Object.entries(data)) {
      const relation = this.meta.models[model]?.relations[name];
      if (!relation || !isObject(value)) continue;
      const field = this.field(relation.model);
      const nested: Record<string, unknown> = {};
      for (const [op, arg] of Object.entries(value)) {
        if (['create', 'update', 'upsert', 'connectOrCreate', 'createMany', 'updateMany'].includes(op)) nested[op] = this.nestedData(relation.model, op, arg, now);
        else nested[op] = arg;
      }
      if (field) this.guardNestedWrites(relation, field, nested);
      const cascade = this.cascadeData(relation.model, now);
      if (field && 'deleteMany' in value && Object.keys(cascade).length > 0) {
        throw new Error(`softDelete: "${relation.model}" cascades to ${Object.keys(cascade).join(', ')}; a nested deleteMany cannot cascade, delete the rows one by one`);
      }
      if (field && 'delete' in value) {
        const target = value['delete'];
        delete nested['delete'];
        // To-one `delete: false` means "do not delete" in Prisma: nothing to soft-delete.
        if (target === false && !relation.list) {
          if (Object.keys(nested).length > 0) out[name] = nested;
          else delete out[name];
          continue;
        }
        if (relation.list) {
          const list = (Array.isArray(target) ? target : [target]).map((where) => ({ where: { ...(where as Where), ...this.live(relation.model) }, data: { ...this.stamp(relation.model, now), ...cascade } }));
          nested['update'] = [...(Array.isArray(nested['update']) ? nested['update'] : nested['update'] ? [nested['update']] : []), ...list];
        } else if (target === true) {
          nested['update'] = { where: this.live(relation.model), data: { ...this.stamp(relation.model, now), ...cascade } };
        } else {
          nested['update'] = { where: { ...(target as Where), ...this.live(relation.model) }, data: { ...this.stamp(relation.model, now), ...cascade } };
        }
      }
      if (field && 'deleteMany' in value) {
        const target = value['deleteMany'];
        delete nested['deleteMany'];
        const list = (Array.isArray(target) ? target : [target]).map((where) => ({ where: this.where(relation.model, where, false) ?? {}, data: this.stamp(relation.model, now) }));
        nested['updateMany'] = [...(Array.isArray(nested['updateMany']) ? nested['updateMany'] : nested['updateMany'] ? [nested['updateMany']] : []), ...list];
      }
      out[name] = nested;
    }
    return out;
  }

  /**
   * The relations of `model` that `data` upserts to-one, where the related model is soft-deletable: the
   * extension reads them before the write. Pure.
   */
  toOneUpserts(model: string, data: unknown): { name: string; relation: RelationMeta; field: string }[] {
    if (!isObject(data)) return [];
    return Object.entries(data).flatMap(([name, value]) => {
      const relation = this.meta.models[model]?.relations[name];
      const field = relation ? this.field(relation.model) : undefined;
      return relation && field && !relation.list && isObject(value) && 'upsert' in value ? [{ name, relation, field }] : [];
    });
  }

  /** Nested `update`/`updateMany`/`upsert` of a soft-deletable relation never reach deleted rows. */
  private guardNestedWrites(relation: RelationMeta, field: string, nested: Record<string, unknown>): void {
    const live = (where: unknown, unique: boolean): Where | undefined => this.where(relation.model, where, unique);
    for (const op of ['update', 'updateMany', 'upsert'] as const) {
      const arg = nested[op];
      if (arg === undefined) continue;
      const each = (item: unknown): unknown => {
        if (!isObject(item)) return item;
        if (relation.list || op === 'updateMany') return 'where' in item ? { ...item, where: live(item['where'], op !== 'updateMany') } : item;
        if (op === 'update' && this.models[relation.model]?.allowToOneUpdates) return item;
        // To-one: `update: data` or `update: { where, data }`; `upsert: { create, update, where? }`. A to-one
        // upsert gets no added `where` (Prisma 7 fails with P2021 when one does not match); the extension reads
        // the related row first and turns the upsert into a create when that row is soft-deleted.
        if (op === 'upsert') return item;
        return 'data' in item && Object.keys(item).every((k) => k === 'data' || k === 'where') ? { ...item, where: live(item['where'], true) } : { where: this.live(relation.model), data: item };
      };
      nested[op] = Array.isArray(arg) ? arg.map(each) : each(arg);
    }
  }

  private nestedData(model: string, op: string, arg: unknown, now: Date): unknown {
    const each = (item: unknown): unknown => {
      if (!isObject(item)) return item;
      if (op === 'create') return this.data(model, item, now);
      if (op === 'createMany') return item;
      if ('data' in item || 'create' in item || 'update' in item) {
        const copy: Record<string, unknown> = { ...item };
        for (const key of ['data', 'create', 'update']) if (key in copy) copy[key] = this.data(model, copy[key], now);
        return copy;
      }
      return this.data(model, item, now);
    };
    return Array.isArray(arg) ? arg.map(each) : each(arg);
  }

  /** Nested `update` data that soft-deletes the cascade relations of a `model` row (to-many only). */
  cascadeData(model: string, now: Date): Record<string, unknown> {
    const config = this.models[model];
    const out: Record<string, unknown> = {};
    for (const name of config?.cascade ?? []) {
      const relation = this.meta.models[model]?.relations[name];
      const field = relation ? this.field(relation.model) : undefined;
      if (!relation?.list || !field) continue;
      // One level: updateMany cannot nest further writes (deeper rows follow their own delete's cascade).
      out[name] = { updateMany: { where: this.live(relation.model), data: this.stamp(relation.model, now) } };
    }
    return out;
  }
}
