/**
 * `pnpm bench analyze --tables N`: a generated schema of N tables (each with a primary key, a foreign key to
 * the one before, an unindexed and an indexed reference, a redundant index, a json column) and the static
 * checks of `analyze` over it, timed. Target: under 5 s at 500 tables.
 */
import { analyzeDatabase } from '@prisma-evolve/core';
import { exec, timed } from './bench-support.js';

export async function runAnalyzeBench(options: { url: string; tables: number }): Promise<Record<string, unknown>> {
  const statements: string[] = [];
  for (let i = 1; i <= options.tables; i += 1) {
    const previous = i === 1 ? '' : `, "prevId" int references t${i - 1}(id), "otherId" int references t${i - 1}(id)`;
    statements.push(`create table t${i} (id int primary key, code text, label text, doc json${previous})`);
    statements.push(`create index t${i}_code_idx on t${i} (code); create index t${i}_code_label_idx on t${i} (code, label)`);
    if (i > 1) statements.push(`create index t${i}_other_idx on t${i} ("otherId")`);
  }
  await exec(options.url, statements.join(';\n'));
  const { seconds, value } = await timed(() => analyzeDatabase({ databaseUrl: options.url }));
  const byCheck: Record<string, number> = {};
  for (const finding of value) byCheck[finding.check] = (byCheck[finding.check] ?? 0) + 1;
  return { benchmark: 'analyze', tables: options.tables, static_seconds: Math.round(seconds * 1000) / 1000, findings: value.length, by_check: byCheck };
}
