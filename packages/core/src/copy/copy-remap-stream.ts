import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Rewrites references on the way from `COPY … TO STDOUT` (text format) to `COPY … FROM STDIN`: each line is
 * one row, fields separated by tabs (a tab or newline inside a value is escaped, so splitting is exact). The
 * first field is the source key; the fields at the reference positions hold old keys, replaced by the new ids
 * from in-memory id maps. A row whose old key the map does not hold is taken out of the stream and kept, with
 * the reason, for the dead letters. NULL (`\N`) stays NULL.
 */

/** A reference field and the map that resolves it. */
export interface StreamRef {
  readonly index: number;
  readonly column: string;
  readonly entry: string;
  readonly map: ReadonlyMap<string, string>;
}

/** A row taken out of the stream. */
export interface StreamDeadLetter {
  readonly key: string;
  readonly reason: string;
  readonly row: Record<string, string | null>;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** Characters a COPY text field must escape. */
const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** A value as a COPY text field (backslash, tab, newline and carriage return escaped). Pure. */
function escapeField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** A COPY text field's value (`\N` is NULL; backslash escapes decoded). Pure. */
export function copyFieldValue(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code.startsWith('x')) return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return ESCAPES[code] ?? code;
  });
}

/** The transform; `dead` holds the rows it took out once the stream has ended. */
export class RemapStream extends Transform {
  readonly dead: StreamDeadLetter[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  private readonly refs: readonly StreamRef[];

  constructor(
    refs: readonly StreamRef[],
    /** Target column names of the fields after the key (for a dead letter's row). */
    private readonly columns: readonly string[],
    private readonly keyName: string,
    /** Whether the key field is also written (a kept id); otherwise it is dropped. */
    private readonly keepKey: boolean,
  ) {
    super();
    // Rewritten left to right: in field order.
    this.refs = [...refs].sort((a, b) => a.index - b.index);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const lines = (this.rest + this.decoder.write(chunk)).split('\n');
    this.rest = lines.pop() ?? '';
    callback(null, this.rewrite(lines));
  }

  override _flush(callback: TransformCallback): void {
    const last = this.rest + this.decoder.end();
    callback(null, last ? this.rewrite([last]) : undefined);
  }

  /**
   * Rewrites whole lines: for each reference field (in field order) the walk goes from tab to tab up to it,
   * looks its old key up and splices the new id in; the rest of the line is copied as it is. One pass per line,
   * no split of the line into fields.
   */
  private rewrite(lines: readonly string[]): string | undefined {
    const out: string[] = [];
    const refs = this.refs;
    for (const line of lines) {
      let rewritten = '';
      let from = 0;
      let field = 0;
      let start = 0;
      let reason: string | undefined;
      for (const ref of refs) {
        for (; field < ref.index && start >= 0; field += 1) {
          const tab = line.indexOf('\t', start);
          start = tab < 0 ? -1 : tab + 1;
        }
        if (start < 0) break;
        const tab = line.indexOf('\t', start);
        const end = tab < 0 ? line.length : tab;
        const old = line.slice(start, end);
        if (old === '\\N') continue;
        const value = old.includes('\\') ? (copyFieldValue(old) as string) : old;
        const id = ref.map.get(value);
        if (id === undefined) {
          reason = `${ref.column} = ${value}: no "${ref.entry}" row with that key was copied`;
          break;
        }
        rewritten += line.slice(from, start) + (NEEDS_ESCAPE.test(id) ? escapeField(id) : id);
        from = end;
      }
      if (reason !== undefined) {
        this.deadLetter(line, reason);
        continue;
      }
      rewritten = from === 0 ? line : rewritten + line.slice(from);
      out.push(this.keepKey ? rewritten : rewritten.slice(this.keyEnd(rewritten)));
    }
    return out.length ? `${out.join('\n')}\n` : undefined;
  }

  /** Keeps the row taken out of the stream, with its source values, for the dead letters. */
  private deadLetter(line: string, reason: string): void {
    const fields = line.split('\t');
    const row: Record<string, string | null> = { [this.keyName]: copyFieldValue(fields[0] as string) };
    this.columns.forEach((column, i) => (row[column] = copyFieldValue(fields[i + 1] as string)));
    this.dead.push({ key: copyFieldValue(fields[0] as string) as string, reason, row });
  }

  /** The offset just after the key field (the first tab) of a line. Pure. */
  private keyEnd(line: string): number {
    const tab = line.indexOf('\t');
    return tab < 0 ? line.length : tab + 1;
  }
}
