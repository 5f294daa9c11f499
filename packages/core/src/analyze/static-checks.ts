import type pg from 'pg';
import { fkWithoutIndex, leftBehind, redundantIndex } from './index-checks.js';
import { jsonShapes } from './json-check.js';
import type { PrismaLocation, PrismaMap } from './prisma-locations.js';
import { fkTypeMismatch, jsonColumn, noPrimaryKey, relationWithoutForeignKey, sequenceNearLimit, softDeleteIndex } from './table-checks.js';

/**
 * The static checks of `analyze`: valid on a freshly migrated, empty database (CI can run them), each with one
 * definition (docs/analyze.md) and its own catalog query. Schemas of PostgreSQL and of the toolkit
 * (`_evolve…`) and Prisma's `_prisma_migrations` are left out.
 */

/** A finding (the CLI's `findings[]`). */
export interface AnalyzeFinding {
  readonly check: string;
  readonly kind: 'static' | 'runtime';
  readonly severity: 'error' | 'warning' | 'info';
  /** The database object, schema-qualified (`public.Post.authorId`, `public.Post_authorId_idx`). */
  readonly object: string;
  readonly prisma: PrismaLocation | null;
  readonly message: string;
  /** The schema.prisma edit and the plan steps (TypeScript) that apply it safely; null when there is none to write. */
  readonly fix: AnalyzeFix | null;
}

/** How to fix a finding. */
export interface AnalyzeFix {
  readonly prisma: string | null;
  /**
   * Steps of the expand phase (TypeScript: `schemaStep(…)`, `dataStep(…)`, `backfillStep(…)`, verify steps), using
   * the toolkit's operations; `// …` lines are notes written as comments.
   */
  readonly steps: readonly string[];
  /** Constants the steps use (zod shapes, extraction definitions), written before the phases. */
  readonly declarations?: readonly string[];
  /**
   * Steps of the contract phase, which drops what the expand steps replaced. `run` it deliberately, once no code
   * reads the old columns; `EXPAND` names the expand phase (for `requires`).
   */
  readonly contract?: readonly string[];
  /** Code to start from where no operation applies it (an `extractJson` call with its zod shape). */
  readonly code?: string;
}

/** What a check reads. */
export interface CheckContext {
  readonly client: pg.ClientBase;
  readonly prisma: PrismaMap | undefined;
}

/** A static check. */
export interface StaticCheck {
  readonly id: string;
  /** The `check` names of its findings, when they are not just `id`. */
  readonly reports?: readonly string[];
  readonly severity: AnalyzeFinding['severity'];
  run(context: CheckContext): Promise<AnalyzeFinding[]>;
}

/** The checks, in report order (the JSON check, which samples data, last). */
export const STATIC_CHECKS: readonly StaticCheck[] = [fkWithoutIndex, redundantIndex, leftBehind('index'), leftBehind('constraint'), noPrimaryKey, fkTypeMismatch, jsonColumn, sequenceNearLimit, softDeleteIndex, relationWithoutForeignKey, jsonShapes];
