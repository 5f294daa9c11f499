import { describe, expect, it } from '@jest/globals';
import { sqlExpression } from '../extract/dedupe.js';
import { copyField } from './copy-map-stage.js';
import { copyTable, defineCopy, loadOrder, needsIdMap, ref } from './copy-spec.js';
import { integerBounds } from './copy-ranges.js';

describe('defineCopy', () => {
  it('names the field at fault', () => {
    expect(() => defineCopy({ name: 'c', tables: { a: { from: 'a', key: 'id', columns: { x: ref('b', 'b_id') } } } })).toThrow(/tables\.a\.columns\.x.*refers to "b", which is not a table of the copy/);
    expect(() => defineCopy({ name: 'c', tables: { a: { from: 'a', key: 'id', id: false, columns: {} }, b: { from: 'b', key: 'id', columns: { aId: ref('a', 'a_id') } } } })).toThrow(/refers to "a", which has no id/);
    expect(() => defineCopy({ name: 'c', tables: { a: { from: 'a', key: 'id', id: false, dedupe: { by: [sqlExpression('s.x')] }, columns: {} } } })).toThrow(/tables\.a\.dedupe.*needs an id column/);
    expect(() => defineCopy({ name: 'c', tables: { a: { from: 'a', key: 'id', columns: { id: 'id' } } } })).toThrow(/tables\.a\.columns\.id.*is the id column/);
    expect(() => defineCopy({ name: 'c', tables: { a: { from: 'a', key: 'id', columns: { x: 'x' }, produces: ['y'], map: () => ({}) } } })).toThrow(/give either columns \(SQL\) or map \(TypeScript\), not both/);
    expect(() => defineCopy({ name: 'c', tables: { a: { from: 'a', key: 'id', produces: ['y'] } } })).toThrow(/produces and refs go with map/);
    expect(() => defineCopy({ name: 'c', tables: { a: { from: 'a', key: '', columns: {} } } })).toThrow(/tables\.a\.key/);
    expect(() => defineCopy({ name: 'c', tables: {} })).toThrow(/name at least one table/);
  });

  it('orders entries after those they refer to, refuses a cycle by name, and keeps an id map only where needed', () => {
    const plan = defineCopy({
      name: 'c',
      tables: {
        grades: { from: 'grades', key: 'id', id: { column: 'legacyId', generate: 'keep' }, columns: { studentId: ref('students', 'student_id') } },
        students: { from: 'students', key: 'id', columns: { personId: ref('persons', 'person_id') } },
        persons: { from: 'persons', key: 'id', id: { column: 'id', generate: 'uuid' }, columns: {} },
        orgs: { from: 'orgs', key: 'id', columns: { parentId: ref('orgs', 'parent_id') } },
      },
    });
    expect(loadOrder(plan).map((t) => t.entry)).toEqual(['persons', 'students', 'grades', 'orgs']);
    expect(plan.tables.map((t) => [t.entry, needsIdMap(plan, t)])).toEqual([
      ['grades', false],
      ['students', true],
      ['persons', true],
      ['orgs', true],
    ]);
    const cycle = defineCopy({ name: 'c', tables: { a: { from: 'a', key: 'id', columns: { b: ref('b', 'b') } }, b: { from: 'b', key: 'id', columns: { a: ref('a', 'a') } } } });
    expect(() => loadOrder(cycle)).toThrow(/the references form a cycle \(a → b → a\)/);
  });
});

describe('copyTable (entries typed by the target model)', () => {
  /** The shape of a generated `Prisma.GradeUncheckedCreateInput`. */
  interface GradeInput {
    id?: string;
    legacyId: bigint | number;
    studentId: string;
    value: number;
    gradedAt: Date | string;
  }

  it('accepts the model\'s fields and refuses others at compile time (checked by pnpm typecheck)', () => {
    const grade = copyTable<GradeInput>();
    const entry = grade({ from: 'grades', key: 'id', id: { column: 'legacyId', generate: 'keep' }, columns: { studentId: ref('students', 'student_id'), value: 'value', gradedAt: 'graded_at' } });
    // @ts-expect-error: "grade" is not a field of the model
    grade({ from: 'grades', key: 'id', columns: { grade: 'value' } });
    // @ts-expect-error: map returns a field the model does not have
    grade({ from: 'grades', key: 'id', produces: ['value'], map: () => ({ valeu: 1 }) });
    // @ts-expect-error: one misspelt field beside a right one
    grade({ from: 'grades', key: 'id', produces: ['value', 'gradedAt'], map: () => ({ value: 1, gradedAtt: 'x' }) });
    grade({
      from: 'grades',
      key: 'id',
      produces: ['value'],
      // @ts-expect-error: the same in a block body
      map: (row) => {
        const value = Number(row['value']);
        return { value, valeu: value };
      },
    });
    grade({ from: 'grades', key: 'id', produces: ['value', 'gradedAt'], map: (row) => ({ value: Number(row['value']), gradedAt: String(row['graded_at']) }) });
    // @ts-expect-error: produces names a field the model does not have
    grade({ from: 'grades', key: 'id', produces: ['points'], map: () => ({}) });
    const plan = defineCopy({ name: 'typed', tables: { students: { from: 'students', key: 'id', id: { column: 'id', generate: 'uuid' } }, grades: entry } });
    expect(Object.keys(plan.tables.find((t) => t.entry === 'grades')?.resolvedColumns ?? {})).toEqual(['studentId', 'value', 'gradedAt']);
  });
});

describe('copy helpers', () => {
  it('cuts integer keys into ranges of about the batch size', () => {
    expect(integerBounds(1n, 100n, 100, 30)).toEqual(['25', '50', '75']);
    expect(integerBounds(5n, 5n, 1, 10)).toEqual([]);
    expect(integerBounds(-10n, 9n, 20, 10)).toEqual(['-1']);
  });

  it('writes values in COPY text format', () => {
    expect([null, undefined, 'a\tb\\c\nd', 3, true, { a: [1] }, new Date('2020-01-02T03:04:05Z')].map(copyField)).toEqual(['\\N', '\\N', 'a\\tb\\\\c\\nd', '3', 'true', '{"a":[1]}', '2020-01-02T03:04:05.000Z']);
    // An array is a PostgreSQL array literal, a Buffer bytea hex (COPY then doubles the backslashes).
    expect(copyField([1, 'b "c"', null])).toBe('{"1","b \\\\"c\\\\"",NULL}');
    expect(copyField(Buffer.from([1, 255]))).toBe('\\\\x01ff');
  });
});
