// Puts a title over TypeDoc's reference (docs/api/README.md), saying where it comes from.
import { readFileSync, writeFileSync } from 'node:fs';

const file = 'docs/api/README.md';
const header = '# `@prisma-evolve/core` API reference\n\nGenerated from the JSDoc of `packages/core/src/index.ts` by TypeDoc (`pnpm docs:api`); every export listed here is supported, anything reached by a deep import is not. Guides: [getting started](../getting-started.md), [phases](../phases.md), [backfills](../backfill.md), [extraction](../extraction.md), [operations](../operations.md).\n\n';
const body = readFileSync(file, 'utf8');
writeFileSync(file, body.startsWith('# `@prisma-evolve/core`') ? body : header + body);
