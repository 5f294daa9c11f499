import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, type CopyPlan, type PlanDefinition } from '@prisma-evolve/core';
import { createJiti } from 'jiti';

/** Where `prisma-evolve` looks for the plan when `--config` is not given (beside the Prisma schema). */
export const DEFAULT_CONFIG = path.join('prisma', 'evolve.plan.ts');

/** A loaded plan with its migrations directory resolved against the config file. */
export interface LoadedPlan {
  readonly plan: PlanDefinition;
  readonly configPath: string;
  readonly migrationsDir: string;
}

/**
 * Imports a plan or copy module. A runtime that loads it natively (JavaScript plans, or TypeScript under tsx or a
 * Node with type stripping) shares this process's module graph; otherwise jiti compiles it in memory, as
 * Prisma loads `prisma.config.ts`, so plain `node` runs TypeScript plans with no build step.
 */
async function importModule<T>(absolute: string): Promise<T> {
  try {
    return (await import(pathToFileURL(absolute).href)) as T;
  } catch (error) {
    // Plain Node 20 cannot load .ts; a Node that strips types refuses enums and extension-less imports.
    if (!['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX', 'ERR_MODULE_NOT_FOUND'].includes(String((error as { code?: unknown }).code))) throw error;
  }
  const jiti = createJiti(absolute, { interopDefault: false, fsCache: false });
  return (await jiti.import(absolute)) as T;
}

/**
 * Loads a plan module (TypeScript or JavaScript) that exports `plan` (made with `definePlan`). Its
 * `migrationsDir` resolves against the config file's folder. Throws {@link UsageError} naming the file when
 * it is missing or exports no plan; errors thrown by the module itself pass through. Read-only.
 */
export async function loadPlan(configPath: string): Promise<LoadedPlan> {
  const absolute = path.resolve(configPath);
  if (!existsSync(absolute)) throw new UsageError(`plan "${absolute}" does not exist (pass --config FILE, or run "prisma-evolve init")`, '--config');
  const module = await importModule<{ plan?: PlanDefinition }>(absolute);
  const plan = module.plan;
  if (!plan || !Array.isArray(plan.phases) || typeof plan.migrationPrefix !== 'string') {
    throw new UsageError(`"${absolute}" must export \`plan\` made with definePlan()`, '--config');
  }
  return { plan, configPath: absolute, migrationsDir: path.resolve(path.dirname(absolute), plan.migrationsDir) };
}

/** Where `prisma-evolve copy` looks for the copy plan when `--copy` is not given (beside the Prisma schema). */
export const DEFAULT_COPY = path.join('prisma', 'evolve.copy.ts');

/**
 * Loads a copy module (TypeScript or JavaScript) that exports `copy` (made with `defineCopy`). Throws
 * {@link UsageError} naming the file when it is missing or exports no copy plan. Read-only.
 */
export async function loadCopy(file: string): Promise<CopyPlan> {
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw new UsageError(`copy plan "${absolute}" does not exist (pass --copy FILE)`, '--copy');
  const module = await importModule<{ copy?: CopyPlan }>(absolute);
  const copy = module.copy;
  if (!copy || typeof copy.name !== 'string' || !Array.isArray(copy.tables)) throw new UsageError(`"${absolute}" must export \`copy\` made with defineCopy()`, '--copy');
  return copy;
}
