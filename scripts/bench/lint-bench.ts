/**
 * `pnpm bench lint --files N`: lints N generated migration folders shaped like Prisma's output (tables,
 * indexes, foreign keys, alterations; safe and unsafe) and reports the time. No database needed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lintPaths } from '@prisma-evolve/core';
import { timed } from './bench-support.js';

function migration(i: number): string {
  const table = `Model${i}`;
  return `-- CreateTable
CREATE TABLE "${table}" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "payload" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "${table}_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "${table}_tenantId_idx" ON "${table}"("tenantId");

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "field${i}" TEXT;

-- CreateIndex
CREATE INDEX "User_field${i}_idx" ON "User"("field${i}");

-- AddForeignKey
ALTER TABLE "${table}" ADD CONSTRAINT "${table}_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "Booking" ALTER COLUMN "status${i % 7}" SET NOT NULL;
`;
}

/** Runs the benchmark. */
export async function runLintBench(options: { files: number }): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'evolve-lint-bench-'));
  try {
    for (let i = 0; i < options.files; i += 1) {
      const folder = path.join(dir, `2030${String(i).padStart(10, '0')}_m${i}`);
      mkdirSync(folder);
      writeFileSync(path.join(folder, 'migration.sql'), migration(i));
    }
    const { seconds, value } = await timed(() => lintPaths([dir]));
    return {
      benchmark: 'lint',
      files: options.files,
      statements: options.files * 6,
      findings: value.length,
      errors: value.filter((f) => f.severity === 'error').length,
      seconds: Math.round(seconds * 1000) / 1000,
      files_per_s: Math.round(options.files / seconds),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
