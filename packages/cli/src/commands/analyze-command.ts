import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyzeDatabase, findingKey, hasCodeSteps, newFindings, renderFixModule, UsageError, type AnalyzeFinding } from '@prisma-evolve/core';
import type { Command } from '../command.js';

function describe(finding: AnalyzeFinding): string {
  const where = finding.prisma ? ` (${finding.prisma.model}${finding.prisma.field ? `.${finding.prisma.field}` : ''} at ${path.relative(process.cwd(), finding.prisma.file) || finding.prisma.file}:${finding.prisma.line})` : '';
  const fix = finding.fix ? [finding.fix.prisma ? `\n      schema.prisma: ${finding.fix.prisma}` : '', ...finding.fix.steps.map((s) => `\n      step: ${s}`)].join('') : '';
  return `  ${finding.severity.padEnd(7)} ${finding.check}: ${finding.object}${where}\n      ${finding.message}${fix}`;
}

/**
 * `analyze [--schema path] [--json] [--baseline FILE] [--fix FILE]`: the static checks against the database
 * (read-only). Exit 1 when a finding of severity error or warning is new (not in the baseline, when one is
 * given); `--baseline FILE` that does not exist yet is written with today's findings; `--fix FILE` writes the
 * fix steps as a phase module.
 */
export const analyze: Command = {
  name: 'analyze',
  synopsis: '[--schema path] [--baseline FILE] [--fix FILE] [--min-stats-days N]',
  summary: 'check the database for missing foreign-key indexes, redundant indexes, leftovers, drift and more, with Prisma locations and fixes',
  flags: ['prisma-config', 'database-url', 'schema', 'baseline', 'fix', 'min-stats-days', 'json'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`analyze takes no arguments (got ${context.args.join(' ')})`);
    const url = await context.databaseUrl();
    const schemaPath = context.flags.schema ? path.resolve(context.cwd, context.flags.schema) : (await context.project()).schemaPath;
    const days = context.flags['min-stats-days'];
    if (days !== undefined && !/^\d+(\.\d+)?$/.test(days)) throw new UsageError(`--min-stats-days "${days}": expected a number of days`, '--min-stats-days');
    const findings = await analyzeDatabase({ databaseUrl: url, ...(existsSync(schemaPath) ? { schemaPath } : {}), ...(days === undefined ? {} : { minStatsDays: Number(days) }) });
    let reported = findings;
    let baselineNote = '';
    if (context.flags.baseline) {
      const file = path.resolve(context.cwd, context.flags.baseline);
      if (existsSync(file)) {
        let keys: unknown;
        try {
          keys = JSON.parse(readFileSync(file, 'utf8'));
        } catch (error) {
          throw new UsageError(`--baseline "${file}" is not JSON: ${(error as Error).message}`, '--baseline');
        }
        if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new UsageError(`--baseline "${file}" must hold an array of finding keys`, '--baseline');
        reported = newFindings(findings, keys);
        baselineNote = `${findings.length - reported.length} known finding(s) in the baseline; ${reported.length} new`;
      } else {
        writeFileSync(file, `${JSON.stringify(findings.map(findingKey).sort(), null, 2)}\n`);
        reported = [];
        baselineNote = `baseline written to ${file} with ${findings.length} finding(s)`;
      }
    }
    if (context.flags.fix) {
      const file = path.resolve(context.cwd, context.flags.fix);
      // A module without steps would not load (a phase needs one): nothing to write is said, not written. Notes
      // (`// VACUUM …`) are comments, not steps: the same predicate as the module's own.
      if (hasCodeSteps(reported)) {
        writeFileSync(file, renderFixModule(reported));
        console.error(`fix steps written to ${file}: add its phases to your plan`);
      } else {
        console.error(`no finding has fix steps: nothing written to ${file} (notes like "// ANALYZE …" are comments, not steps)`);
      }
    }
    const failing = reported.filter((f) => f.severity !== 'info');
    const text = [reported.length === 0 ? 'no findings' : reported.map(describe).join('\n'), ...(baselineNote ? [baselineNote] : [])].join('\n');
    context.print({ findings: reported }, text);
    return failing.length > 0 ? 1 : 0;
  },
};
