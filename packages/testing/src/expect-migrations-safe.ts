import { lintPaths, type Finding } from '@prisma-evolve/core';

/**
 * Fails (throws, which fails the calling jest test) when any migration under `dir` has an error-level
 * lint finding: non-concurrent indexes, validating constraints, SET NOT NULL, renames, volatile defaults,
 * and the rest of the rules in docs/lint.md. The message lists every finding with file, line, rule and the
 * safe alternative. With `databaseUrl`, severity is graded with the live table sizes. Returns all
 * findings (warnings included) for further assertions.
 */
export async function expectMigrationsSafe(dir: string, options: { databaseUrl?: string; failOnWarnings?: boolean } = {}): Promise<readonly Finding[]> {
  const findings = await lintPaths([dir], options.databaseUrl ? { databaseUrl: options.databaseUrl } : {});
  const failing = findings.filter((f) => f.severity === 'error' || (options.failOnWarnings && f.severity === 'warning'));
  if (failing.length > 0) {
    const lines = failing.map((f) => `  ${f.file}:${f.line} ${f.rule}: ${f.message}\n    safe alternative: ${f.suggestion}`);
    throw new Error(`unsafe migrations in ${dir}:\n${lines.join('\n')}`);
  }
  return findings;
}
