import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '@prisma-evolve/core';
import { createJiti } from 'jiti';

/** Where a Prisma app keeps its schema, migrations and connection, as `prisma-evolve` understands it. */
export interface ProjectConfig {
  /** The folder commands resolve relative paths against (the one holding prisma.config.ts, else cwd). */
  readonly root: string;
  /** The prisma.config.ts read, if any. */
  readonly configFile: string | undefined;
  /** schema.prisma, or the folder of a multi-file schema. */
  readonly schemaPath: string;
  readonly migrationsDir: string;
  /** Where the plan lives unless `--config` says otherwise: `evolve.plan.ts` beside the schema. */
  readonly planPath: string;
  /** `datasource.url` of prisma.config.ts, when it could be read. */
  readonly datasourceUrl: string | undefined;
  /** `datasource.shadowDatabaseUrl` of prisma.config.ts, when set. */
  readonly shadowDatabaseUrl: string | undefined;
  /** Why prisma.config.ts could not be read (its defaults were used instead). */
  readonly warning: string | undefined;
}

/** The config file names Prisma 7 looks for, in its order. */
const CONFIG_FILES = ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.cts', 'prisma.config.js', 'prisma.config.mjs', 'prisma.config.cjs', path.join('.config', 'prisma.ts')];

interface PrismaConfigShape {
  schema?: string;
  migrations?: { path?: string };
  datasource?: { url?: string; shadowDatabaseUrl?: string };
}

/**
 * Reads the app's Prisma 7 config (`prisma.config.ts` in `cwd`, or `configFile`) the way Prisma's CLI does,
 * with jiti, so TypeScript configs need no build step. Paths in it resolve against its folder. Without a
 * config, Prisma's defaults apply (`prisma/schema.prisma`, migrations beside it). A config that throws
 * while loading (typically `env('DATABASE_URL')` when the variable is unset) leaves the defaults in place
 * with `warning` saying why; the environment is restored, so a config's side effects do not leak into the
 * command. A `configFile` that does not exist is a {@link UsageError}. Read-only.
 */
export async function readProjectConfig(cwd: string, configFile?: string): Promise<ProjectConfig> {
  const file = configFile ? path.resolve(cwd, configFile) : CONFIG_FILES.map((name) => path.join(cwd, name)).find((candidate) => existsSync(candidate));
  if (configFile && file && !existsSync(file)) throw new UsageError(`--prisma-config "${file}" does not exist`, '--prisma-config');
  const root = file ? path.dirname(file) : cwd;
  let config: PrismaConfigShape = {};
  let warning: string | undefined;
  if (file) {
    const env = { ...process.env };
    try {
      const jiti = createJiti(file, { interopDefault: true, moduleCache: false, fsCache: false });
      config = ((await jiti.import(file, { default: true })) ?? {}) as PrismaConfigShape;
    } catch (error) {
      warning = `${path.relative(cwd, file) || file} could not be loaded (${error instanceof Error ? error.message : String(error)}); using Prisma's default paths`;
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
      Object.assign(process.env, env);
    }
  }
  const schemaPath = path.resolve(root, config.schema ?? path.join('prisma', 'schema.prisma'));
  const schemaDir = existsSync(schemaPath) && !schemaPath.endsWith('.prisma') ? schemaPath : path.dirname(schemaPath);
  return {
    root,
    configFile: file,
    schemaPath,
    migrationsDir: config.migrations?.path ? path.resolve(root, config.migrations.path) : path.join(schemaDir, 'migrations'),
    planPath: path.join(schemaDir, 'evolve.plan.ts'),
    datasourceUrl: nonEmpty(config.datasource?.url),
    shadowDatabaseUrl: nonEmpty(config.datasource?.shadowDatabaseUrl),
    warning,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
