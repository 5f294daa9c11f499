import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import { MAX_IDENTIFIER_BYTES } from './sql.js';

/** Every object prisma-evolve creates (temp columns, triggers, checks, backups) starts with this. */
export const RESERVED_PREFIX = '_evolve_';

/** What a toolkit-created object is; the kind is part of its name so leftovers are recognisable. */
export type ToolkitObjectKind =
  | 'tmp' // temporary column of an expand/contract change
  | 'trg' // sync trigger
  | 'fn' // trigger function
  | 'chk' // transient CHECK constraint (e.g. the NOT NULL path)
  | 'idx' // index the toolkit builds for itself
  | 'bak'; // backup table of dropped rows, columns or tables

const HASH_CHARS = 8;

/** Cuts `text` to at most `bytes` UTF-8 bytes without splitting a character. */
function truncateBytes(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

/**
 * Builds the name of an object the toolkit creates: `_evolve_<kind>_<parts joined by _>`. Deterministic
 * (the same inputs give the same name, so a re-run finds what an earlier run created) and always a
 * valid PostgreSQL identifier: when the name would exceed 63 bytes it is cut at a character boundary and
 * ends with 8 hex characters of a sha256 of the full name, so two long names never collide silently
 * the way PostgreSQL's own truncation would make them. Pure.
 */
export function toolkitName(kind: ToolkitObjectKind, ...parts: readonly string[]): string {
  if (parts.length === 0 || parts.some((part) => part.length === 0)) {
    throw new InvalidArgumentError('name parts', `a "${kind}" name needs non-empty parts`);
  }
  return boundedName(`${RESERVED_PREFIX}${kind}_${parts.join('_')}`);
}

/**
 * `full` when it fits PostgreSQL's 63 bytes; otherwise cut at a character boundary and ended with 8 hex
 * characters of its sha256, so two long names never collide silently. Pure.
 */
export function boundedName(full: string): string {
  if (Buffer.byteLength(full, 'utf8') <= MAX_IDENTIFIER_BYTES) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_CHARS);
  return `${truncateBytes(full, MAX_IDENTIFIER_BYTES - HASH_CHARS - 1)}_${hash}`;
}

/** Schema of the toolkit's backup tables: outside what Prisma's schema and drift check see. */
export const BACKUP_SCHEMA = '_evolve';

/** A backup table of the toolkit: schema-qualified parts. */
export interface BackupTable {
  readonly schema: string;
  readonly table: string;
}

/**
 * Where the toolkit keeps a backup (of dropped rows, columns or tables from `sourceSchema`): in
 * {@link BACKUP_SCHEMA}, named `_evolve_bak_<parts>` (prefixed with the source schema unless it is
 * `public`, so two schemas' tables never share a backup). Pure.
 */
export function backupTable(sourceSchema: string, ...parts: readonly string[]): BackupTable {
  return { schema: BACKUP_SCHEMA, table: toolkitName('bak', ...(sourceSchema === 'public' ? [] : [sourceSchema]), ...parts) };
}

/** True for names in the toolkit's reserved namespace (what `toolkitName` produces). Pure. */
export function isToolkitName(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}
