import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, type PlanDefinition } from '@prisma-evolve/core';
import { tsImport } from 'tsx/esm/api';

/** Where `migrate:phase` looks for the plan when `--config` is not given. */
export const DEFAULT_CONFIG = path.join('prisma', 'evolve.plan.ts');

/** A loaded plan with its migrations directory resolved against the config file. */
export interface LoadedPlan {
  readonly plan: PlanDefinition;
  readonly configPath: string;
  readonly migrationsDir: string;
}

/**
 * Loads a plan module (TypeScript or JavaScript) that exports `plan` (made with `definePlan`). Its
 * `migrationsDir` resolves against the config file's folder. Throws `InvalidArgumentError` naming the
 * file when it is missing or exports no plan.
 */
export async function loadPlan(configPath: string): Promise<LoadedPlan> {
  const absolute = path.resolve(configPath);
  if (!existsSync(absolute)) throw new InvalidArgumentError('--config', `"${absolute}" does not exist`);
  const url = pathToFileURL(absolute).href;
  // A plain import shares this process's module graph (one copy of @prisma-evolve/core) and works under
  // tsx and for JavaScript plans; tsImport is the fallback when plain Node cannot load TypeScript.
  const module = (await import(url).catch(() => tsImport(url, import.meta.url))) as { plan?: PlanDefinition };
  const plan = module.plan;
  if (!plan || !Array.isArray(plan.phases) || typeof plan.migrationPrefix !== 'string') {
    throw new InvalidArgumentError('--config', `"${absolute}" must export \`plan\` made with definePlan()`);
  }
  return { plan, configPath: absolute, migrationsDir: path.resolve(path.dirname(absolute), plan.migrationsDir) };
}
