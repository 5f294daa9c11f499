/**
 * `@prisma-evolve/core`: the public API of prisma-evolve. Everything exported here is supported;
 * anything reached by a deep import is not.
 */
export {
  EvolveError,
  ConnectionFailedError,
  DatabaseError,
  SchemaEngineError,
  MigrationsDirError,
  InvalidArgumentError,
  TableNotFoundError,
  ColumnNotFoundError,
  NoUsableKeyError,
  BackfillBatchFailedError,
  BackfillSpecChangedError,
  CoverageBelowThresholdError,
} from './errors.js';
export type { EvolveErrorCode } from './errors.js';
export { quoteIdent, quoteQualified, quoteLiteral, identifierSchema, identifierProblem, MAX_IDENTIFIER_BYTES } from './sql.js';
export { parseConnectionTarget, withDatabase, assertReachable, DEFAULT_CONNECT_TIMEOUT_MS } from './db/connection-target.js';
export type { ConnectionTarget } from './db/connection-target.js';
export { withSchemaEngine } from './prisma/schema-engine.js';
export { withClient } from './db/with-client.js';
export { inBatchTransaction } from './backfill/batch-transaction.js';
export type { BatchTimeouts } from './backfill/batch-transaction.js';
export type { SchemaEngineOptions } from './prisma/schema-engine.js';
export { readMigrationsDir, prismaTimestamp, MIGRATION_FILE, MIGRATION_LOCKFILE } from './prisma/migrations-dir.js';
export { applyPrismaMigrations, diagnosePrismaMigrations, diffEmptyToSchema, diffPrismaSchemas, diffDatabaseToSchema, isEmptyDiff, createPrismaMigration, readSchemaFiles, migrationNameSlug } from './prisma/prisma-migrations.js';
export type { PrismaMigrationsOptions, CreatePrismaMigrationOptions, CreatedPrismaMigration } from './prisma/prisma-migrations.js';
export { readMigrationHistory } from './prisma/migration-history.js';
export type { MigrationHistoryEntry, MigrationState } from './prisma/migration-history.js';
export { listTables } from './db/list-tables.js';
export { toolkitName, isToolkitName, RESERVED_PREFIX } from './naming.js';
export type { ToolkitObjectKind } from './naming.js';
export {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_POLICY,
  RETRYABLE_SQLSTATES,
  isRetryable,
  retryDelayMs,
  sqlStateOf,
} from './db/retry-policy.js';
export type { RetryPolicy } from './db/retry-policy.js';
export { readTableInfo, chooseWalkKey } from './db/table-catalog.js';
export type { TableInfo, ColumnInfo } from './db/table-catalog.js';
export {
  DataMigrationStore,
  DEFAULT_TRACKING,
  DEFAULT_STATE_SCHEMA,
  DEFAULT_DATA_MIGRATION_TABLE,
  MAX_ERROR_LOG_ENTRIES,
  STATUS_TRANSITIONS,
} from './tracking/data-migration-store.js';
export type { TrackingLocation, DataMigrationRow, DataMigrationStatus } from './tracking/data-migration-store.js';
export { backfill, backfillWith } from './backfill/backfill.js';
export type { BackfillResult, BackfillStatus } from './backfill/backfill.js';
export { DEFAULT_SCHEMA, DEFAULT_TABLE_ALIAS, DEFAULT_POLL_MS } from './backfill/backfill-options.js';
export type { BackfillOptions, BackfillWithOptions, BackfillCommonOptions, BackfillJoinOption } from './backfill/backfill-options.js';
export {
  BatchSizer,
  DEFAULT_BATCH_SIZING,
  DEFAULT_INITIAL_BATCH_SIZE,
  DEFAULT_MIN_BATCH_SIZE,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_TARGET_BATCH_MS,
  MAX_GROWTH,
} from './backfill/batch-sizer.js';
export type { BatchSizing } from './backfill/batch-sizer.js';
export type { BatchEvent, PauseEvent, ThrottleHook } from './backfill/backfill-worker.js';
export type { ComputeFunction, ComputedValues, SourceRow } from './backfill/computed-batch-writer.js';
export type { CoverageReport } from './backfill/coverage-gate.js';
export { DEFAULT_COVERAGE_SAMPLES } from './backfill/coverage-gate.js';
export {
  checkDatabaseHealth,
  DEFAULT_MAX_REPLICATION_LAG_MS,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_PAUSE_MS,
} from './backfill/health-check.js';
export type { HealthCheckOptions, HealthStatus } from './backfill/health-check.js';
export type { BackfillProgress } from './backfill/progress-tracker.js';
export { DEFAULT_RANGE_ROWS, DEFAULT_LEASE_MS } from './backfill/range-claims.js';
export {
  BatchHistoryRecorder,
  batchHistoryDdl,
  readBatchHistory,
  BATCH_HISTORY_TABLE,
  DEFAULT_HISTORY_KEEP,
  DEFAULT_HISTORY_MAX_AGE_DAYS,
  DEFAULT_HISTORY_FLUSH_MS,
  DEFAULT_HISTORY_FLUSH_ROWS,
} from './monitor/batch-history.js';
export type { HistoryEntry, HistoryOptions, HistoryStats, PauseReason, StoredHistoryEntry } from './monitor/batch-history.js';
export {
  StepControlReader,
  stepControlDdl,
  setStepControl,
  clearStepCancel,
  clearStepControl,
  isStepControlObeyed,
  holdForStepControl,
  readStepControls,
  STEP_CONTROL_TABLE,
  DEFAULT_CONTROL_CACHE_MS,
  DEFAULT_CONTROL_POLL_MS,
} from './monitor/step-control.js';
export type { ControlAction, ControlState, StepControlFlag } from './monitor/step-control.js';
export { readDeadLetters, MAX_DEAD_LETTER_PAGE } from './monitor/dead-letters.js';
export type { DeadLetter, DeadLetterPage } from './monitor/dead-letters.js';
export { readPlanSteps, controlPlanStep, findControllableStep } from './phases/step-monitor.js';
export type { StepStatus } from './phases/step-monitor.js';
export { abortOnSignals } from './runtime/abort-on-signals.js';
export { readCatalogSnapshot, requireTable, requireColumn, findTable, findIndex } from './db/catalog-snapshot.js';
export type { CatalogSnapshot, SnapshotTable, SnapshotColumn, SnapshotIndex, SnapshotConstraint } from './db/catalog-snapshot.js';
export { parseSpec, step, prismaStyleName } from './operations/operation.js';
export type {
  Operation,
  OperationStep,
  OperationPlan,
  PlannedUnit,
  SqlUnit,
  DataUnit,
  DataUnitContext,
  DataOutcome,
  PlannedStatement,
  LockLevel,
  Check,
  Stage,
  CreatedObject,
} from './operations/operation.js';
export { createTable, createTableSpec } from './operations/create-table.js';
export { dropTable, dropTableSpec, droppedTableName } from './operations/drop-table.js';
export { addColumn, addColumnSpec } from './operations/add-column.js';
export { dropColumn, dropColumnSpec, droppedColumnBackupName } from './operations/drop-column.js';
export { renameColumn, renameColumnSpec } from './operations/rename-column.js';
export { changeColumnType, changeColumnTypeSpec, typeChangeColumnName } from './operations/change-column-type.js';
export type { SqlConversion } from './operations/change-column-type.js';
export { setNotNull, setNotNullSpec, notNullUnits } from './operations/set-not-null.js';
export { addForeignKey, addForeignKeySpec, foreignKeyName, orphanBackupName } from './operations/add-foreign-key.js';
export { addCheck, addCheckSpec } from './operations/add-check.js';
export { setDefault, setDefaultSpec } from './operations/set-default.js';
export { enableRls, enableRlsSpec } from './operations/enable-rls.js';
export { createPolicy, createPolicySpec } from './operations/create-policy.js';
export { dropDefault, dropDefaultSpec } from './operations/drop-default.js';
export { dropNotNull, dropNotNullSpec } from './operations/drop-not-null.js';
export { dropConstraint, dropConstraintSpec } from './operations/drop-constraint.js';
export { renameConstraint, renameConstraintSpec } from './operations/rename-constraint.js';
export { renameTable, renameTableSpec } from './operations/rename-table.js';
export { addEnumValue, addEnumValueSpec } from './operations/add-enum-value.js';
export { changeEnum, changeEnumSpec, changedEnumName } from './operations/change-enum.js';
export { addUnique, addUniqueSpec, addUniqueName } from './operations/add-unique.js';
export { createIndex, createIndexSpec, createIndexName } from './operations/create-index.js';
export { dropIndex, dropIndexSpec } from './operations/drop-index.js';
export { addSoftDelete, addSoftDeleteSpec } from './operations/add-soft-delete.js';
export { rawSql, rawSqlSpec } from './operations/raw-sql.js';
export { guardStatement } from './operations/guard-sql.js';
export { definePlan, definePhase, schemaStep, contractStep, dataStep, backfillStep, verifySql, phaseFolderId, phaseMigrationPrefix, isPlanFolder } from './phases/define-plan.js';
export type {
  PlanDefinition,
  PlanSettings,
  PhaseDefinition,
  PhaseRisk,
  StepDefinition,
  SchemaStepDefinition,
  DataStepDefinition,
  VerifyStepDefinition,
} from './phases/define-plan.js';
export { PhaseRunner, phaseRowName, stepRowName, applicationSchemas } from './phases/phase-runner.js';
export { TRASH_SCHEMA } from './phases/trash.js';
export type { TrashEntry, DetachedForeignKey } from './phases/trash.js';
export { listTrash, restoreTrash, purgeTrash } from './phases/trash-restore.js';
export type { RestoreResult } from './phases/trash-restore.js';
export type { RemovalReport } from './phases/phase-rollback.js';
export { BACKUP_SCHEMA, backupTable } from './naming.js';
export type { BackupTable } from './naming.js';
export type { PhaseStatus, PhaseReport, PhaseCheck, StepPlan, UnitPlan, RunnerEvent, PhaseRunnerOptions } from './phases/phase-runner.js';
export { folderName, renderMigrationSql, slug } from './phases/migration-folders.js';
export { PhaseNotFoundError, PhaseDependencyError, PrecheckFailedError, VerificationFailedError, PhaseFailedError, RollbackRefusedError, UsageError, RunnerBusyError, StateTransitionError, CopyFailedError } from './errors.js';
export { withRunnerLease, leaseHolder } from './phases/runner-lease.js';
export { releaseFailedPlanFolders } from './phases/prisma-folder-applier.js';
export type { RunnerLeaseHolder, RunnerLeaseOptions } from './phases/runner-lease.js';
export { backfillUnit } from './operations/backfill-unit.js';
export type { BackfillUnitOptions } from './operations/backfill-unit.js';
export { createSyncTrigger, dropSyncTrigger, syncObjectNames } from './operations/sync-trigger.js';
export { parseDocument } from './extract/document-parser.js';
export type { ShapeSet, ParsedDocument, DocumentIssue } from './extract/document-parser.js';
export { extractJson, mapColumns, DEAD_LETTER_TABLE, ERROR_LOG_SAMPLE } from './extract/extract-json.js';
export type { ExtractJsonOptions, ExtractDefinition, ExtractSpec, ExtractWithShapes, ExtractResult, ExtractBatchingOptions } from './extract/extract-json.js';
export { verifyExtraction, verifyExtractionOn } from './extract/verify-extraction.js';
export type { ExtractionReport } from './extract/verify-extraction.js';
export { undoExtraction } from './extract/undo-extraction.js';
export { InvalidDocumentError } from './extract/extract-plan.js';
export type { InvalidPolicy, ExtractParent } from './extract/extract-plan.js';
export { runBatchedTableJob } from './backfill/backfill.js';
export { extractReferenceRows } from './extract/reference-rows.js';
export type { ReferenceRowsOptions, ReferenceRowsReport, ReferenceSource } from './extract/reference-rows.js';
export { dedupe, reportDuplicates, undoDedupe, sqlExpression } from './extract/dedupe.js';
export type { DedupeOptions, DedupeResult, DuplicateReport, KeepRule, SqlExpression } from './extract/dedupe.js';
export { mergeTables } from './extract/merge-tables.js';
export type { MergeOptions, MergeReport, MergeSource } from './extract/merge-tables.js';
export { lintSql, lintPaths, migrationFiles, readLiveFacts } from './lint/migration-linter.js';
export { RULES, SMALL_TABLE_ROWS, isBinaryCoercible, checkStatement } from './lint/lint-rules.js';
export { STYLE_RULES, lintConfigSchema, parseLintConfig, applyLintConfig } from './lint/lint-style.js';
export type { LintConfig } from './lint/lint-style.js';
export type { Finding, Severity, LintRule, LiveFacts } from './lint/lint-rules.js';
export { parseMigrationSql, loadSqlParser } from './lint/sql-source.js';
export type { SourceStatement, ParsedSource } from './lint/sql-source.js';
export { rewriteMigrationSql, rewriteMigrationFolder, renderRewritePhaseModule } from './lint/migration-rewriter.js';
export type { RewriteResult, Refusal, RewriteOptions, RewritePhaseStep, ConfirmedRename, RequiredColumnBackfill, IntendedDrop, DeclaredColumn } from './lint/migration-rewriter.js';
export { defineCopy, copyTable, col, expr, ref, multilingual, loadOrder } from './copy/copy-spec.js';
export type { CopySpec, CopyTableSpec, TypedCopyTableSpec, CopyPlan, CopyTable, CopyColumn } from './copy/copy-spec.js';
export { runCopy, copyHistoryStep } from './copy/copy-runner.js';
export type { CopyRunOptions, CopyProgress, CopyTableReport } from './copy/copy-runner.js';
export { validateCopy } from './copy/copy-validate.js';
export type { CopyValidation, CopyCheck } from './copy/copy-validate.js';
export { setSequencesPastMaxima, setSourceReadOnly } from './copy/copy-cutover.js';
export type { SequenceSet, ReadOnlyWindow } from './copy/copy-cutover.js';
export { readCopyStatus } from './copy/copy-status.js';
export { catchUpCopy, DEFAULT_CATCH_UP_MARGIN_S } from './copy/copy-catchup.js';
export type { CatchUpReport, CatchUpOptions } from './copy/copy-catchup.js';
export type { CopyStatus } from './copy/copy-status.js';
export type { CopyTableFigures } from './copy/copy-store.js';
export { analyzeDatabase, findingKey, hasCodeSteps, isCodeStep, newFindings, renderFixModule } from './analyze/analyze.js';
export type { AnalyzeOptions } from './analyze/analyze.js';
export { STATIC_CHECKS } from './analyze/static-checks.js';
export type { AnalyzeFinding, AnalyzeFix, StaticCheck } from './analyze/static-checks.js';
export { readPrismaMap } from './analyze/prisma-locations.js';
export type { PrismaMap, PrismaLocation, DeclaredRelation } from './analyze/prisma-locations.js';
export { checkHealth, grade, HEALTH_THRESHOLDS } from './analyze/health.js';
export type { HealthCheck, HealthThresholds } from './analyze/health.js';
export { backupDatabase, restoreDatabase, PG_BIN_ENV } from './backup/backup.js';
export type { BackupManifest } from './backup/backup.js';
export { optimizeDatabase, applicationTables } from './optimize/optimize.js';
export type { OptimizeAction, OptimizeResult } from './optimize/optimize.js';
export { phaseTables, phaseFolders } from './optimize/phase-tables.js';
export type { TableName } from './optimize/phase-tables.js';
export { backupDirectory, recordedBackup, PHASE_BACKUPS_TABLE } from './optimize/phase-hooks.js';
export type { PhaseHookEvent } from './optimize/phase-hooks.js';
export { capturePlans, explainQuery, parseWatchQueries, QUERY_PLANS_TABLE, watchQueriesSchema } from './optimize/watch-queries.js';
export type { WatchQuery, WatchQueries, PlanMoment } from './optimize/watch-queries.js';
export { comparePlans, readPlanChanges, renderPlanChanges, summarizePlan } from './optimize/plan-changes.js';
export type { PlanChange, PlanSummary } from './optimize/plan-changes.js';
