/**
 * `@prisma-evolve/soft-delete`: Prisma Client extensions for API servers (soft delete, audit log) and the
 * `prisma-evolve-meta` generator that gives them the schema's metadata.
 */
export { softDelete, softDeleteQueries } from './soft-delete-extension.js';
export type { SoftDeleteConfig, SoftDeleteModelSettings } from './soft-delete-extension.js';
export { SoftDeleteRewriter } from './soft-delete-rewriter.js';
export { nullableRelations } from './nullable-relations.js';
export type { SoftDeletedRelations } from './nullable-relations.js';
export type { SoftDeleteModelConfig } from './soft-delete-rewriter.js';
export { delegateName } from './model-meta.js';
export type { ModelMeta, ModelInfo, RelationMeta, ScalarOf } from './model-meta.js';
export { auditLog, auditContext, diffRecords } from './audit-log-extension.js';
export type { AuditLogConfig, AuditActor } from './audit-log-extension.js';
