import { createHash } from 'node:crypto';
import pg from 'pg';
import { quoteIdent, withDatabase } from '@prisma-evolve/core';

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A database created for one test file; `drop()` removes it. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, terminating sessions still connected to it. Idempotent. */
  drop(): Promise<void>;
}

let counter = 0;

/**
 * Creates a new, uniquely named database on the server (`CREATE DATABASE … TEMPLATE …`), copied from
 * `template` when given (fast: a file-level copy) or from `template0` otherwise. Unless `name` is given,
 * the name records the pid so that stray databases of dead runs can be recognised. Needs CREATEDB.
 */
export async function createTestDatabase(
  serverUrl: string,
  options: { template?: string; prefix?: string; name?: string } = {},
): Promise<TestDatabase> {
  counter += 1;
  const name = options.name ?? `${options.prefix ?? 'evolve_test'}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdmin(serverUrl, (client) =>
    client.query(`create database ${quoteIdent(name)} template ${quoteIdent(options.template ?? 'template0')} encoding 'UTF8'`),
  );
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: () => {
      dropped ??= dropDatabase(serverUrl, name);
      return dropped;
    },
  };
}

/** Drops `name` if it exists, terminating its sessions first (PostgreSQL 13+ `WITH (FORCE)`). */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, (client) => client.query(`drop database if exists ${quoteIdent(name)} with (force)`));
}

/** Options of {@link ensureTemplateDatabase}. */
export interface TemplateOptions {
  /** Readable part of the template's name. */
  readonly name: string;
  /** Anything that changes when the template's content must change (e.g. a hash of migrations). */
  readonly fingerprint: string;
  /** Fills the freshly created template database. */
  readonly setup: (url: string) => Promise<void>;
}

/**
 * Returns the name of a template database built once by `setup` and reused by every test file after
 * it, keyed by `fingerprint` so a changed setup builds a new one. Concurrent callers (jest workers) are
 * serialised by an advisory lock; a half-built template from a crashed run is rebuilt. After setup the
 * database is marked `is_template` and left with no connections, as `CREATE DATABASE … TEMPLATE`
 * requires.
 */
export async function ensureTemplateDatabase(serverUrl: string, options: TemplateOptions): Promise<string> {
  const hash = createHash('sha256').update(options.fingerprint).digest('hex').slice(0, 10);
  const name = `evolve_tpl_${options.name.replace(/[^a-z0-9_]/gi, '_').toLowerCase().slice(0, 30)}_${hash}`;
  const lockKey = Number.parseInt(hash.slice(0, 8), 16);
  return withAdmin(serverUrl, async (client) => {
    await client.query('select pg_advisory_lock($1)', [lockKey]);
    try {
      const { rows } = await client.query<{ datistemplate: boolean }>('select datistemplate from pg_database where datname = $1', [name]);
      if (rows[0]?.datistemplate) return name;
      // Present but not marked: a run died half-way through setup.
      await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
      await client.query(`create database ${quoteIdent(name)} template template0 encoding 'UTF8'`);
      try {
        await options.setup(withDatabase(serverUrl, name));
      } catch (error) {
        await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
        throw error;
      }
      await client.query(`alter database ${quoteIdent(name)} is_template true`);
      return name;
    } finally {
      await client.query('select pg_advisory_unlock($1)', [lockKey]);
    }
  });
}
