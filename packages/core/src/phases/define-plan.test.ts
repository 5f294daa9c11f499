import { describe, expect, it } from '@jest/globals';
import { createIndex } from '../operations/create-index.js';
import { step } from '../operations/operation.js';
import { backfillStep, contractStep, dataStep, definePhase, definePlan, isPlanFolder, phaseFolderId, phaseMigrationPrefix, schemaStep, verifySql, type PhaseDefinition, type VerifyStepDefinition } from './define-plan.js';

const index = (table: string) => schemaStep(`index_${table}`, step(createIndex, { table, columns: ['id'] }));
const phase = (name: string, dependsOn: string[] = []) => definePhase({ name, dependsOn, steps: [index(name)] });
const base = { name: 'p', migrationsDir: 'prisma/migrations', migrationPrefix: '20300101000000' };

describe('definePlan', () => {
  it('orders phases topologically, keeping declaration order among independent ones', () => {
    const plan = definePlan({ ...base, phases: [phase('c', ['b']), phase('a'), phase('b', ['a']), phase('d', ['a'])] });
    expect(plan.phases.map((p) => p.name)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects unknown dependencies, naming them', () => {
    expect(() => definePlan({ ...base, phases: [phase('a', ['ghost'])] })).toThrow('phase "a".dependsOn');
    expect(() => definePlan({ ...base, phases: [phase('a', ['ghost'])] })).toThrow('unknown phase "ghost"');
  });

  it('rejects cycles, naming the cycle', () => {
    expect(() => definePlan({ ...base, phases: [phase('a', ['c']), phase('b', ['a']), phase('c', ['b'])] })).toThrow(
      'dependency cycle: "a" -> "c" -> "b" -> "a"',
    );
  });

  it('rejects duplicate phase and step names and bad prefixes', () => {
    expect(() => definePlan({ ...base, phases: [phase('a'), phase('a')] })).toThrow('phase name "a" is used twice');
    expect(() => definePhase({ name: 'x', steps: [index('t'), index('t')] })).toThrow('step name "index_t" is used twice');
    expect(() => definePlan({ ...base, migrationPrefix: '2030', phases: [phase('a')] })).toThrow('14-digit');
    expect(() => definePhase({ name: 'bad name', steps: [index('t')] })).toThrow('"bad name"');
  });

  it('keeps explicit phase ids unique and sorted after their dependencies', () => {
    const withId = (name: string, id: string, dependsOn: string[] = []) => definePhase({ name, id, dependsOn, steps: [index(name)] });
    expect(definePlan({ ...base, phases: [withId('audit', '01'), withId('soft', '03', ['audit'])] }).phases.map((p) => p.id)).toEqual(['01', '03']);
    expect(() => definePlan({ ...base, phases: [withId('a', '01'), withId('b', '01')] })).toThrow('"01" is also the id of phase "a"');
    expect(() => definePlan({ ...base, phases: [withId('a', '05'), withId('b', '02', ['a'])] })).toThrow('"02" must sort after "05" of "a"');
  });

  it('checks that a schema step requires an existing data step', () => {
    const guarded = definePhase({ name: 'contract', steps: [contractStep('drop', step(createIndex, { table: 't', columns: ['id'] }), { requires: ['fill/missing'] })] });
    expect(() => definePlan({ ...base, phases: [guarded] })).toThrow('"fill/missing" is not a data step');
    const fill = definePhase({ name: 'fill', steps: [backfillStep('copy', { table: 't', set: { b: 'a' }, where: 'b is null' })] });
    const ok = definePhase({ name: 'contract', dependsOn: ['fill'], steps: [contractStep('drop', step(createIndex, { table: 't', columns: ['id'] }), { requires: ['fill/copy'] })] });
    expect(definePlan({ ...base, phases: [fill, ok] }).phases).toHaveLength(2);
  });
});

describe('phase defaults, ids, prefixes and the step helpers', () => {
  it('fills a phase\'s defaults and validates its id, prefix and steps, naming the field', () => {
    expect(definePhase({ name: 'plain', steps: [index('t')] })).toMatchObject({ description: '', kind: 'expand', risk: 'low', dependsOn: [], id: undefined, migrationPrefix: undefined });
    expect(definePhase({ name: 'set', description: 'd', kind: 'contract', risk: 'high', steps: [index('t')] })).toMatchObject({ description: 'd', kind: 'contract', risk: 'high' });
    expect(() => definePhase({ name: 'x', id: 'Has-Caps', steps: [index('t')] })).toThrow('invalid "phase "x".id": "Has-Caps" must be 1-16 characters of 0-9, a-z and "_"');
    expect(() => definePhase({ name: 'x', id: 'a'.repeat(17), steps: [index('t')] })).toThrow('phase "x".id');
    expect(definePhase({ name: 'x', id: 'a'.repeat(16), steps: [index('t')] }).id).toBe('a'.repeat(16));
    expect(() => definePhase({ name: 'x', migrationPrefix: '2030', steps: [index('t')] })).toThrow('invalid "phase "x".migrationPrefix": "2030" must be a 14-digit timestamp');
    expect(() => definePhase({ name: 'x', steps: [] })).toThrow('invalid "phase "x".steps": a phase needs at least one step');
    expect(() => definePhase({ name: 'x', steps: [schemaStep('bad step', step(createIndex, { table: 't', columns: ['id'] }))] })).toThrow('step of phase "x" name');
    expect(() => definePlan({ ...base, migrationPrefix: '203001010000001', phases: [phase('a')] })).toThrow('invalid "migrationPrefix"');
  });

  it('phaseFolderId, phaseMigrationPrefix and isPlanFolder name what a plan owns', () => {
    const own = definePhase({ name: 'own', id: 'x1', migrationPrefix: '20310101000001', steps: [index('t')] });
    const plan = definePlan({ ...base, phases: [phase('first'), own] });
    expect(phaseFolderId(plan.phases[0] as PhaseDefinition, 0)).toBe('01');
    expect(phaseFolderId(own, 7)).toBe('x1');
    expect(phaseMigrationPrefix(plan, plan.phases[0] as PhaseDefinition)).toBe('20300101000000');
    expect(phaseMigrationPrefix(plan, own)).toBe('20310101000001');
    expect(isPlanFolder(plan, '20300101000000_01_01_01_first_index')).toBe(true);
    expect(isPlanFolder(plan, '20310101000001_x1_01_01_own_index')).toBe(true);
    expect(isPlanFolder(plan, '20300101000000')).toBe(false);
    expect(isPlanFolder(plan, '20300101000001_init')).toBe(false);
    expect(isPlanFolder(plan, '20260101000000_init')).toBe(false);
  });

  it('schemaStep, contractStep and dataStep carry their options', () => {
    const op = step(createIndex, { table: 't', columns: ['id'] });
    expect(schemaStep('s', op)).toEqual({ kind: 'schema', name: 's', operation: op, stage: 'expand', requires: [] });
    expect(contractStep('c', op, { requires: ['p/d'] })).toEqual({ kind: 'schema', name: 'c', operation: op, stage: 'contract', requires: ['p/d'] });
    const run = async () => ({ processed: 0, failed: 0, canceled: false });
    const down = async () => undefined;
    expect(dataStep('d', run)).toEqual({ kind: 'data', name: 'd', description: 'd', run });
    expect(dataStep('d', run, { description: 'fills', remaining: 'true', down })).toEqual({ kind: 'data', name: 'd', description: 'fills', run, remaining: 'true', down });
  });

  it('backfillStep guards on "some row still matches where", joins included', () => {
    const plain = backfillStep('fill', { table: 'User', set: { locale: `'en'` }, where: 't.locale IS NULL' });
    expect(plain.remaining).toBe('EXISTS (SELECT 1 FROM "public"."User" AS "t" WHERE (t.locale IS NULL))');
    expect(plain.description).toBe('backfill "User" (locale)');
    const joined = backfillStep('fill', {
      schema: 'app',
      table: 'Booking',
      alias: 'b',
      set: { subjectRefId: 's.id', subjectName: 's.name' },
      join: [{ table: 'Subject', alias: 's', on: 's.code = b.code' }, { schema: 'ref', table: 'Tenant', alias: 'x', on: 'x.id = b."tenantId"' }],
      where: 'b."subjectRefId" IS NULL',
    });
    expect(joined.remaining).toBe(
      'EXISTS (SELECT 1 FROM "app"."Booking" AS "b", "app"."Subject" AS "s", "ref"."Tenant" AS "x" WHERE (s.code = b.code) AND (x.id = b."tenantId") AND (b."subjectRefId" IS NULL))',
    );
    expect(joined.description).toBe('backfill "Booking" (subjectRefId, subjectName)');
  });

  it('verifySql turns each row into a check, and no row into a failed one', async () => {
    const client = (rows: unknown[]) => ({ query: async () => ({ rows }) }) as unknown as Parameters<VerifyStepDefinition['check']>[0];
    const check = verifySql('counts', 'select …');
    expect(check).toMatchObject({ kind: 'verify', name: 'counts' });
    expect(await check.check(client([]))).toEqual([{ name: 'counts', ok: false, detail: 'the verify query returned no row' }]);
    expect(await check.check(client([{ ok: true, detail: 'fine' }]))).toEqual([{ name: 'counts', ok: true, detail: 'fine' }]);
    expect(await check.check(client([{ ok: 't' }, { ok: false, detail: 'bad', name: 'named' }]))).toEqual([
      { name: 'counts #1', ok: false, detail: '' },
      { name: 'named', ok: false, detail: 'bad' },
    ]);
  });
});
