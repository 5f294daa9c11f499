import type { BackfillProgress } from '@prisma-evolve/core';

const WIDTH = 30;
const TTY_INTERVAL_MS = 100;
const LOG_INTERVAL_MS = 5_000;

/** Formats a count with thousands separators (en-US, fixed so output does not vary by locale). Pure. */
function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. Pure. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * One line for a progress report: `label [#####.....]  45.2%  452,000/1,000,000 rows  120,345 rows/s  eta 4s`.
 * Pure.
 */
export function formatProgress(label: string, progress: BackfillProgress): string {
  const ratio = progress.total > 0 ? Math.min(1, progress.done / progress.total) : 1;
  const filled = Math.round(ratio * WIDTH);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
  const eta = progress.eta === null ? 'eta ?' : `eta ${formatDuration(progress.eta)}`;
  return `${label} [${bar}] ${(ratio * 100).toFixed(1).padStart(5)}%  ${count(progress.done)}/${count(progress.total)} rows  ${count(progress.rate)} rows/s  ${eta}`;
}

/**
 * A progress bar on a stream: redrawn in place (at most 10 times a second) on a terminal, one plain line
 * every 5 s otherwise (CI logs). `done()` prints the final state on its own line.
 */
export class ProgressBar {
  private last = Number.NEGATIVE_INFINITY;
  private latest: BackfillProgress | undefined;
  private printed: BackfillProgress | undefined;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Use as `onProgress`. */
  readonly update = (progress: BackfillProgress): void => {
    this.latest = progress;
    const now = performance.now();
    const interval = this.stream.isTTY ? TTY_INTERVAL_MS : LOG_INTERVAL_MS;
    if (now - this.last < interval) return;
    this.last = now;
    this.printed = progress;
    this.stream.write(this.stream.isTTY ? `\r${formatProgress(this.label, progress)}` : `${formatProgress(this.label, progress)}\n`);
  };

  /** Prints the final state and ends the line (in a log, only when that state was not the last line printed). */
  done(): void {
    if (!this.latest) return;
    if (!this.stream.isTTY && this.printed?.done === this.latest.done && this.printed.total === this.latest.total) return;
    this.printed = this.latest;
    this.stream.write(`${this.stream.isTTY ? '\r' : ''}${formatProgress(this.label, this.latest)}\n`);
  }
}
