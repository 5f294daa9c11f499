/** Progress of a long-running data step, as reported to `onProgress`. */
export interface BackfillProgress {
  /** Rows walked so far by every worker of this step, in every process and every earlier run. */
  readonly done: number;
  /** Total rows expected (estimate or exact count); never less than `done`. */
  readonly total: number;
  /** Rows per second walked by this process since it started. */
  readonly rate: number;
  /** Seconds left at the current rate; `null` until a rate is known. */
  readonly eta: number | null;
  /** Milliseconds since this process started the step. */
  readonly elapsedMs: number;
}

/**
 * Turns the global `processedRecords` counter into progress reports with a rate and an ETA for this
 * process. Pure apart from the clock it is given.
 */
export class ProgressTracker {
  private readonly startedAt: number;
  private latest: number;

  constructor(
    private total: number,
    private readonly doneAtStart: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedAt = now();
    this.latest = doneAtStart;
  }

  /** Records the new global count (counts only move forward) and returns the report. */
  update(done: number): BackfillProgress {
    this.latest = Math.max(this.latest, done);
    return this.snapshot();
  }

  /** The report for the latest count. */
  snapshot(): BackfillProgress {
    const elapsedMs = this.now() - this.startedAt;
    const done = this.latest;
    this.total = Math.max(this.total, done);
    const rate = elapsedMs > 0 ? ((done - this.doneAtStart) * 1000) / elapsedMs : 0;
    const eta = rate > 0 ? (this.total - done) / rate : null;
    return { done, total: this.total, rate, eta, elapsedMs };
  }
}
