/** `@prisma-evolve/cli`: the `migrate:phase` commands as functions, for scripts that embed them. */
export { statusCommand, renderStatus } from './status-command.js';
export type { StatusReport } from './status-command.js';
export { ProgressBar, formatProgress, formatDuration } from './progress-bar.js';
