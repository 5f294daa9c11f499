import { withClient } from '../db/with-client.js';
import { InvalidArgumentError } from '../errors.js';
import { diffDatabaseToSchema, isEmptyDiff } from '../prisma/prisma-migrations.js';
import { commentText } from './check-support.js';
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

/** Names of `@prisma-evolve/core` a fix module may use, imported when its code mentions them. */
const FIX_API = ['addColumn', 'addForeignKey', 'backfillStep', 'changeColumnType', 'createIndex', 'createTable', 'dataStep', 'dropColumn', 'dropIndex', 'extractJson', 'extractReferenceRows', 'mapColumns', 'rawSql', 'undoExtraction', 'verifyExtractionOn', 'withClient'];

/** Whether a fix step is code (a step of the phase), not a `// …` note written as a comment. Pure. */
export const isCodeStep = (step: string): boolean => !step.trimStart().startsWith('//');

/** Whether `renderFixModule` has anything to write for these findings: some fix step is code. Pure. */
export const hasCodeSteps = (findings: readonly AnalyzeFinding[]): boolean => findings.some((f) => f.fix?.steps.some(isCodeStep) ?? false);

/** The phase's steps of the findings, deduplicated, and their comments (`// …`, each naming its object, one line each). Pure. */
function collectSteps(findings: readonly AnalyzeFinding[]): { steps: string[]; comments: string[]; declarations: string[]; contract: string[] } {
  const code = isCodeStep;
  const steps = [...new Set(findings.flatMap((f) => (f.fix?.steps ?? []).filter(code)))];
  const comments = findings.flatMap((f) => (f.fix?.steps ?? []).filter((s) => !code(s)).map((s) => `// ${commentText(`${s.trimStart().slice(2).trimStart()} (${f.object})`)}`));
  const declarations = [...new Set(findings.flatMap((f) => f.fix?.declarations ?? []))];
  // Expand/contract operations finish in a contract phase, once no code needs the old column.
  const typeChanges = steps.filter((s) => s.includes('step(changeColumnType,')).map((s) => s.replace(/^schemaStep\(/, 'contractStep('));
  const contract = [...typeChanges, ...new Set(findings.flatMap((f) => f.fix?.contract ?? []))];
  return { steps, comments, declarations, contract };
}

/**
 * A plan module (TypeScript) for `--fix FILE`: an expand phase holding the fix steps of `findings` (indexes, type
 * changes, child tables filled by `extractJson`, reference tables with their foreign keys, …) and, when a fix
 * replaces something, a contract phase depending on it that drops the old columns. Add its `phases` to your plan
 * and `run` the expand phase; run the contract phase deliberately, once no code reads the old columns. Imports
 * only what the steps use (zod when they declare shapes). Deterministic for the same findings. Pure.
 *
 * Throws `InvalidArgumentError` when no finding has a code step ({@link hasCodeSteps}): a phase without steps would
 * not load.
 */
export function renderFixModule(findings: readonly AnalyzeFinding[], phaseName = 'analyze_fixes'): string {
  const { steps, comments, declarations, contract } = collectSteps(findings);
  if (steps.length === 0) throw new InvalidArgumentError('findings', 'no finding has a fix step that is code: a phase needs one step or more');
  // Each item ends with its comma, so an empty list is `[]`, never an array with a hole.
  const list = (items: readonly string[]): string => items.map((item) => `\n      ${item},`).join('');
  const text = [...steps, ...declarations, ...contract].join('\n');
  const operations = FIX_API.filter((name) => new RegExp(`\\b${name}\\b`).test(text));
  const imports = ['definePhase', 'schemaStep', 'step', ...(contract.some((s) => s.startsWith('contractStep(')) ? ['contractStep'] : []), ...operations].sort();
  const zod = declarations.some((d) => /\bz\./.test(d)) ? "\nimport { z } from 'zod';" : '';
  const contractPhase = `
  // The contract: it drops the columns the expand phase replaced (their values are backed up first, so a rollback
  // puts them back). Run it deliberately, once no deployed code reads or writes them: prisma-evolve run ${commentText(phaseName)}_contract
  definePhase({
    name: ${JSON.stringify(`${phaseName}_contract`)},
    kind: 'contract',
    dependsOn: [EXPAND],
    description: 'the contract of the fixes: the replaced columns go, once no code uses them',
    risk: 'medium',
    steps: [${list(contract)}
    ],
  }),`;
  return `/**
 * Written by \`prisma-evolve analyze --fix\`: the steps that fix ${findings.filter((f) => f.fix?.steps.some(isCodeStep)).length} finding(s). Add \`phases\` to your
 * plan, review, then \`prisma-evolve run ${commentText(phaseName)}\`. Edit schema.prisma as each finding's fix says.
 */
import { ${imports.join(', ')} } from '@prisma-evolve/core';${zod}
${comments.length ? `\n${comments.join('\n')}\n` : ''}
const EXPAND = ${JSON.stringify(phaseName)};
${declarations.length ? `\n${declarations.join('\n\n')}\n` : ''}
export const phases = [
  definePhase({
    name: EXPAND,
    description: 'fixes from prisma-evolve analyze',
    risk: ${declarations.length || contract.length > 0 ? "'medium'" : "'low'"},
    steps: [${list(steps)}
    ],
  }),${contract.length ? contractPhase : ''}
];
`;
}
