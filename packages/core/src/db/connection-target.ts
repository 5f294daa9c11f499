import pg from 'pg';
import { ConnectionFailedError, InvalidArgumentError } from '../errors.js';

/** Where a connection string points: enough to name the server in an error. */
export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** How long {@link assertReachable} waits for a server before it gives up. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Parses a `postgres://` / `postgresql://` URL into host, port, database and user. Pure; throws
 * {@link InvalidArgumentError} naming the URL (without its password) when it is not a PostgreSQL URL.
 */
export function parseConnectionTarget(databaseUrl: string): ConnectionTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new InvalidArgumentError('database url', 'not a url (expected postgresql://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new InvalidArgumentError('database url', `protocol "${url.protocol}" is not postgresql:`);
  }
  const socketHost = url.searchParams.get('host');
  return {
    host: decodeURIComponent(url.hostname) || socketHost || 'localhost',
    port: url.port ? Number(url.port) : 5432,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    user: decodeURIComponent(url.username) || 'postgres',
  };
}

/** Returns the same URL pointing at another database on the same server. Pure. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * Opens one connection, runs `select 1` and closes it, failing fast with a
 * {@link ConnectionFailedError} that names host and port when the server is unreachable, refuses the
 * login, or does not answer within `timeoutMs`. Takes no locks; changes nothing.
 */
export async function assertReachable(databaseUrl: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
  const target = parseConnectionTarget(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
  // A refused connection emits 'error' as well as rejecting connect(); without a listener it would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new ConnectionFailedError(target.host, target.port, describeConnectError(error, timeoutMs), { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function describeConnectError(error: unknown, timeoutMs: number): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (/timeout/i.test(message)) return `no answer within ${timeoutMs} ms`;
  return message;
}
