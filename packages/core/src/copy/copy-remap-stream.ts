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

  constructor(
    private readonly refs: readonly StreamRef[],
    /** Target column names of the fields after the key (for a dead letter's row). */
    private readonly columns: readonly string[],
    private readonly keyName: string,
    /** Whether the key field is also written (a kept id); otherwise it is dropped. */
    private readonly keepKey: boolean,
  ) {
    super();
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

  private rewrite(lines: readonly string[]): string | undefined {
    const out: string[] = [];
    for (const line of lines) {
      const fields = line.split('\t');
      let reason: string | undefined;
      for (const ref of this.refs) {
        const old = fields[ref.index] as string;
        if (old === '\\N') continue;
        const value = copyFieldValue(old) as string;
        const id = ref.map.get(value);
        if (id === undefined) {
          reason = `${ref.column} = ${value}: no "${ref.entry}" row with that key was copied`;
          break;
        }
        fields[ref.index] = id;
      }
      if (reason !== undefined) {
        const row: Record<string, string | null> = { [this.keyName]: copyFieldValue(fields[0] as string) };
        // Reference fields before the failing one were already rewritten: report the source values.
        const source = line.split('\t');
        this.columns.forEach((column, i) => (row[column] = copyFieldValue(source[i + 1] as string)));
        this.dead.push({ key: copyFieldValue(fields[0] as string) as string, reason, row });
        continue;
      }
      out.push((this.keepKey ? fields : fields.slice(1)).join('\t'));
    }
    return out.length ? `${out.join('\n')}\n` : undefined;
  }
}
