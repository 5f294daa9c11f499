import { describe, expect, it } from '@jest/globals';
import { renderFixModule } from './analyze.js';
import { childTableName, jsonTableFix, parentKeyColumn, sqlTypeForKey } from './json-fix.js';
import { zodForCandidate, type CandidateKey, type ColumnShape, type TableCandidate } from './json-shapes.js';
import { referenceFix, referenceNames } from './reference-fix.js';

const key = (name: string, types: string[], formats: Partial<CandidateKey['formats']> = {}, presence = 1): CandidateKey => ({
  key: name,
  presence,
  types,
  formats: { integer: false, int4: false, timestamp: false, ...formats },
});

const candidate = (keys: CandidateKey[], paths = ['$']): TableCandidate => ({ paths, presence: 1, elementsPerDocument: 2, keys, score: 1, elements: 10 });
const shape = (table: string, column: string, c: TableCandidate): ColumnShape => ({
  schema: 'public',
  table,
  column,
  sampled: 5,
  variants: [{ signature: 'array', documents: 5 }],
  root: { types: {}, keys: {}, elements: undefined, elementCount: 0, formats: { integer: 0, int4: 0, timestamp: 0 } },
  candidates: [c],
});

describe('analyze --fix: JSON tables', () => {
  it('types a column as the sampled values allow, jsonb for anything mixed or nested', () => {
    expect(sqlTypeForKey(key('a', ['string']))).toBe('TEXT');
    expect(sqlTypeForKey(key('a', ['null', 'string'], { timestamp: true }))).toBe('TIMESTAMPTZ');
    expect(sqlTypeForKey(key('a', ['number'], { integer: true, int4: true }))).toBe('INTEGER');
    expect(sqlTypeForKey(key('a', ['number'], { integer: true }))).toBe('BIGINT');
    expect(sqlTypeForKey(key('a', ['number']))).toBe('NUMERIC');
    expect(sqlTypeForKey(key('a', ['boolean']))).toBe('BOOLEAN');
    expect(sqlTypeForKey(key('a', ['number', 'string']))).toBe('JSONB');
    expect(sqlTypeForKey(key('a', ['object']))).toBe('JSONB');
  });

  it('the zod shape refuses what the column could not hold (a fraction in an integer, an unzoned time)', () => {
    const zod = zodForCandidate(candidate([key('n', ['number'], { integer: true, int4: true }), key('at', ['string'], { timestamp: true }, 0.5)]));
    expect(zod).toContain('n: z.number().int().min(-2147483648).max(2147483647),');
    expect(zod).toMatch(/at: z\.string\(\)\.regex\(.*\)\.optional\(\),/);
  });

  it('names the child after its parent and renames element keys that would take the id or the parent key', () => {
    expect([childTableName('TutorProfile', 'availability'), parentKeyColumn('TutorProfile')]).toEqual(['TutorProfileAvailability', 'tutorProfileId']);
    expect([childTableName('tutor_profile', 'slots'), parentKeyColumn('tutor_profile')]).toEqual(['tutor_profile_slots', 'tutor_profile_id']);
    const fix = jsonTableFix(shape('Request', 'votes', candidate([key('id', ['string']), key('requestId', ['string'], {}, 0.5), key('at', ['null', 'string'])])), candidate([key('id', ['string']), key('requestId', ['string'], {}, 0.5), key('at', ['null', 'string'])]), { name: 'id', type: 'uuid' });
    expect(fix.columns).toEqual([
      { key: 'id', column: 'elementId', type: 'TEXT', nullable: false },
      { key: 'requestId', column: 'elementRequestId', type: 'TEXT', nullable: true },
      { key: 'at', column: 'at', type: 'TEXT', nullable: true },
    ]);
    expect(fix.steps[0]).toContain('{ name: "requestId", type: "UUID", nullable: false }');
    expect(fix.contract).toEqual(['schemaStep("drop_Request_votes", step(dropColumn, { table: "Request", column: "votes" }))']);
  });

  it('writes a module with the declarations, zod imported, and a contract phase depending on the expand phase', () => {
    const c = candidate([key('day', ['number'], { integer: true, int4: true })], ['$', '$.slots']);
    const fix = jsonTableFix(shape('Profile', 'availability', c), c, { name: 'id', type: 'text' });
    const reference = referenceFix('public', ['Booking', 'Session'], 'subjectId');
    const finding = (steps: readonly string[], extra: object) => ({ check: 'x', kind: 'runtime' as const, severity: 'info' as const, object: 'o', prisma: null, message: '', fix: { prisma: null, steps, ...extra } });
    const module = renderFixModule([finding(fix.steps, { declarations: fix.declarations, contract: fix.contract }), finding(reference.steps, { contract: reference.contract })]);
    expect(module).toMatch(/^import \{ addColumn, addForeignKey, backfillStep, createTable, dataStep, definePhase, dropColumn, extractJson, extractReferenceRows, mapColumns, schemaStep, step, undoExtraction, verifyExtractionOn \} from '@prisma-evolve\/core';\nimport \{ z \} from 'zod';$/m);
    expect(module).toContain('"slots": z.object({ "slots": z.array(Profile_availability_element) }).transform((doc) => doc["slots"])');
    expect(module).toMatch(/name: "analyze_fixes_contract",\n    kind: 'contract',\n    dependsOn: \[EXPAND\],/);
    expect(module).toContain('{ requires: [`${EXPAND}/Session_subjectRefId_fill`] }');
    expect(referenceNames('subject_code')).toEqual({ table: 'Subject', foreignKey: 'subject_ref_id' });
  });
});
