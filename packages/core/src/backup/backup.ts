import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { withClient } from '../db/with-client.js';
import { UsageError } from '../errors.js';

/**
 * `backup` / `restore`: `pg_dump -Fc` and `pg_restore` (child processes), a manifest beside the dump with its
 * SHA-256, and the guards a restore needs: the dump must match its manifest, and the target must be empty unless
 * `clean` is asked for. The client tools are found on PATH, else in /usr/lib/postgresql/<major>/bin (the newest),
 * and must be at least the server's major version (pg_dump refuses a newer server, and an old pg_restore cannot
 * read a newer dump).
 */

/** What is written beside a dump (`<dump>.manifest.json`). */
export interface BackupManifest {
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly createdAt: string;
  readonly database: string;
  readonly serverVersion: string;
  readonly pgDumpVersion: string;
  readonly tables: number;
}

/** The outcome of a child process. */
interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program (node:child_process; not execa, whose ESM-only dependencies a CommonJS loader such as jiti,
 * which loads TypeScript plans, cannot require), feeding each stderr line to `onLine`. A missing program gives
 * code null.
 */
function run(command: string, args: readonly string[], env: Record<string, string> = {}, onLine?: (line: string) => void): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += String(chunk);
      const lines = (partial + String(chunk)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    child.on('error', () => resolve({ code: null, stdout, stderr }));
    child.on('close', (code) => {
      if (partial) onLine?.(partial);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A client tool and its major version. */
interface Tool {
  readonly path: string;
  readonly major: number;
  readonly version: string;
}

/** The environment variable naming the folder of the PostgreSQL client tools (instead of PATH and /usr/lib/postgresql). */
export const PG_BIN_ENV = 'PRISMA_EVOLVE_PG_BIN';

/**
 * Finds `name` (pg_dump or pg_restore): in `binDir` (else `$PRISMA_EVOLVE_PG_BIN`) only when given; otherwise on
 * PATH first, then the newest /usr/lib/postgresql/<major>/bin. A {@link UsageError} naming the tool and where it
 * looked when none answers `--version`.
 */
async function findTool(name: 'pg_dump' | 'pg_restore', binDir = process.env[PG_BIN_ENV]): Promise<Tool> {
  const root = '/usr/lib/postgresql';
  const candidates: string[] = binDir ? [path.join(binDir, name)] : [name];
  if (!binDir && existsSync(root)) {
    const majors = (await readdir(root)).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((m) => path.join(root, m, 'bin', name)));
  }
  for (const candidate of candidates) {
    const result = await run(candidate, ['--version']);
    const version = /\(PostgreSQL\) (\d+)(\.\d+)?/.exec(result.stdout);
    if (result.code === 0 && version) return { path: candidate, major: Number(version[1]), version: `${version[1]}${version[2] ?? ''}` };
  }
  const where = binDir ? `in ${binDir} (${PG_BIN_ENV} or binDir)` : `on PATH or in ${root}/<major>/bin`;
  throw new UsageError(`${name} was not found ${where}: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)`);
}

/** The server's version and major. Read-only. */
async function serverVersion(databaseUrl: string): Promise<{ version: string; major: number; database: string; tables: number; objects: number }> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ v: string; n: string; db: string; tables: number; objects: number }>(
      `select current_setting('server_version') as v, current_setting('server_version_num') as n, current_database()::text as db,
              (select count(*)::int from pg_class c join pg_namespace ns on ns.oid = c.relnamespace where c.relkind in ('r', 'p') and ns.nspname not in ('pg_catalog', 'information_schema') and ns.nspname not like 'pg_toast%') as tables,
              (select count(*)::int from pg_class c join pg_namespace ns on ns.oid = c.relnamespace where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and ns.nspname not in ('pg_catalog', 'information_schema') and ns.nspname not like 'pg_toast%')
                + (select count(*)::int from pg_type t join pg_namespace ns on ns.oid = t.typnamespace where t.typtype in ('e', 'c', 'd', 'r') and ns.nspname not in ('pg_catalog', 'information_schema') and not exists (select 1 from pg_class c where c.reltype = t.oid))
                + (select count(*)::int from pg_proc p join pg_namespace ns on ns.oid = p.pronamespace where ns.nspname not in ('pg_catalog', 'information_schema') and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')) as objects`,
    );
    const row = rows[0];
    return { version: row?.v ?? '', major: Math.floor(Number(row?.n ?? 0) / 10000), database: row?.db ?? '', tables: row?.tables ?? 0, objects: row?.objects ?? 0 };
  });
}

/** Refuses a client tool older than the server, naming both versions. */
function requireRecent(tool: Tool, name: string, server: { version: string; major: number }): void {
  if (tool.major < server.major) throw new UsageError(`${name} ${tool.version} (${tool.path}) is older than the server (PostgreSQL ${server.version}): install the client tools of version ${server.major} or newer`);
}

/** Query parameters libpq knows; Prisma's own (`schema`, `connection_limit`, `pgbouncer`, …) make it refuse the URL. */
const LIBPQ_PARAMETERS = /^(host|hostaddr|port|dbname|user|passfile|channel_binding|connect_timeout|client_encoding|options|application_name|fallback_application_name|keepalives.*|tcp_user_timeout|replication|gssencmode|sslmode|requiressl|sslcompression|sslcert|sslkey|sslpassword|sslrootcert|sslcrl|sslcrldir|sslsni|requirepeer|ssl_min_protocol_version|ssl_max_protocol_version|krbsrvname|gsslib|gssdelegation|service|target_session_attrs|load_balance_hosts)$/;

/**
 * The URL for libpq: without its password (given as `PGPASSWORD`: a password on the command line shows in
 * `ps`) and without query parameters libpq does not know. Pure.
 */
function connection(url: string): { url: string; env: Record<string, string> } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) if (!LIBPQ_PARAMETERS.test(key)) parsed.searchParams.delete(key);
  return { url: parsed.toString(), env: password ? { PGPASSWORD: password } : {} };
}

/** SHA-256 of a file, streamed. */
async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Dumps the database to `file` with `pg_dump -Fc` (a consistent snapshot; it takes ACCESS SHARE locks on the
 * tables it dumps, so DDL waits, reads and writes go on) and writes the manifest beside it. `onTable` gets each
 * table as pg_dump reaches it; `binDir` (else `$PRISMA_EVOLVE_PG_BIN`) is where the client tools are. A missing pg_dump,
 * or one older than the server, is a {@link UsageError} naming both versions, before anything is written. Returns the manifest.
 */
export async function backupDatabase(options: { databaseUrl: string; file: string; onTable?: (table: string) => void; binDir?: string }): Promise<BackupManifest> {
  const [tool, server] = await Promise.all([findTool('pg_dump', options.binDir), serverVersion(options.databaseUrl)]);
  requireRecent(tool, 'pg_dump', server);
  await mkdir(path.dirname(path.resolve(options.file)), { recursive: true });
  const target = connection(options.databaseUrl);
  let errors = '';
  const result = await run(tool.path, ['--format=custom', '--verbose', `--file=${options.file}`, `--dbname=${target.url}`], target.env, (line) => {
    const table = /dumping contents of table "?([^"]+)"?/.exec(line)?.[1];
    if (table) options.onTable?.(table);
    else if (/error/i.test(line)) errors += `${line}\n`;
  });
  if (result.code !== 0) throw new Error(`pg_dump failed (exit ${result.code}): ${errors || result.stderr.slice(-2000)}`);
  const manifest: BackupManifest = {
    file: path.basename(options.file),
    sha256: await sha256(options.file),
    bytes: (await stat(options.file)).size,
    createdAt: new Date().toISOString(),
    database: server.database,
    serverVersion: server.version,
    pgDumpVersion: tool.version,
    tables: server.tables,
  };
  await writeFile(`${options.file}.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  // A dump holds every row: readable by its owner only, whatever the umask.
  await chmod(options.file, 0o600);
  return manifest;
}

/**
 * Restores a dump written by {@link backupDatabase} with `pg_restore --no-owner` into `databaseUrl`. Refused,
 * before anything is written, when the dump's manifest is missing or its checksum differs, and when the target
 * holds any object (tables, views, sequences, types, functions) unless `clean` (then objects of the dump are dropped
 * first: `--clean --if-exists`). One transaction (`--single-transaction`): a failure leaves the database as it was.
 * Returns the manifest.
 */
export async function restoreDatabase(options: { databaseUrl: string; file: string; clean?: boolean; binDir?: string }): Promise<BackupManifest> {
  const manifestFile = `${options.file}.manifest.json`;
  if (!existsSync(options.file)) throw new UsageError(`"${options.file}" does not exist`, 'file');
  if (!existsSync(manifestFile)) throw new UsageError(`"${manifestFile}" is missing: restore only dumps whose manifest says what they hold (prisma-evolve backup writes one)`, 'file');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as BackupManifest;
  const actual = await sha256(options.file);
  if (actual !== manifest.sha256) throw new UsageError(`"${options.file}" does not match its manifest (SHA-256 ${actual}, manifest ${manifest.sha256}): it changed or is incomplete`, 'file');
  const [tool, server] = await Promise.all([findTool('pg_restore', options.binDir), serverVersion(options.databaseUrl)]);
  requireRecent(tool, 'pg_restore', server);
  if (server.objects > 0 && !options.clean) throw new UsageError(`database "${server.database}" is not empty (${server.tables} tables, ${server.objects} objects): restore into an empty database, or pass --clean to drop the dump's objects first`, '--clean');
  const target = connection(options.databaseUrl);
  const result = await run(tool.path, ['--no-owner', '--exit-on-error', '--single-transaction', ...(options.clean ? ['--clean', '--if-exists'] : []), `--dbname=${target.url}`, options.file], target.env);
  if (result.code !== 0) throw new Error(`pg_restore failed (exit ${result.code}): ${result.stderr.slice(-2000)}`);
  return manifest;
}
