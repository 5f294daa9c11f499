import { match, P } from 'ts-pattern';
import type { z } from 'zod';

/** Known variants of a JSON document, by name; each validates and normalises to a list of elements. */
export type ShapeSet<Element> = Readonly<Record<string, z.ZodType<readonly Element[]>>>;

/** One reason a document was refused, with the path of the offending value. */
export interface DocumentIssue {
  /** The shape whose rules the document came closest to. */
  readonly shape: string;
  /** JSON path such as `slots[2].day` (empty for the document itself). */
  readonly path: string;
  readonly message: string;
}

/** What parsing one document gave. */
export type ParsedDocument<Element> =
  /** SQL NULL or JSON `null`: no children, not an error. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'valid'; readonly shape: string; readonly elements: readonly Element[] }
  | { readonly kind: 'invalid'; readonly issues: readonly DocumentIssue[] };

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/**
 * Parses a document against every shape, in declaration order; the first that accepts it wins. When none
 * does, the issues of the closest shape are returned with their paths, so a dead letter says what is
 * wrong. Closest means the shape that got deepest into the document before failing, then the one with
 * the fewest issues. Pure.
 */
export function parseDocument<Element>(document: unknown, shapes: ShapeSet<Element>): ParsedDocument<Element> {
  return match(document)
    .with(P.nullish, () => ({ kind: 'empty' as const }))
    .otherwise((value) => {
      let closest: { issues: DocumentIssue[]; depth: number } | undefined;
      for (const [shape, schema] of Object.entries(shapes)) {
        const parsed = schema.safeParse(value);
        if (parsed.success) return { kind: 'valid' as const, shape, elements: parsed.data };
        const issues = parsed.error.issues.map((issue) => ({ shape, path: pathOf(issue.path), message: issue.message }));
        const depth = Math.max(...parsed.error.issues.map((issue) => issue.path.length));
        if (!closest || depth > closest.depth || (depth === closest.depth && issues.length < closest.issues.length)) closest = { issues, depth };
      }
      return { kind: 'invalid' as const, issues: closest?.issues ?? [{ shape: '-', path: '', message: 'no shape is declared' }] };
    });
}
