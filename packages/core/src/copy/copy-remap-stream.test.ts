import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { copyFieldValue, RemapStream } from './copy-remap-stream.js';

async function run(stream: RemapStream, chunks: readonly Buffer[]): Promise<string> {
  let out = '';
  for await (const piece of Readable.from(chunks).pipe(stream)) out += String(piece);
  return out;
}

const students = new Map([
  ['1', 'aaaaaaaa-0000-0000-0000-000000000001'],
  ['2', 'aaaaaaaa-0000-0000-0000-000000000002'],
  ['a\tb', 'aaaaaaaa-0000-0000-0000-00000000000c'],
]);
const courses = new Map([['7', 'cccccccc-0000-0000-0000-000000000007']]);

describe('RemapStream', () => {
  it('rewrites reference fields through the maps, keeps NULLs and the other fields byte for byte', async () => {
    const stream = new RemapStream(
      [
        { index: 2, column: 'courseId', entry: 'courses', map: courses },
        { index: 1, column: 'studentId', entry: 'students', map: students },
      ],
      ['studentId', 'courseId', 'note'],
      'id',
      true,
    );
    const input = '10\t1\t7\tnaïve\\ttext\n11\t\\N\t7\t\\N\n12\ta\\tb\t7\tx\n';
    expect(await run(stream, [Buffer.from(input)])).toBe(
      '10\taaaaaaaa-0000-0000-0000-000000000001\tcccccccc-0000-0000-0000-000000000007\tnaïve\\ttext\n' +
        '11\t\\N\tcccccccc-0000-0000-0000-000000000007\t\\N\n' +
        '12\taaaaaaaa-0000-0000-0000-00000000000c\tcccccccc-0000-0000-0000-000000000007\tx\n',
    );
    expect(stream.dead).toEqual([]);
  });

  it('takes rows with an unknown key out, with the reason and the source values, across chunk boundaries (even inside a UTF-8 character)', async () => {
    const stream = new RemapStream([{ index: 1, column: 'studentId', entry: 'students', map: students }], ['studentId', 'name'], 'id', false);
    const bytes = Buffer.from('1\t2\tÆsa\n2\t99\tBø\n3\t1\tC\n');
    const split = bytes.indexOf(Buffer.from('Æ')) + 1; // between the two bytes of Æ
    expect(await run(stream, [bytes.subarray(0, split), bytes.subarray(split, 15), bytes.subarray(15)])).toBe(
      'aaaaaaaa-0000-0000-0000-000000000002\tÆsa\naaaaaaaa-0000-0000-0000-000000000001\tC\n',
    );
    expect(stream.dead).toEqual([{ key: '2', reason: 'studentId = 99: no "students" row with that key was copied', row: { id: '2', studentId: '99', name: 'Bø' } }]);
  });

  it('escapes a new id holding a tab, a backslash or a newline (kept text keys)', async () => {
    const stream = new RemapStream([{ index: 1, column: 'code', entry: 'codes', map: new Map([['1', 'A\tB\\C\nD']]) }], ['code'], 'id', true);
    expect(await run(stream, [Buffer.from('9\t1\n')])).toBe('9\tA\\tB\\\\C\\nD\n');
  });

  it('decodes COPY text escapes', () => {
    expect(copyFieldValue('\\N')).toBeNull();
    expect(copyFieldValue('a\\\\b\\tc\\nd\\x41\\101')).toBe('a\\b\tc\ndAA');
  });
});
