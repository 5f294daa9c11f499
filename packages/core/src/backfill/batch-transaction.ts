import type pg from 'pg';

/** Timeouts every batch transaction runs under. */
export interface BatchTimeouts {
  /** `lock_timeout` in ms: how long a batch waits for a row or table lock before it gives up and retries. */
  readonly lockMs: number;
  /** `statement_timeout` in ms for each statement of the batch. */
  readonly statementMs: number;
}

/** Thrown inside a batch transaction when the checkpoint finds the range was taken over: roll back, move on. */
export class ClaimLostSignal extends Error {
  constructor(readonly rangeNo: number) {
    super(`range ${rangeNo} was taken over by another worker`);
  }
}

/**
 * Runs `work` in one transaction with `SET LOCAL lock_timeout` and `statement_timeout`, committing when it
 * resolves and rolling back when it throws (the error is rethrown unchanged, so callers can read its
 * SQLSTATE). The settings end with the transaction and never leak into the pooled connection.
 */
export async function inBatchTransaction<T>(client: pg.ClientBase, timeouts: BatchTimeouts, work: () => Promise<T>): Promise<T> {
  await client.query(
    `begin; set local lock_timeout = ${Math.round(timeouts.lockMs)}; set local statement_timeout = ${Math.round(timeouts.statementMs)}`,
  );
  try {
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/**
 * Runs one read-only statement outside an explicit transaction but under the same timeouts (set for the
 * statement's own implicit transaction, then reset), so reads of application tables cannot queue forever
 * behind a lock either.
 */
export async function queryWithTimeouts<R extends pg.QueryResultRow>(
  client: pg.ClientBase,
  timeouts: BatchTimeouts,
  sql: string,
  params: unknown[],
): Promise<pg.QueryResult<R>> {
  return inBatchTransaction(client, timeouts, () => client.query<R>(sql, params));
}
