import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Prisma } from '@prisma/client/extension';
import { delegateName, type ModelMeta } from './model-meta.js';

/** Who made a change (from your request context). */
export interface AuditActor {
  readonly userId?: string | null;
  readonly email?: string | null;
  readonly role?: string | null;
  readonly requestId?: string | null;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  readonly tenantId?: string | null;
}

/** The request-scoped actor: `auditContext.run(actor, handler)` in your HTTP middleware. */
export const auditContext = new AsyncLocalStorage<AuditActor>();

/** Configuration of `auditLog`. */
export interface AuditLogConfig<Meta extends ModelMeta> {
  readonly meta: Meta;
  /** Audited models (default: all but the audit model). */
  readonly models?: readonly (keyof Meta['models'] & string)[];
  /** Where entries go (seed 003's `AuditLog` columns). */
  readonly auditModel?: keyof Meta['models'] & string;
  /** The actor; default the `auditContext` store. */
  readonly actor?: () => AuditActor | undefined;
  /** Soft-delete fields, so a soft delete is recorded as `delete` (pass the same map as to `softDelete`). */
  readonly softDeleteFields?: { readonly [M in keyof Meta['models'] & string]?: string };
  /** `sensitivity` per model (default `normal`). */
  readonly sensitivity?: { readonly [M in keyof Meta['models'] & string]?: string };
}

interface InternalParams {
  readonly action: string;
  readonly model?: string;
  readonly transaction?: unknown;
  readonly [key: string]: unknown;
}

type QueryFn = (args: unknown, internal?: InternalParams) => Promise<unknown>;

const AUDITED = new Set(['create', 'update', 'upsert', 'delete', 'updateMany', 'deleteMany', 'createMany', 'createManyAndReturn', 'updateManyAndReturn']);

function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && 'toFixed' in value && 'd' in value) return String(value);
  return value;
}

/** `{ field: { before, after } }` for the scalar fields that differ. Pure. */
export function diffRecords(before: Record<string, unknown> | null, after: Record<string, unknown> | null, scalars: readonly string[]): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of scalars) {
    const a = plain(before?.[field] ?? null);
    const b = plain(after?.[field] ?? null);
    if (JSON.stringify(a) !== JSON.stringify(b)) changes[field] = { before: a, after: b };
  }
  return changes;
}

/**
 * The audit-log Prisma Client extension (seed 003 phase 1). It records `create`, `update`, `upsert`,
 * `delete` (soft deletes included, as `delete`), `updateMany` and `deleteMany` as entries of the audit
 * model: entityType, entityId, the actor from `auditContext`, and a before/after `changes` diff of the
 * scalar fields.
 *
 * Guarantees:
 * - **Atomic**: the entry is written in the same transaction as the change. Inside your `$transaction`
 *   (interactive or batch) it joins that transaction. A standalone write is wrapped in a transaction of its
 *   own, so the change and its entry commit together or not at all.
 * - **Order**: add it after `softDelete` (`client.$extends(softDelete(…)).$extends(auditLog(…))`), so it
 *   sees soft deletes as the updates they became and records them as `delete`.
 * - **Cost**: one read of the row(s) before an update or delete, one insert per changed row. `*Many`
 *   operations read the matching rows before and after.
 */
export function auditLog<Meta extends ModelMeta>(config: AuditLogConfig<Meta>) {
  const auditModel = config.auditModel ?? 'AuditLog';
  if (!config.meta.models[auditModel]) throw new Error(`auditLog: the audit model "${auditModel}" is not in the generated metadata`);
  const audited = new Set<string>((config.models as readonly string[] | undefined) ?? Object.keys(config.meta.models).filter((m) => m !== auditModel));
  for (const model of audited) {
    if (!config.meta.models[model]) throw new Error(`auditLog: model "${model}" is not in the generated metadata`);
  }
  const actorOf = config.actor ?? (() => auditContext.getStore());

  return Prisma.defineExtension((client) => {
    const base = client as unknown as { $transaction<T>(fn: (tx: { _createPrismaPromise(cb: (t: unknown) => Promise<unknown>): Promise<unknown> }) => Promise<T>): Promise<T> };
    return client.$extends({
      name: 'prisma-evolve-audit-log',
      query: {
        $allModels: {
          async $allOperations(params) {
            const { model, operation, args, query, __internalParams } = params as unknown as {
              model: string;
              operation: string;
              args: Record<string, unknown>;
              query: QueryFn;
              __internalParams: InternalParams;
            };
            if (!audited.has(model) || !AUDITED.has(operation)) return query(args);
            const transaction = __internalParams.transaction as { kind?: string } | undefined;
            if (transaction?.kind === 'batch') {
              throw new Error(`auditLog: ${model}.${operation} in a batch $transaction([...]) cannot be audited atomically (the audit reads and writes need their own round trips); use an interactive $transaction(async (tx) => …)`);
            }
            if (transaction === undefined) {
              // No transaction of the caller's: open one and run this same operation chain inside it, so
              // every later extension still applies and the change and its entry commit together.
              return base.$transaction(async (tx) => {
                const handle = await tx._createPrismaPromise((t) => Promise.resolve(t));
                return audit(model, operation, args, query, { ...__internalParams, transaction: handle });
              });
            }
            return audit(model, operation, args, query, __internalParams);
          },
        },
      },
    });
  });

  async function audit(model: string, operation: string, args: Record<string, unknown>, query: QueryFn, internal: InternalParams): Promise<unknown> {
    const info = config.meta.models[model];
    if (!info) return query(args);
    if (info.id.length === 0) throw new Error(`auditLog: "${model}" has neither an id nor a unique key to name its rows by`);
    const run = (action: string, runArgs: unknown, target = model): Promise<unknown> =>
      query(runArgs, { ...internal, model: target, action, clientMethod: `${delegateName(target)}.${action}`, args: runArgs, dataPath: [] });
    const byIds = (rows: readonly Record<string, unknown>[]): Record<string, unknown> => ({ OR: rows.map((row) => Object.fromEntries(info.id.map((f) => [f, row[f]]))) });
    const many = ['updateMany', 'deleteMany', 'updateManyAndReturn'].includes(operation);
    const creates = ['create', 'createMany', 'createManyAndReturn'].includes(operation);
    const before: Record<string, unknown>[] = creates
      ? []
      : many
        ? ((await run('findMany', { where: args['where'] })) as Record<string, unknown>[])
        : ([await run('findUnique', { where: args['where'] })].filter(Boolean) as Record<string, unknown>[]);
    // The ids of written rows must come back even when the caller selects other fields: add, then strip.
    const select = args['select'] as Record<string, unknown> | undefined;
    const missing = select ? info.id.filter((field) => !select[field]) : [];
    const writeArgs = missing.length > 0 ? { ...args, select: { ...select, ...Object.fromEntries(missing.map((f) => [f, true])) } } : args;
    let result: unknown;
    if (operation === 'createMany') {
      // Run as createManyAndReturn to learn the new rows; the caller still gets { count }.
      const rows = (await run('createManyAndReturn', writeArgs)) as Record<string, unknown>[];
      result = { count: rows.length };
      before.length = 0;
      (args as Record<string, unknown>)['__created'] = rows;
    } else {
      // With `internal`, so the write runs in the transaction this audit runs in.
      result = await query(writeArgs, { ...internal, args: writeArgs });
    }
    const idOf = (row: Record<string, unknown>): string => info.id.map((field) => String(row[field])).join(':');
    let after: Record<string, unknown>[];
    if (operation === 'deleteMany' || operation === 'delete') after = [];
    else if (operation === 'updateMany' || operation === 'updateManyAndReturn') {
      after = before.length > 0 ? ((await run('findMany', { where: byIds(before) })) as Record<string, unknown>[]) : [];
    } else {
      const written = operation === 'createMany' ? ((args as Record<string, unknown>)['__created'] as Record<string, unknown>[]) : Array.isArray(result) ? (result as Record<string, unknown>[]) : [result as Record<string, unknown>];
      delete (args as Record<string, unknown>)['__created'];
      after = written.length > 0 ? ((await run('findMany', { where: byIds(written) })) as Record<string, unknown>[]) : [];
    }
    if (missing.length > 0 && result !== null && typeof result === 'object') {
      for (const row of Array.isArray(result) ? result : [result]) for (const field of missing) delete (row as Record<string, unknown>)[field];
    }
    const softField = config.softDeleteFields?.[model as keyof Meta['models'] & string];
    const actor = actorOf() ?? {};
    const entries: Record<string, unknown>[] = [];
    const keys = new Set([...before.map(idOf), ...after.map(idOf)]);
    for (const key of keys) {
      const old = before.find((row) => idOf(row) === key) ?? null;
      const now = after.find((row) => idOf(row) === key) ?? null;
      let action = old === null ? 'create' : now === null ? 'delete' : 'update';
      // A stamp (DateTime?) or a flag (Boolean): set means deleted, null or false means live.
      const marked = (row: Record<string, unknown>): boolean => row[softField ?? ''] !== null && row[softField ?? ''] !== undefined && row[softField ?? ''] !== false;
      if (softField && old && now && !marked(old) && marked(now)) action = 'delete';
      if (softField && old && now && marked(old) && !marked(now)) action = 'restore';
      const changes = diffRecords(old, now, info.scalars);
      if (action === 'update' && Object.keys(changes).length === 0) continue;
      entries.push({
        id: randomUUID(),
        tenantId: String(actor.tenantId ?? (now ?? old)?.['tenantId'] ?? 'global'),
        userId: actor.userId ?? null,
        userEmail: actor.email ?? null,
        userRole: actor.role ?? null,
        action,
        entityType: model,
        entityId: key,
        changes,
        ipAddress: actor.ip ?? null,
        userAgent: actor.userAgent ?? null,
        requestId: actor.requestId ?? null,
        sensitivity: config.sensitivity?.[model as keyof Meta['models'] & string] ?? 'normal',
      });
    }
    if (entries.length > 0) await run('createMany', { data: entries }, auditModel);
    return result;
  }
}
