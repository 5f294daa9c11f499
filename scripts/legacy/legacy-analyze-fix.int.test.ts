/**
 * Issue 17's "done when", end to end on the seeded Scholarly "before" database: `analyze` lists the planted
 * problems with their Prisma locations; the module `--fix` writes (read back from disk, compiled as TypeScript,
 * its imports bound to the real API) runs through the phase runner, expand then contract; `analyze` then
 * reports none of the findings that had steps. The variants (locations in two spellings) have none and stay.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as core from '@prisma-evolve/core';
import { analyzeDatabase, definePlan, PhaseRunner, quoteIdent, renderFixModule, withClient, type AnalyzeFinding, type PhaseDefinition } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import ts from 'typescript';
import { z } from 'zod';
import { scratchMigrationsDir } from './scholarly-demo.js';
import { seedLegacyDatabase } from './seed-legacy-database.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const schemaPath = path.join(root, 'prisma', 'schema.prisma');
const CHECKS = ['json-shapes', 'fk-without-index', 'reference-candidate'];
const FIXED = ['fk-without-index', 'json-should-be-table', 'reference-candidate'];
const db = useTestDatabase();

/**
 * Loads a fix module as written: TypeScript compiled to JavaScript (types erased, as the CLI's loader does),
 * then evaluated with its imports (`@prisma-evolve/core`, `zod`) bound to the real modules.
 */
function loadFixModule(file: string): PhaseDefinition[] {
  const source = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, reportDiagnostics: true });
  expect(source.diagnostics ?? []).toEqual([]);
  const bindings: [string, unknown][] = [];
  const body = source.outputText.replace(/^import \{ ([^}]+) \} from '([^']+)';$/gm, (_, names: string, from: string) => {
    const module: Record<string, unknown> = from === 'zod' ? { z } : from === '@prisma-evolve/core' ? core : {};
    for (const name of names.split(',').map((n) => n.trim())) {
      expect(module[name]).toBeDefined();
      bindings.push([name, module[name]]);
    }
    return '';
  });
  return new Function(...bindings.map(([name]) => name), body.replace('export const phases =', 'return'))(...bindings.map(([, value]) => value)) as PhaseDefinition[];
}

const keysOf = (findings: readonly AnalyzeFinding[], checks: readonly string[]): string[] => findings.filter((f) => checks.includes(f.check)).map((f) => `${f.check}:${f.object}`).sort();

let before: AnalyzeFinding[] = [];

beforeAll(async () => {
  await seedLegacyDatabase({ databaseUrl: db.url, scale: 0.2, seed: 11 });
  before = await analyzeDatabase({ databaseUrl: db.url, checks: CHECKS, schemaPath });
});

describe('analyze --fix on the legacy Scholarly database', () => {
  it('lists the planted problems with their Prisma locations, and steps for each fixable one', () => {
    const json = before.filter((f) => f.check === 'json-should-be-table');
    expect(json.map((f) => f.object).sort()).toEqual(['public.LearningAssetRequest.votes', 'public.TutorProfile.availability', 'public.TutorProfile.pricing']);
    for (const finding of [...json, ...before.filter((f) => f.check === 'json-variants')]) {
      const [, table, column] = finding.object.split('.');
      expect(finding.prisma).toEqual({ model: table, field: column, file: schemaPath, line: expect.any(Number) });
    }
    const lines = readFileSync(schemaPath, 'utf8').split('\n');
    const availability = json.find((f) => f.object === 'public.TutorProfile.availability');
    expect(lines[(availability?.prisma?.line ?? 0) - 1]).toMatch(/^\s*availability\s+Json\?/);
    expect(before.filter((f) => f.check === 'fk-without-index').length).toBeGreaterThan(0);
    expect(keysOf(before, ['reference-candidate'])).toEqual(['reference-candidate:public.Booking+TutoringSession.subjectId']);
    for (const finding of before.filter((f) => FIXED.includes(f.check))) expect(finding.fix?.steps.some((s) => !s.startsWith('//'))).toBe(true);
    // Variants get no step (which spelling wins is the user's call), and say so.
    for (const finding of before.filter((f) => f.check === 'json-variants')) expect([finding.fix, finding.message]).toEqual([null, expect.stringMatching(/--fix writes no step/)]);
  });

  it('writes a module that run applies, expand then contract, after which the fixed findings are gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-analyze-fix-'));
    const file = path.join(dir, 'fixes.ts');
    writeFileSync(file, renderFixModule(before));
    const phases = loadFixModule(file);
    expect(phases.map((p) => [p.name, p.kind])).toEqual([['analyze_fixes', 'expand'], ['analyze_fixes_contract', 'contract']]);
    const migrationsDir = scratchMigrationsDir();
    const runner = new PhaseRunner(definePlan({ name: 'fixes', migrationsDir, migrationPrefix: '20300301000000', phases }), { databaseUrl: db.url, migrationsDir });

    await runner.run('analyze_fixes');
    const expanded = await analyzeDatabase({ databaseUrl: db.url, checks: CHECKS, schemaPath });
    expect(keysOf(expanded, FIXED)).toEqual([]);
    // What is left is the contract, and the findings say so.
    expect(keysOf(expanded, ['json-extracted', 'reference-built'])).toEqual([
      'json-extracted:public.LearningAssetRequest.votes',
      'json-extracted:public.TutorProfile.availability',
      'json-extracted:public.TutorProfile.pricing',
      'reference-built:public.Booking+TutoringSession.subjectId',
    ]);
    await withClient(db.url, async (client) => {
      const { rows } = await client.query<{ slots: number; tiers: number; votes: number; subjects: number; dead: number; unset: number }>(
        `select (select count(*)::int from "TutorProfileAvailability") as slots, (select count(*)::int from "TutorProfilePricing") as tiers,
                (select count(*)::int from "LearningAssetRequestVotes") as votes, (select count(*)::int from "Subject") as subjects,
                (select count(*)::int from _evolve.extract_dead_letter) as dead,
                (select count(*)::int from "Booking" where "subjectId" is not null and "subjectRefId" is null) as unset`,
      );
      // Children written, the documents no shape accepted recorded (not fatal), every booking's code referenced.
      expect(rows[0]).toEqual({ slots: expect.any(Number), tiers: expect.any(Number), votes: expect.any(Number), subjects: expect.any(Number), dead: expect.any(Number), unset: 0 });
      for (const count of Object.values(rows[0] ?? {}).slice(0, 5)) expect(count).toBeGreaterThan(0);
      // Every column a child table got from an element key holds values: the map fills what the table declares.
      const { rows: columns } = await client.query<{ table: string; column: string }>(
        `select table_name as table, column_name as column from information_schema.columns
         where table_schema = 'public' and table_name in ('TutorProfileAvailability', 'TutorProfilePricing', 'LearningAssetRequestVotes') and column_name <> 'id'`,
      );
      const empty: string[] = [];
      for (const { table, column } of columns) {
        const { rows: filled } = await client.query<{ n: number }>(`select count(${quoteIdent(column)})::int as n from ${quoteIdent(table)}`);
        if ((filled[0]?.n ?? 0) === 0) empty.push(`${table}.${column}`);
      }
      expect(empty).toEqual([]);
    });

    await runner.run('analyze_fixes_contract');
    const after = await analyzeDatabase({ databaseUrl: db.url, checks: CHECKS, schemaPath });
    expect(keysOf(after, [...FIXED, 'json-extracted', 'reference-built'])).toEqual([]);
    expect(keysOf(after, ['json-variants'])).toEqual(keysOf(before, ['json-variants']));
    expect((await runner.status()).map((p) => [p.name, p.status])).toEqual([['analyze_fixes', 'completed'], ['analyze_fixes_contract', 'completed']]);
  });
});
