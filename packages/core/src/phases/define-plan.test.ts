import { describe, expect, it } from '@jest/globals';
import { createIndex } from '../operations/create-index.js';
import { step } from '../operations/operation.js';
import { backfillStep, contractStep, definePhase, definePlan, schemaStep } from './define-plan.js';

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
