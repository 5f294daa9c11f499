/** Default `lock_timeout` for every statement the toolkit runs against an application table. */
export const DEFAULT_LOCK_TIMEOUT_MS = 2_000;
/** Default `statement_timeout` for one batch or one DDL statement. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
/** Default number of attempts (first try included) before a step fails closed. */
export const DEFAULT_MAX_ATTEMPTS = 6;

/**
 * SQLSTATEs after which the same work may simply be tried again: lock_not_available (lock_timeout),
 * deadlock_detected, serialization_failure and query_canceled (statement_timeout). Anything else is a
 * real error and fails at once.
 */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['55P03', '40P01', '40001', '57014']);

/** How often and how patiently a step is retried. */
export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** Delay before the second attempt; doubles each time. */
  readonly baseDelayMs: number;
  /** Upper bound of a single delay. */
  readonly maxDelayMs: number;
}

/** Defaults: 6 attempts, 100 ms doubling up to 5 s (about 10 s of waiting in the worst case). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: DEFAULT_MAX_ATTEMPTS, baseDelayMs: 100, maxDelayMs: 5_000 };

/** The SQLSTATE of a driver error (or of the `cause` of a wrapped one), if any. Pure. */
export function sqlStateOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const record = current as { code?: unknown; sqlState?: unknown; cause?: unknown };
    if (typeof record.sqlState === 'string') return record.sqlState;
    if (typeof record.code === 'string' && /^[0-9A-Z]{5}$/.test(record.code)) return record.code;
    current = record.cause;
  }
  return undefined;
}

/** True when `error` is one of the transient conflicts in `RETRYABLE_SQLSTATES`. Pure. */
export function isRetryable(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && RETRYABLE_SQLSTATES.has(state);
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): exponential with "equal jitter" (half fixed, half random), so
 * retrying workers do not wake in lock step and collide again. Pure given `random`.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once (rejecting nothing) when `signal` aborts meanwhile. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
