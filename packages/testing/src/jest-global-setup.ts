import { startEphemeralPostgres, type EphemeralPostgres } from './ephemeral-postgres.js';
import { TEST_SERVER_ENV } from './test-server.js';

declare global {
  // Shared with the global teardown, which runs in the same process.
  var __EVOLVE_EPHEMERAL_PG__: EphemeralPostgres | undefined;
}

/**
 * Jest `globalSetup`: gives the whole run one PostgreSQL server. With `DATABASE_URL` set it uses that
 * server; otherwise it starts an ephemeral one, which the matching teardown stops. Workers inherit the
 * server's URL through {@link TEST_SERVER_ENV}. Jest requires a default export here.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env[TEST_SERVER_ENV]) return;
  const configured = process.env['DATABASE_URL'];
  if (configured) {
    process.env[TEST_SERVER_ENV] = configured;
    return;
  }
  const server = await startEphemeralPostgres();
  globalThis.__EVOLVE_EPHEMERAL_PG__ = server;
  process.env[TEST_SERVER_ENV] = server.url;
}
