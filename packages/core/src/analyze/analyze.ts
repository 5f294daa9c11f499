import { withClient } from '../db/with-client.js';
import { diffDatabaseToSchema, isEmptyDiff } from '../prisma/prisma-migrations.js';
import { readPrismaMap } from './prisma-locations.js';
import { deadRows, neverAnalyzed, seqScanHeavy, unusedIndex } from './runtime-checks.js';
import { referenceCandidate } from './reference-check.js';
import { STATIC_CHECKS, type AnalyzeFinding } from './static-checks.js';

/** How `analyzeDatabase` runs. */
export interface AnalyzeOptions {
  readonly databaseUrl: string;
  /** schema.prisma (a file or a multi-file folder): findings get their model, field, file and line; drift is checked. */
  readonly schemaPath?: string;
  /** Only these checks (ids); default all. */
  readonly checks?: readonly string[];
  /** Days of statistics before an index may be called unused (default 7). */
  readonly minStatsDays?: number;
}

/** The drift between schema.prisma and the database: the SQL Prisma would run to make the database match. */
async function driftFinding(databaseUrl: string, schemaPath: string): Promise<AnalyzeFinding[]> {
  const script = await diffDatabaseToSchema(databaseUrl, schemaPath);
  if (isEmptyDiff(script)) return [];
  const statements = script.split('\n').filter((line) => line.trim() && !line.trim().startsWith('--'));
  return [
    {
      check: 'schema-drift',
      kind: 'static',
      severity: 'error',
      object: schemaPath,
      prisma: null,
      message: `the database differs from schema.prisma: Prisma would run ${statements.length} statement line(s) to match it (${statements.slice(0, 3).join(' ').slice(0, 240)}${statements.length > 3 ? ' …' : ''})`,
      fix: { prisma: null, steps: ['// prisma-evolve new <name> writes the migration (with --safe, the safe sequence)'] },
    },
  ];
}

/**
 * Runs the static checks (and, with `schemaPath`, the drift check), the JSON check (sampled) and the runtime
 * checks (statistics, each stating its window) against a database. Read-only: catalog and statistics queries,
 * bounded samples and, for drift, Prisma's schema engine reading the database. Findings are in check order, then by
 * object; each names its Prisma location when schema.prisma declares the object.
 */
export async function analyzeDatabase(options: AnalyzeOptions): Promise<AnalyzeFinding[]> {
  const prisma = options.schemaPath ? await readPrismaMap(options.schemaPath) : undefined;
  const wanted = (id: string): boolean => !options.checks || options.checks.includes(id);
  const findings = await withClient(options.databaseUrl, async (client) => {
    const found: AnalyzeFinding[] = [];
    const runtime = [unusedIndex(options.minStatsDays ?? 7), seqScanHeavy, deadRows, neverAnalyzed, referenceCandidate];
    for (const check of [...STATIC_CHECKS, ...runtime]) if ([check.id, ...(check.reports ?? [])].some(wanted)) found.push(...(await check.run({ client, prisma })).filter((f) => wanted(f.check) || wanted(check.id)));
    return found;
  });
  if (options.schemaPath && wanted('schema-drift')) findings.push(...(await driftFinding(options.databaseUrl, options.schemaPath)));
  return findings;
}

/** A finding's stable key for baselines: check and object (not the message, whose figures move). Pure. */
export function findingKey(finding: Pick<AnalyzeFinding, 'check' | 'object'>): string {
  return `${finding.check}:${finding.object}`;
}

/** The findings whose key is not in the baseline (a list of keys, as `--baseline` writes it). Pure. */
export function newFindings(findings: readonly AnalyzeFinding[], baseline: readonly string[]): AnalyzeFinding[] {
  const known = new Set(baseline);
  return findings.filter((f) => !known.has(findingKey(f)));
}

/**
 * A plan module (TypeScript) with one phase holding the fix steps of `findings`, for `--fix FILE`: add its
 * `phases` to your plan. Deterministic for the same findings. Pure.
 */
export function renderFixModule(findings: readonly AnalyzeFinding[], phaseName = 'analyze_fixes'): string {
  const steps = [...new Set(findings.flatMap((f) => f.fix?.steps ?? []).filter((s) => s.startsWith('schemaStep(')))];
  const comments = findings.flatMap((f) => (f.fix?.steps ?? []).filter((s) => s.startsWith('//')).map((s) => `${s} (${f.object})`));
  const operations = ['createIndex', 'dropIndex', 'changeColumnType', 'addForeignKey', 'rawSql'].filter((name) => steps.some((s) => s.includes(`step(${name},`)));
  // Expand/contract operations finish in a contract phase, once no code needs the old column.
  const contract = steps.filter((s) => s.includes('step(changeColumnType,')).map((s) => s.replace(/^schemaStep\(/, 'contractStep('));
  const imports = ['definePhase', 'schemaStep', 'step', ...(contract.length ? ['contractStep'] : []), ...operations].sort();
  return `/**
 * Written by \`prisma-evolve analyze --fix\`: the steps that fix ${steps.length} finding(s). Add \`phases\` to your
 * plan, review, then \`prisma-evolve run ${phaseName}\`. Edit schema.prisma as each finding's fix says.
 */
import { ${imports.join(', ')} } from '@prisma-evolve/core';
${comments.length ? `\n${comments.join('\n')}\n` : ''}
export const phases = [
  definePhase({
    name: ${JSON.stringify(phaseName)},
    description: 'fixes from prisma-evolve analyze',
    risk: 'low',
    steps: [
      ${steps.join(',\n      ')},
    ],
  }),${
    contract.length
      ? `
  definePhase({
    name: ${JSON.stringify(`${phaseName}_contract`)},
    kind: 'contract',
    dependsOn: [${JSON.stringify(phaseName)}],
    description: 'the contract of the type changes, once no code reads the old columns',
    risk: 'medium',
    steps: [
      ${contract.join(',\n      ')},
    ],
  }),`
      : ''
  }
];
`;
}
