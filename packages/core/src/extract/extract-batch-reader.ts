import type pg from 'pg';
import type { BatchRequest } from '../backfill/batch-writer.js';
import { keyOrder, keyRangePredicate, keyTextOf, keyTextSelect, type KeyText } from '../backfill/keyset-sql.js';
import { quoteIdent } from '../sql.js';
import { parseDocument, type ShapeSet } from './document-parser.js';
import type { ChildRow } from './extract-child-copy.js';
import type { ChildBatch, DeadLetter } from './extract-child-writer.js';
import { InvalidDocumentError, type ExtractParent, type ExtractPlan } from './extract-plan.js';

/**
 * Reads the parents of a batch and turns their documents into children, one batch ahead: when a batch is
 * read, the next batch's parents are read too (in the same transaction, by the same key-range query the next
 * batch would run) and their documents parsed and mapped while this batch's rows are being written. The next
 * batch uses that work only when it asks for exactly that key range (same cursor, same range end); otherwise
 * it is dropped and the batch reads its parents itself. The source column is only read.
 */

type SourceRow = Readonly<Record<string, unknown>>;

/** One parent's document, parsed: its children, its dead letter, or what parsing or mapping threw (rethrown when reached). */
type ParsedParent =
  | { readonly kind: 'children'; readonly children: readonly ChildRow[] }
  | { readonly kind: 'dead'; readonly dead: DeadLetter }
  | { readonly kind: 'failed'; readonly error: unknown };

/** The next batch's parents, read ahead, and the promise of their parsed documents. */
interface ReadAhead {
  readonly after: string;
  readonly upTo: KeyText | null;
  /** The batch size the rows were read with: fewer rows means the range ended there. */
  readonly size: number;
  readonly keys: readonly string[];
  readonly parsed: Promise<readonly ParsedParent[]>;
}

/** Yields to the event loop about every 2 ms of parsing, so the batch being written keeps streaming. */
const PARSE_SLICE_MS = 2;

function problemText(issue: { shape: string; path: string; message: string }): string {
  return `${issue.path || '(document)'}: ${issue.message} (closest shape: ${issue.shape})`;
}

/** Reads, parses and maps the documents of a batch's parents, one batch ahead (see the module comment). */
export class ExtractBatchReader<Element> {
  /** Per connection (workers share a writer), the batch read ahead. */
  private readonly ahead = new WeakMap<pg.ClientBase, ReadAhead>();

  constructor(
    private readonly plan: ExtractPlan,
    private readonly shapes: ShapeSet<Element>,
    private readonly map: (element: Element, parent: ExtractParent) => Readonly<Record<string, unknown>>,
  ) {}

  /**
   * The batch `request` asks for, in the caller's open transaction: its parent keys and its children (produced
   * lazily; `dead` is complete once they are consumed). Also reads the next batch's parents and starts parsing
   * them. Throws, when its children are consumed, what parsing a document threw (e.g. {@link InvalidDocumentError}
   * with `onInvalid: 'fail'`). Read-only (ACCESS SHARE on the source); what was read ahead is used only by the
   * batch asking for exactly that range on the same connection, so a retried or resized batch reads afresh.
   */
  async read(client: pg.ClientBase, request: BatchRequest): Promise<ChildBatch> {
    const held = this.ahead.get(client);
    this.ahead.delete(client);
    const usable = held !== undefined && request.after?.[0] === held.after && JSON.stringify(request.upTo) === JSON.stringify(held.upTo);
    let keys: string[] = [];
    let parsed: readonly ParsedParent[] = [];
    let rows: SourceRow[] = [];
    if (usable) {
      keys = held.keys.slice(0, request.size);
      parsed = (await held.parsed).slice(0, request.size);
      // Asked for more than was read ahead, and the range did not end there: read the rest now.
      if (keys.length < request.size && held.keys.length === held.size) {
        rows = await this.select(client, [keys.at(-1) ?? held.after], request.upTo, request.size - keys.length);
      }
    } else {
      rows = await this.select(client, request.after, request.upTo, request.size);
    }
    keys = [...keys, ...rows.map((row) => keyTextOf(row, [this.plan.source.key])[0] as string)];
    const last = keys.at(-1);
    if (keys.length === request.size && last !== undefined) {
      const next = await this.select(client, [last], request.upTo, request.size);
      const nextKeys = next.map((row) => keyTextOf(row, [this.plan.source.key])[0] as string);
      this.ahead.set(client, { after: last, upTo: request.upTo, size: request.size, keys: nextKeys, parsed: this.parseAhead(next, nextKeys) });
    }
    const dead: DeadLetter[] = [];
    return { parents: keys, children: this.children(parsed, rows, keys.slice(parsed.length), dead), dead };
  }

  /** The next `size` parents after `after` (up to `upTo`), with their documents and selected columns. */
  private async select(client: pg.ClientBase, after: KeyText | null, upTo: KeyText | null, size: number): Promise<SourceRow[]> {
    const { source } = this.plan;
    const params: unknown[] = [];
    const range = keyRangePredicate('t', [source.key], after, upTo, params);
    params.push(size);
    const { rows } = await client.query(
      `select ${keyTextSelect('t', [source.key])}, t.${quoteIdent(source.column)} as doc${source.select.map((c, i) => `, t.${quoteIdent(c)} as ${quoteIdent(`p${i}`)}`).join('')} from ${source.table} t
       where ${range} and (${source.where}) order by ${keyOrder('t', [source.key], 'asc')} limit $${params.length}`,
      params,
    );
    return rows;
  }

  /** Parses `rows` in slices, yielding to the event loop between them; never rejects (errors are kept per parent). */
  private async parseAhead(rows: readonly SourceRow[], keys: readonly string[]): Promise<readonly ParsedParent[]> {
    const out: ParsedParent[] = [];
    let slice = performance.now();
    for (const [i, row] of rows.entries()) {
      out.push(this.parseParent(row, keys[i] as string));
      if (performance.now() - slice > PARSE_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
    return out;
  }

  /** The children of one parent's document, its dead letter, or what parsing or mapping threw. */
  private parseParent(row: SourceRow, parent: string): ParsedParent {
    const { plan } = this;
    try {
      const parsed = parseDocument(row['doc'], this.shapes);
      if (parsed.kind === 'empty') return { kind: 'children', children: [] };
      if (parsed.kind === 'invalid') {
        const issues = parsed.issues.map(problemText);
        if (plan.onInvalid === 'fail') throw new InvalidDocumentError(plan.source.table, plan.source.column, parent, issues);
        return { kind: 'dead', dead: { parent, issues, raw: row['doc'] } };
      }
      const parentRow = Object.fromEntries(plan.source.select.map((column, c) => [column, row[`p${c}`]]));
      const seen = new Set<string>();
      const children: ChildRow[] = [];
      for (const [index, element] of parsed.elements.entries()) {
        const values = this.map(element, { key: parent, row: parentRow });
        if (plan.target.distinctOn.length > 0) {
          const identity = JSON.stringify(plan.target.distinctOn.map((column) => values[column] ?? null));
          if (seen.has(identity)) continue;
          seen.add(identity);
        }
        children.push({ parent, ordinal: index + 1, values });
      }
      return { kind: 'children', children };
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  /** The batch's children in key order: those parsed ahead, then those of `rows`, parsed as they are consumed. */
  private *children(parsed: readonly ParsedParent[], rows: readonly SourceRow[], keys: readonly string[], dead: DeadLetter[]): Generator<ChildRow> {
    const all = function* (this: ExtractBatchReader<Element>): Generator<ParsedParent> {
      yield* parsed;
      for (const [i, row] of rows.entries()) yield this.parseParent(row, keys[i] as string);
    }.call(this);
    for (const parent of all) {
      switch (parent.kind) {
        case 'failed':
          throw parent.error;
        case 'dead':
          dead.push(parent.dead);
          break;
        case 'children':
          yield* parent.children;
          break;
      }
    }
  }
}
