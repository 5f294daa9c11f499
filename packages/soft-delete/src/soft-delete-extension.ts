import { AsyncLocalStorage } from 'node:async_hooks';
import { Prisma } from '@prisma/client/extension';
import { delegateName, type ModelMeta, type ScalarOf } from './model-meta.js';
import { SoftDeleteRewriter, type SoftDeleteModelConfig } from './soft-delete-rewriter.js';

/** One model's soft-delete settings: its field, the to-many relations deleted with it, and custom values. */
export type SoftDeleteModelSettings<Meta extends ModelMeta, M extends keyof Meta['models'] & string> = {
  readonly field: ScalarOf<Meta, M>;
  readonly cascade?: readonly (keyof Meta['models'][M]['relations'] & string)[];
  /** The field's value for a live row (`false`) and for a row being deleted (`true`); needed for a field that is neither `DateTime?` nor `Boolean`. */
  readonly createValue?: (deleted: boolean) => unknown;
  /** Other fields written with the flag: `alsoSet(true)` on a delete (`{ deletedBy: userId }`), `alsoSet(false)` on a restore. */
  readonly alsoSet?: (deleted: boolean) => Record<string, unknown>;
  /** Opt-out (default `false`): a nested to-one `update` reaches this model's row even when it is soft-deleted. */
  readonly allowToOneUpdates?: boolean;
  /** Opt-out (default `false`): `findUnique`/`findUniqueOrThrow` by a compound unique key find soft-deleted rows too. */
  readonly allowCompoundUniqueIndexWhere?: boolean;
};

/**
 * Configuration of `softDelete`. Each model is `true` (the `defaultConfig`, or `{ field: 'deletedAt' }`),
 * `false` or absent (not soft-deletable), or its own settings.
 */
export type SoftDeleteConfig<Meta extends ModelMeta> = {
  readonly meta: Meta;
  /** What `true` means for a model (default `{ field: 'deletedAt' }`). */
  readonly defaultConfig?: { readonly field: string; readonly createValue?: (deleted: boolean) => unknown; readonly alsoSet?: (deleted: boolean) => Record<string, unknown> };
  readonly models: { readonly [M in keyof Meta['models'] & string]?: boolean | SoftDeleteModelSettings<Meta, M> };
};

/**
 * The settings of every soft-deletable model: `true` expanded to the default, `false` left out, and each
 * field checked against the generated metadata (a `DateTime?` stamp, a `Boolean` flag, or any field with a
 * `createValue`). Throws naming the model and field. Pure.
 */
function normalizeModels(config: { meta: ModelMeta; defaultConfig?: SoftDeleteConfig<ModelMeta>['defaultConfig']; models: Readonly<Record<string, unknown>> }): Record<string, SoftDeleteModelConfig> {
  const out: Record<string, SoftDeleteModelConfig> = {};
  for (const [model, raw] of Object.entries(config.models)) {
    if (raw === false || raw === undefined) continue;
    const settings = (raw === true ? (config.defaultConfig ?? { field: 'deletedAt' }) : raw) as SoftDeleteModelConfig;
    const info = config.meta.models[model];
    if (!info) throw new Error(`softDelete: model "${model}" is not in the generated metadata`);
    if (typeof settings.field !== 'string' || !info.scalars.includes(settings.field)) {
      throw new Error(`softDelete: "${model}" has no field "${String(settings.field)}"${raw === true ? ' (the default for `true`; give { field } or a defaultConfig)' : ''}`);
    }
    const type = info.fieldTypes[settings.field];
    const flag = type?.type === 'Boolean';
    if (type && !settings.createValue && !flag && (type.type !== 'DateTime' || !type.optional)) {
      throw new Error(`softDelete: "${model}.${settings.field}" must be an optional DateTime or a Boolean (it is ${type.type}${type.optional ? '?' : ''}), or come with a createValue`);
    }
    for (const relation of settings.cascade ?? []) {
      if (!info.relations[relation]?.list) throw new Error(`softDelete: cascade "${model}.${relation}" is not a to-many relation`);
    }
    out[model] = { ...settings, ...(flag && !settings.createValue ? { createValue: (deleted: boolean) => deleted } : {}) };
  }
  return out;
}

/** Prisma's internal parameters of a query extension call (the operation's action, its transaction). */
interface InternalParams {
  readonly action: string;
  readonly clientMethod: string;
  readonly [key: string]: unknown;
}

type QueryFn = (args: unknown, internal?: InternalParams) => Promise<unknown>;

const bypass = new AsyncLocalStorage<boolean>();

const UNIQUE_READS = new Set(['findUnique', 'findUniqueOrThrow']);
const FILTERED_READS = new Set(['findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy']);
/** Operations whose `where` selects existing rows: deleted rows are left out of all of them. */
const WHERE_OPERATIONS = new Set([...UNIQUE_READS, ...FILTERED_READS, 'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany']);

/** The query rewriting both extensions share: settings, rewriter and the query component. */
function softDeleteCore(config: SoftDeleteConfig<ModelMeta>) {
  const models = normalizeModels(config as unknown as Parameters<typeof normalizeModels>[0]);
  const rewriter = new SoftDeleteRewriter(config.meta, models);

  async function handle({ model, operation, args, query, __internalParams }: { model: string; operation: string; args: unknown; query: QueryFn; __internalParams?: InternalParams }): Promise<unknown> {
    const input = (args ?? {}) as Record<string, unknown>;
    const field = rewriter.field(model);
    const now = new Date();
    const selection = rewriter.selection(model, input);
    const next: Record<string, unknown> = { ...selection.args };
    const run = async (nextArgs: unknown, action?: string): Promise<unknown> => {
      const dataPath = Array.isArray(__internalParams?.['dataPath']) ? (__internalParams['dataPath'] as string[]) : [];
      if (!action) return rewriter.unwrapped(await query(nextArgs), selection.plan, dataPath);
      if (!__internalParams || typeof __internalParams.action !== 'string') {
        throw new Error('softDelete: this Prisma version does not expose query-extension internal parameters; a soft delete cannot stay in your transaction');
      }
      const internal = { ...__internalParams, action, clientMethod: `${delegateName(model)}.${action}`, args: nextArgs };
      return rewriter.unwrapped(await query(nextArgs, internal), selection.plan, dataPath);
    };
    if (field && operation === 'delete' && !bypass.getStore()) {
      next['where'] = rewriter.where(model, input['where'], true);
      next['data'] = { ...rewriter.stamp(model, now), ...rewriter.cascadeData(model, now) };
      return run(next, 'update');
    }
    if (field && operation === 'deleteMany' && !bypass.getStore()) {
      if ((models[model]?.cascade ?? []).length > 0) {
        throw new Error(`softDelete: "${model}" cascades to ${models[model]?.cascade?.join(', ')}; deleteMany cannot cascade in one statement, delete the rows one by one`);
      }
      // Every other argument (e.g. `limit`) carries over to the updateMany.
      return run({ ...input, where: rewriter.where(model, input['where'], false), data: rewriter.stamp(model, now) }, 'updateMany');
    }
    if (WHERE_OPERATIONS.has(operation)) {
      const unique = UNIQUE_READS.has(operation) || operation === 'update' || operation === 'upsert' || operation === 'delete';
      next['where'] = field && !bypass.getStore() ? rewriter.where(model, input['where'], unique, UNIQUE_READS.has(operation)) : rewriter.relationFilters(model, input['where']);
      if (next['where'] === undefined) delete next['where'];
    }
    if ('data' in input) next['data'] = rewriter.data(model, input['data'], now);
    if (operation === 'update' && !bypass.getStore()) await leaveDeletedToOneAlone(next, query, __internalParams ? { ...__internalParams, model } : undefined);
    if (operation === 'upsert') {
      if ('update' in input) next['update'] = rewriter.data(model, input['update'], now);
      if ('create' in input) next['create'] = rewriter.data(model, input['create'], now);
    }
    return run(next);
  }

  /**
   * A to-one `upsert` inside an `update` whose related row is soft-deleted leaves that row alone and creates
   * a new one, connected in its place: the related row is read first, in the caller's transaction (the same
   * Prisma query pipeline). Where the foreign key is on the related side and unique, a second row cannot
   * stand beside the deleted one: that is an error naming the relation. In a batch transaction nothing can be
   * read first: the upsert runs as the plain client runs it.
   */
  async function leaveDeletedToOneAlone(next: Record<string, unknown>, query: QueryFn, internal: InternalParams | undefined): Promise<void> {
    const upserts = rewriter.toOneUpserts(internal?.['model'] as string, next['data']);
    const transaction = internal?.['transaction'] as { kind?: string } | undefined;
    if (upserts.length === 0 || !internal || transaction?.kind === 'batch') return;
    const parentModel = internal['model'] as string;
    const select = Object.fromEntries(upserts.map(({ name, field }) => [name, { select: { [field]: true } }]));
    const readArgs = { where: next['where'], select };
    const parent = (await query(readArgs, { ...internal, action: 'findUnique', clientMethod: `${delegateName(parentModel)}.findUnique`, args: readArgs })) as Record<string, unknown> | null;
    if (!parent) return;
    const data = { ...(next['data'] as Record<string, unknown>) };
    for (const { name, relation, field } of upserts) {
      const related = parent[name] as Record<string, unknown> | null | undefined;
      if (!related || !rewriter.isDeletedValue(relation.model, related[field])) continue;
      if (relation.from.length === 0) {
        throw new Error(
          `softDelete: the ${relation.model} of this ${parentModel} ("${name}") is soft-deleted, and it holds a unique key to ${parentModel}: a new one cannot be created beside it; restore it (restore) or remove it for good (hardDelete) first`,
        );
      }
      const { upsert, ...rest } = data[name] as Record<string, unknown>;
      data[name] = { ...rest, create: (upsert as Record<string, unknown>)['create'] };
    }
    next['data'] = data;
  }

  // The query component both extensions install: every operation of every model through `handle`.
  const query = {
    $allModels: {
      $allOperations(params: unknown): Promise<unknown> {
        return handle(params as Parameters<typeof handle>[0]);
      },
    },
  };
  return { models, rewriter, query };
}

/**
 * The soft-delete Prisma Client extension (Prisma 7, `$extends`).
 *
 * Guarantees:
 * - `delete` sets the field and `deleteMany` becomes `updateMany`; already-deleted rows keep their stamp,
 *   and a `delete` of one is P2025 like a hard delete of a missing row.
 * - Reads leave deleted rows out: `findUnique` stays a unique lookup; `findMany`, `findFirst`, `count`,
 *   `aggregate` and `groupBy` are filtered, unless the `where` names the field (through AND/OR/NOT too).
 * - Nested reads: to-many `include`/`select` (and `_count`) are filtered at any depth, and to-one
 *   relations to a deleted row read as null. Relation filters `some`/`every`/`none`/`is`/`isNot` ignore
 *   deleted rows.
 * - `update`, `updateMany` and `upsert` never touch deleted rows unless the `where` names the field. A
 *   nested `delete`/`deleteMany` inside a write becomes a soft delete.
 * - **Transactions**: the rewritten operation is the same Prisma operation call, so it runs inside the
 *   caller's `$transaction` (interactive or batch) and commits or rolls back with it. It uses Prisma's
 *   internal query-extension parameters to change the action (`delete` → `update`); a startup check fails
 *   loudly if a Prisma version lacks them.
 * - **Cascades**: `cascade: ['posts']` soft-deletes those to-many children with the parent, in the same
 *   statement. Without it, children stay visible (reads through the deleted parent still hide the parent).
 * - **Escape hatches** on every model: `restore`, `findDeleted`, `findManyWithDeleted`, `hardDelete`.
 */
export function softDelete<Meta extends ModelMeta>(config: SoftDeleteConfig<Meta>) {
  const { models, rewriter, query } = softDeleteCore(config as unknown as SoftDeleteConfig<ModelMeta>);
  return Prisma.defineExtension((client) =>
    client.$extends({
      name: 'prisma-evolve-soft-delete',
      query,
      model: {
        $allModels: {
          /** Un-deletes the rows matching `where` (sets the field back to NULL). A Prisma promise: batch transactions accept it. */
          restore<T>(this: T, args: { where: Record<string, unknown> }): Prisma.PrismaPromise<{ count: number }> {
            const ctx = Prisma.getExtensionContext(this) as unknown as { $name: string; updateMany(a: unknown): Prisma.PrismaPromise<{ count: number }> };
            const model = modelOf(ctx.$name);
            return ctx.updateMany({ where: { AND: [args.where, rewriter.deleted(model)] }, data: rewriter.restoreData(model) });
          },
          /** Soft-deleted rows only. A Prisma promise. */
          findDeleted<T>(this: T, args: Record<string, unknown> = {}): Prisma.PrismaPromise<unknown[]> {
            const ctx = Prisma.getExtensionContext(this) as unknown as { $name: string; findMany(a: unknown): Prisma.PrismaPromise<unknown[]> };
            const model = modelOf(ctx.$name);
            return ctx.findMany({ ...args, where: { AND: [args['where'] ?? {}, rewriter.deleted(model)] } });
          },
          /** Live and soft-deleted rows. A Prisma promise. */
          findManyWithDeleted<T>(this: T, args: Record<string, unknown> = {}): Prisma.PrismaPromise<unknown[]> {
            const ctx = Prisma.getExtensionContext(this) as unknown as { $name: string; findMany(a: unknown): Prisma.PrismaPromise<unknown[]> };
            const model = modelOf(ctx.$name);
            // Naming the field (live or not) tells the read rewriting to keep deleted rows.
            return ctx.findMany({ ...args, where: { AND: [args['where'] ?? {}, { OR: [rewriter.live(model), rewriter.deleted(model)] }] } });
          },
          /** A real `DELETE` (an async function: use it in interactive transactions, not in a batch). */
          async hardDelete<T>(this: T, args: Record<string, unknown>): Promise<unknown> {
            const ctx = Prisma.getExtensionContext(this) as unknown as { delete(a: unknown): Promise<unknown> };
            return bypass.run(true, async () => await ctx.delete(args));
          },
        },
      },
    }),
  );

  function modelOf(name: string): string {
    const model = Object.keys(models).find((m) => m === name || delegateName(m) === name);
    if (!model) throw new Error(`softDelete: model "${name}" is not soft-deletable`);
    return model;
  }
}

/**
 * The same query rewriting as {@link softDelete}, with the same guarantees, without the model methods
 * (`restore`, `findDeleted`, `findManyWithDeleted`, `hardDelete`). Prisma wraps every model delegate of a
 * client whose extension adds model methods, and that costs each query a few percent (measured in `pnpm bench
 * soft-delete`); an API server that never calls them can use this one. Compose both in one client only if you
 * want the methods after all: then use {@link softDelete} alone.
 */
export function softDeleteQueries<Meta extends ModelMeta>(config: SoftDeleteConfig<Meta>) {
  const { query } = softDeleteCore(config as unknown as SoftDeleteConfig<ModelMeta>);
  return Prisma.defineExtension((client) =>
    client.$extends({
      name: 'prisma-evolve-soft-delete',
      query,
    }),
  );
}
