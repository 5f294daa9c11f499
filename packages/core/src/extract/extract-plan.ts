import type { KeyColumn } from '../backfill/keyset-sql.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent } from '../sql.js';

/** The parent a TypeScript map sees: its key (text) and the columns named in `source.select`. */
export interface ExtractParent {
  readonly key: string;
  readonly row: Readonly<Record<string, unknown>>;
}

/** What to do with a document no shape accepts. */
export type InvalidPolicy = 'fail' | 'skip' | 'record';

/** An extraction resolved against the catalog: what the batch reader and the child writer share. */
export interface ExtractPlan {
  readonly migration: string;
  /** Quoted source table, its single key column and the JSON column. */
  readonly source: { readonly table: string; readonly key: KeyColumn; readonly column: string; readonly where: string; readonly select: readonly string[] };
  /** Quoted target table and its columns. */
  readonly target: {
    readonly table: string;
    readonly parentKey: string;
    readonly idColumn: string | undefined;
    readonly columns: readonly { readonly name: string; readonly type: string }[];
    readonly fixed: Readonly<Record<string, string>>;
    readonly distinctOn: readonly string[];
    /** The target's single-column primary key and its type: how the rows the extraction wrote are recorded. */
    readonly key: { readonly name: string; readonly type: string };
  };
  readonly deadLetters: string;
  /** The ledger of child rows this extraction wrote (`migration, parent_key, row_key`): what re-runs and undo may delete. */
  readonly owned: string;
  readonly onInvalid: InvalidPolicy;
  /** The server stores text as UTF-8, so a child's `md5` id computed in this process is the one PostgreSQL computes. */
  readonly serverUtf8: boolean;
}

/** A document no shape accepted, under `onInvalid: 'fail'`. */
export class InvalidDocumentError extends InvalidArgumentError {
  constructor(table: string, column: string, key: string, issues: readonly string[]) {
    super('document', `${table}.${quoteIdent(column)} of key ${key} matches none of the shapes: ${issues.slice(0, 5).join('; ')}`);
  }
}
