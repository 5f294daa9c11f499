/** `@prisma-evolve/cli`: the `migrate:phase` commands as functions, for scripts that embed them. */
export { statusCommand, renderStatus, renderSteps } from './status-command.js';
export type { StatusReport } from './status-command.js';
export { ProgressBar, formatProgress, formatDuration } from './progress-bar.js';
export { renderPhases, renderPlan, renderChecks } from './phase-commands.js';
export type { PhasesReport, VerifyReport } from './phase-commands.js';
export { loadPlan, DEFAULT_CONFIG } from './plan-loader.js';
export type { LoadedPlan } from './plan-loader.js';
export { startDashboard, DEFAULT_DASHBOARD_PORT, DEFAULT_DASHBOARD_HOST } from './dashboard/dashboard-server.js';
export type { DashboardOptions, RunningDashboard } from './dashboard/dashboard-server.js';
export type { DashboardSource } from './dashboard/dashboard-api.js';
