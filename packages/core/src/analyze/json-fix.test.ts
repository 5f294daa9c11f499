import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import { z } from 'zod';
import * as core from '../index.js';
import { hasCodeSteps, renderFixModule } from './analyze.js';
import { childTableName, jsonTableFix, parentKeyColumn, sqlTypeForKey } from './json-fix.js';
import { childPath, pathSegments, zodForCandidate, type CandidateKey, type ColumnShape, type TableCandidate } from './json-shapes.js';
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
    expect(fix.contract).toEqual(['schemaStep("drop_Request_votes", step(dropColumn, { table: "Request", column: "votes" }), { requires: [`${EXPAND}/extract_Request_votes`] })']);
    // That extraction step's guard: no child row although a document holds elements.
    expect(fix.steps[1]).toContain('remaining: "NOT EXISTS (SELECT 1 FROM \\"public\\".\\"RequestVotes\\") AND EXISTS (SELECT 1 FROM \\"public\\".\\"Request\\" t WHERE (jsonb_typeof(t.\\"votes\\"::jsonb) = \'array\' AND jsonb_array_length(t.\\"votes\\"::jsonb) > 0))"');
  });

  it('writes a module with the declarations, zod imported, and a contract phase depending on the expand phase', () => {
    const c = candidate([key('day', ['number'], { integer: true, int4: true })], ['$', '$.slots']);
    const fix = jsonTableFix(shape('Profile', 'availability', c), c, { name: 'id', type: 'text' });
    const reference = referenceFix('public', ['Booking', 'Session'], 'subjectId');
    const finding = (steps: readonly string[], extra: object) => ({ check: 'x', kind: 'runtime' as const, severity: 'info' as const, object: 'o', prisma: null, message: '', fix: { prisma: null, steps, ...extra } });
    const module = renderFixModule([finding(fix.steps, { declarations: fix.declarations, contract: fix.contract }), finding(reference.steps, { contract: reference.contract })]);
    expect(module).toMatch(/^import \{ addColumn, addForeignKey, backfillStep, createTable, dataStep, definePhase, dropColumn, extractJson, extractReferenceRows, mapColumns, schemaStep, step, undoExtraction, verifyExtractionOn, withClient \} from '@prisma-evolve\/core';\nimport \{ z \} from 'zod';$/m);
    expect(module).toContain('"slots": z.object({ "slots": z.array(Profile_availability_element) }).transform((doc) => doc["slots"])');
    expect(module).toMatch(/name: "analyze_fixes_contract",\n    kind: 'contract',\n    dependsOn: \[EXPAND\],/);
    // The drop refuses while any row holds a code without a key, not only a code that has a reference row.
    expect(module).toContain('{ requires: [`${EXPAND}/Session_subjectRefId_fill`, `${EXPAND}/Session_subjectRefId_unkeyed`] }');
    expect(module).toContain('remaining: "EXISTS (SELECT 1 FROM \\"public\\".\\"Session\\" t WHERE t.\\"subjectId\\" IS NOT NULL AND t.\\"subjectRefId\\" IS NULL)"');
    expect(referenceNames('subject_code')).toEqual({ table: 'Subject', foreignKey: 'subject_ref_id' });
  });

  it('nests the shape of a list under several keys ($.schedule.slots), every key a string literal', () => {
    expect(childPath(childPath('$', 'schedule'), 'slots')).toBe('$.schedule.slots');
    expect(pathSegments(childPath(childPath('$', 'a.b"]'), 'slots'))).toEqual(['a.b"]', 'slots']);
    expect(pathSegments('$')).toEqual([]);
    const c = candidate([key('day', ['number'], { integer: true, int4: true })], ['$.schedule.slots']);
    const fix = jsonTableFix(shape('Profile', 'availability', c), c, { name: 'id', type: 'text' });
    expect(fix.declarations[0]).toContain('"schedule.slots": z.object({ "schedule": z.object({ "slots": z.array(Profile_availability_element) }) }).transform((doc) => doc["schedule"]["slots"])');
  });

  it('keeps element keys that are no valid column name, under deterministic valid names', () => {
    const long = 'k'.repeat(70);
    const c = candidate([key(long, ['string']), key('a\u0001b', ['string']), key('a_b', ['string']), key('', ['string'])]);
    const columns = jsonTableFix(shape('T', 'doc', c), c, { name: 'id', type: 'text' }).columns;
    expect(columns.map((col) => col.key)).toEqual([long, 'a\u0001b', 'a_b', '']);
    expect(columns[0]?.column).toMatch(/^k{54}_[0-9a-f]{8}$/);
    expect(columns[1]?.column).toMatch(/^a_b_[0-9a-f]{8}$/);
    expect(columns[2]?.column).toBe('a_b');
    expect(columns[3]?.column).toMatch(/^element_[0-9a-f]{8}$/);
    expect(jsonTableFix(shape('T', 'doc', c), c, { name: 'id', type: 'text' }).columns).toEqual(columns);
  });

  it('zod refuses integers JSON.parse rounded (over 2^53): such a document is a dead letter, not a wrong BIGINT', () => {
    expect([z.number().int().safeParse(JSON.parse('9007199254740993')).success, z.number().int().safeParse(2 ** 53 - 1).success]).toEqual([false, true]);
  });

  it('puts no database-derived text into the module as code: a hostile key or table name stays in literals and defused comments', () => {
    const hostile = "*/ globalThis.__evolvePwned = 1; /*\u2028globalThis.__evolvePwned = 2;\n";
    const c = candidate([key(hostile, ['string']), key('day', ['number'], { integer: true, int4: true })], ['$', `$[${JSON.stringify(hostile)}]`]);
    const fix = jsonTableFix(shape(hostile.slice(0, 40), hostile.slice(0, 20), c), c, { name: 'id', type: 'text' });
    const finding = { check: 'json-should-be-table', kind: 'runtime' as const, severity: 'info' as const, object: hostile, prisma: null, message: '', fix: { prisma: null, steps: [...fix.steps, `// note on ${hostile}`], declarations: fix.declarations, contract: fix.contract } };
    const module = renderFixModule([finding]);
    const source = ts.createSourceFile('fixes.ts', module, ts.ScriptTarget.ES2022);
    // Only imports, constants and the exported phases at the top level: no statement from the data.
    expect(source.statements.map((s) => (ts.isImportDeclaration(s) ? 'import' : ts.isVariableStatement(s) && s.declarationList.flags & ts.NodeFlags.Const ? 'const' : ts.SyntaxKind[s.kind]))).toEqual(['import', 'import', 'const', 'const', 'const', 'const']);
    const output = ts.transpileModule(module, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, reportDiagnostics: true });
    expect(output.diagnostics ?? []).toEqual([]);
    // Evaluated with its imports bound to the real API, it defines the phases and runs nothing of the data's.
    const bindings: [string, unknown][] = [];
    const body = output.outputText.replace(/^import \{ ([^}]+) \} from '([^']+)';$/gm, (_, names: string, from: string) => {
      for (const name of names.split(', ')) bindings.push([name, from === 'zod' ? z : (core as Record<string, unknown>)[name]]);
      return '';
    });
    const phases = new Function(...bindings.map(([name]) => name), body.replace('export const phases =', 'return'))(...bindings.map(([, value]) => value)) as { name: string }[];
    expect(phases.map((p) => p.name)).toEqual(['analyze_fixes', 'analyze_fixes_contract']);
    expect((globalThis as { __evolvePwned?: unknown }).__evolvePwned).toBeUndefined();
  });

  it('writes no array with holes: notes are comments, and a module with no code step is refused', () => {
    const finding = (steps: string[]) => ({ check: 'x', kind: 'runtime' as const, severity: 'info' as const, object: 'public.T', prisma: null, message: '', fix: { prisma: null, steps } });
    const note = finding(['// ANALYZE "public"."T" (no lock on reads or writes), or prisma-evolve optimize']);
    expect(hasCodeSteps([note])).toBe(false);
    expect(() => renderFixModule([note])).toThrow(/no finding has a fix step that is code/);
    const module = renderFixModule([note, finding(['schemaStep("index_T_a", step(createIndex, { table: "T", columns: ["a"] }))'])]);
    expect(hasCodeSteps([note, finding(['schemaStep("x", step(createIndex, { table: "T", columns: ["a"] }))'])])).toBe(true);
    expect(module).not.toMatch(/\[\s*,/);
    expect(module).toContain('// ANALYZE "public"."T" (no lock on reads or writes), or prisma-evolve optimize (public.T)');
  });
});
