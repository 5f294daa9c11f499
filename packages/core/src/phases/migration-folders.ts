import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MigrationsDirError } from '../errors.js';
import type { BatchTimeouts } from '../backfill/batch-transaction.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../db/retry-policy.js';
import type { SqlUnit } from '../operations/operation.js';
import { unitStatementTimeout } from './unit-executor.js';
import { MIGRATION_FILE, MIGRATION_LOCKFILE, MIGRATION_LOCKFILE_CONTENT } from '../prisma/migrations-dir.js';
import { writeFileAtomic } from '../runtime/atomic-write.js';

/** One Prisma migration folder the plan produces. */
export interface PlannedFolder {
  readonly name: string;
  readonly sql: string;
  readonly unit: SqlUnit;
}

/** Lower-case `[a-z0-9_]` slug of a label, at most 48 characters. Pure. */
export function slug(label: string): string {
  const cleaned = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return (cleaned || 'step').slice(0, 48).replace(/_+$/, '');
}

/**
 * Folder name of unit `unit` of step `step` (1-based) of the phase with folder id `phaseId`:
 * `<prefix>_<phaseId>_<ss>_<uu>_<label>`. Zero-padded, so Prisma's lexical order is the plan's order.
 * Deterministic: the same plan always names the same folders. Pure.
 */
export function folderName(prefix: string, phaseId: string, step: number, unit: number, label: string): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${prefix}_${phaseId}_${pad(step)}_${pad(unit)}_${slug(label)}`;
}

/** `text` safe inside a `--` comment: control characters (a newline would end it) written as escapes. Pure. */
function commentText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The `migration.sql` of a unit: a header saying what it is and which locks it takes, then its
 * statements.
 * - A transactional unit starts with `SET LOCAL lock_timeout` and `statement_timeout` (none for a unit that
 *   scans rows), so it is as safe under a plain `prisma migrate deploy` as under our runner: Prisma sends a
 *   script as one simple query, which PostgreSQL runs as one implicit transaction, so the settings end with it
 *   and the statements commit atomically.
 * - A non-transactional unit holds exactly one statement and nothing else, so Prisma runs it outside a
 *   transaction block (as `CREATE INDEX CONCURRENTLY` requires; a `SET` before it would make the script a
 *   transaction block). Such statements take no lock that blocks reads or writes.
 * Pure.
 */
export function renderMigrationSql(
  unit: SqlUnit,
  description: string,
  timeouts: BatchTimeouts = { lockMs: DEFAULT_LOCK_TIMEOUT_MS, statementMs: DEFAULT_STATEMENT_TIMEOUT_MS },
): string {
  const locks = unit.statements.map((s) => `${s.lock ?? 'no lock on existing tables'}${s.scansData ? ' (scans rows)' : ''}`);
  const header = [
    `-- prisma-evolve: ${commentText(description)}`,
    `-- ${unit.transactional ? 'runs in one transaction' : 'runs outside a transaction (single statement)'}; locks: ${[...new Set(locks)].join(', ')}`,
    '-- generated from the plan; do not edit (the runner checks the content before it applies it)',
  ];
  const settings = unit.transactional
    ? [`SET LOCAL lock_timeout = '${Math.round(timeouts.lockMs)}ms';`, `SET LOCAL statement_timeout = '${unitStatementTimeout(unit, timeouts)}ms';`]
    : [];
  return `${[...header, ...settings].join('\n')}\n${unit.statements.map((s) => `${s.sql};`).join('\n\n')}\n`;
}

/**
 * Writes the folders that are missing; an existing folder must hold exactly the same SQL, otherwise
 * `MigrationsDirError` names it (edited by hand, or planned against a different catalog). Creates the
 * directory and `migration_lock.toml` when absent. Each file is written atomically (temporary file, then
 * rename), so a crash mid-write leaves no partial folder for a resumed run to trip over. Returns the names written.
 */
export async function writeFolders(migrationsDir: string, folders: readonly PlannedFolder[]): Promise<string[]> {
  await mkdir(migrationsDir, { recursive: true });
  const lockfile = path.join(migrationsDir, MIGRATION_LOCKFILE);
  const existingLock = await readFile(lockfile, 'utf8').catch(() => undefined);
  if (existingLock === undefined) await writeFileAtomic(lockfile, MIGRATION_LOCKFILE_CONTENT);
  const written: string[] = [];
  for (const folder of folders) {
    const file = path.join(migrationsDir, folder.name, MIGRATION_FILE);
    const existing = await readFile(file, 'utf8').catch(() => undefined);
    if (existing === undefined) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, folder.sql);
      written.push(folder.name);
    } else if (existing !== folder.sql) {
      throw new MigrationsDirError(
        file,
        'its SQL differs from what the plan produces now (edited by hand, or planned against a different database); restore it from version control or delete it if it was never applied anywhere',
      );
    }
  }
  return written;
}
