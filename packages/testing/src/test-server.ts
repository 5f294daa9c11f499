import { startEphemeralPostgres, type EphemeralPostgres } from './ephemeral-postgres.js';

/** Set by the jest global setup: the server every test file of the run creates its databases on. */
export const TEST_SERVER_ENV = 'EVOLVE_TEST_SERVER_URL';

/** A PostgreSQL server to create test databases on. */
export interface TestServer {
  /** A URL with rights to CREATE/DROP DATABASE. */
  readonly url: string;
  /** Where it came from: the run's shared server, the user's DATABASE_URL, or one started for this caller. */
  readonly origin: 'shared' | 'database-url' | 'ephemeral';
  /** Stops the server if this caller started it; otherwise does nothing. */
  release(): Promise<void>;
}

/**
 * Finds the server to test against, in this order: the run's shared server ({@link TEST_SERVER_ENV},
 * set by the jest global setup), the user's `DATABASE_URL`, or else a new ephemeral PostgreSQL that
 * `release()` stops. Never creates or drops anything by itself.
 */
export async function acquireTestServer(): Promise<TestServer> {
  const shared = process.env[TEST_SERVER_ENV];
  if (shared) return { url: shared, origin: 'shared', release: async () => undefined };
  const configured = process.env['DATABASE_URL'];
  if (configured) return { url: configured, origin: 'database-url', release: async () => undefined };
  const server: EphemeralPostgres = await startEphemeralPostgres();
  return { url: server.url, origin: 'ephemeral', release: () => server.stop() };
}
