import pg from 'pg';
import { inBatchTransaction, type BatchTimeouts } from '../backfill/batch-transaction.js';
import { BackfillBatchFailedError } from '../errors.js';
import { DEFAULT_RETRY_POLICY, isRetryable, retryDelayMs, sleep } from '../db/retry-policy.js';

/**
 * Runs `sql` (one statement, or statements run in order, that process at most one batch of rows; the last
 * one reports how many with its row count) again and again, each batch in its own short transaction under
 * `timeouts`, until it reports 0 or `signal` aborts. Transient conflicts are retried with jittered backoff; then it fails closed with
 * `BackfillBatchFailedError`. Returns the total row count. Resumable by nature: each batch re-selects
 * what is left.
 */
export async function runBatchedStatement(
  databaseUrl: string,
  name: string,
  table: string,
  sql: string | readonly string[],
  options: { timeouts: BatchTimeouts; signal?: AbortSignal },
): Promise<{ rows: number; canceled: boolean }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let total = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) return { rows: total, canceled: true };
      let count: number | undefined;
      for (let attempt = 1; count === undefined; attempt += 1) {
        try {
          count = await inBatchTransaction(client, options.timeouts, async () => {
            let last: pg.QueryResult | undefined;
            for (const statement of typeof sql === 'string' ? [sql] : sql) last = await client.query(statement);
            return last?.rowCount ?? 0;
          });
        } catch (error) {
          if (!isRetryable(error) || attempt >= DEFAULT_RETRY_POLICY.maxAttempts) throw new BackfillBatchFailedError(name, table, null, attempt, error);
          await sleep(retryDelayMs(attempt, DEFAULT_RETRY_POLICY), options.signal);
        }
      }
      total += count;
      if (count === 0) return { rows: total, canceled: false };
    }
  } finally {
    await client.end();
  }
}
