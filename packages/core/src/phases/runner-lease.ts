import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname } from 'node:os';
import pg from 'pg';
import { RunnerBusyError } from '../errors.js';

/** The advisory lock (two-key form) every runner of a database takes: "pe" / "vo". */
const LEASE_KEYS = [0x7065, 0x766f] as const;
const POLL_MS = 250;
/** PostgreSQL keeps 63 bytes of application_name. */
const APPLICATION_NAME_BYTES = 63;

/** Who holds the runner lease of a database, from pg_stat_activity. */
export interface RunnerLeaseHolder {
  readonly pid: number;
  /** `prisma-evolve <command> pid <pid>@<host>` as the holder announced itself, or the client's application_name. */
  readonly application: string;
  readonly clientAddress: string | null;
  readonly since: Date;
}

/** Options of {@link withRunnerLease}. */
export interface RunnerLeaseOptions {
  /** What the holder is doing (`run`, `rollback`, `deploy`), shown to a runner that has to wait. */
  readonly command: string;
  /** How long to wait for a lease another runner holds; 0 (default) fails at once. */
  readonly waitMs?: number;
}

/** The databases whose lease the current async call chain holds (nested calls pass through). */
const held = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Runs `fn` holding the runner lease of the database: a session-level advisory lock on a connection of its
 * own, held for the whole call, so only one `run`, `rollback` or `deploy` changes a database at a time.
 * PostgreSQL releases it when that session ends, so a killed runner never leaves a stale lease. Reentrant
 * within one call chain (a `deploy` that runs phases takes it once); two concurrent calls in one process
 * exclude each other like two processes. Waits up to `waitMs`, then throws
 * {@link RunnerBusyError} naming the holder's pid, host, command and start. Backfill workers of a step do
 * not take it: they share ranges through their own claims.
 */
export async function withRunnerLease<T>(databaseUrl: string, options: RunnerLeaseOptions, fn: () => Promise<T>): Promise<T> {
  const holding = held.getStore() ?? new Set<string>();
  if (holding.has(databaseUrl)) return fn();
  const name = Buffer.from(`prisma-evolve ${options.command} pid ${process.pid}@${hostname()}`).subarray(0, APPLICATION_NAME_BYTES).toString();
  // TCP keepalives, and no idle_session_timeout (PostgreSQL 14+), so an idle lease session is not dropped
  // under the runner by the server, a NAT or a proxy.
  const client = new pg.Client({ connectionString: databaseUrl, application_name: name, keepAlive: true });
  client.on('error', () => undefined);
  await client.connect();
  await client.query(`set idle_session_timeout = 0`).catch(() => undefined);
  try {
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [...LEASE_KEYS]);
      if (rows[0]?.ok) break;
      if (Date.now() >= deadline) {
        const holder = await leaseHolder(client);
        throw new RunnerBusyError(options.command, holder ? describeHolder(holder) : 'another runner (it has just finished; try again)');
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
    }
    try {
      return await held.run(new Set([...holding, databaseUrl]), fn);
    } finally {
      await client.query('select pg_advisory_unlock($1, $2)', [...LEASE_KEYS]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The session holding the runner lease of `client`'s database, if any. Read-only. */
export async function leaseHolder(client: pg.ClientBase): Promise<RunnerLeaseHolder | undefined> {
  const { rows } = await client.query<{ pid: number; application: string; client_address: string | null; since: Date }>(
    `select a.pid, a.application_name as application, a.client_addr::text as client_address, a.backend_start as since
     from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
       and l.classid = $1 and l.objid = $2 and l.objsubid = 2`,
    [...LEASE_KEYS],
  );
  const row = rows[0];
  return row ? { pid: row.pid, application: row.application, clientAddress: row.client_address, since: row.since } : undefined;
}

function describeHolder(holder: RunnerLeaseHolder): string {
  return `${holder.application || 'a session'} (backend pid ${holder.pid}${holder.clientAddress ? ` from ${holder.clientAddress}` : ''}, since ${holder.since.toISOString()})`;
}
