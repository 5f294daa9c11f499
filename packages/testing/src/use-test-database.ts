import { afterAll, beforeAll } from '@jest/globals';
import { createTestDatabase, ensureTemplateDatabase, type TemplateOptions, type TestDatabase } from './databases.js';
import { acquireTestServer, type TestServer } from './test-server.js';

/** The database of one test file; its fields are readable from `beforeAll` on. */
export interface TestDatabaseHandle {
  readonly url: string;
  readonly name: string;
  /** URL of the server the database lives on (rights to create databases). */
  readonly serverUrl: string;
}

/**
 * Gives the calling jest test file a fresh database of its own: created in `beforeAll` (from a template
 * built once per run when `template` is given) and dropped in `afterAll`, even when tests fail. Uses
 * the run's shared server, `DATABASE_URL`, or an ephemeral server of its own, in that order.
 */
export function useTestDatabase(options: { template?: TemplateOptions } = {}): TestDatabaseHandle {
  let server: TestServer | undefined;
  let database: TestDatabase | undefined;
  const ready = <T>(value: T | undefined, field: string): T => {
    if (value === undefined) throw new Error(`test database "${field}" read before beforeAll ran`);
    return value;
  };
  beforeAll(async () => {
    server = await acquireTestServer();
    const template = options.template ? await ensureTemplateDatabase(server.url, options.template) : undefined;
    database = await createTestDatabase(server.url, template ? { template } : {});
  }, 120_000);
  afterAll(async () => {
    await database?.drop();
    await server?.release();
  }, 60_000);
  return {
    get url() {
      return ready(database, 'url').url;
    },
    get name() {
      return ready(database, 'name').name;
    },
    get serverUrl() {
      return ready(server, 'serverUrl').url;
    },
  };
}
