import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prismaTimestamp } from '@prisma-evolve/core';
import type { Command } from '../command.js';

/** The script name `init` adds to package.json, and what it runs. */
export const SCRIPT_NAME = 'migrate:phase';
export const SCRIPT_COMMAND = 'prisma-evolve';

/**
 * The generator block `init --soft-delete` appends to schema.prisma: TypeScript metadata in an app with a
 * tsconfig.json, an ES module otherwise (plain `node` imports it). Pure.
 */
export function metaGenerator(typescript: boolean): string {
  return `
generator evolveMeta {
  provider = "prisma-evolve-meta"
  output   = "./generated/evolve-meta.${typescript ? 'ts' : 'mjs'}"
}
`;
}

/** The typed, empty plan `init` writes, with a commented example phase. Pure. */
export function planTemplate(migrationsDir: string, prefix: string): string {
  return `import { definePlan } from '@prisma-evolve/core';

// Phases of zero-downtime changes for this app. Run them with \`npm run ${SCRIPT_NAME} -- run --all\`
// (or \`prisma-evolve deploy\` in CI); see https://github.com/prisma-evolve/prisma-evolve/blob/main/docs/getting-started.md
//
// An example phase: a required column added without locking the table or failing on existing rows
// (import backfillStep, contractStep, definePhase, schemaStep, step, addColumn, setNotNull as well).
// const displayName = definePhase({
//   name: 'user_display_name',
//   description: 'User.displayName, filled from name for existing rows, then required',
//   steps: [
//     schemaStep('add_display_name', step(addColumn, { table: 'User', column: 'displayName', type: 'text' })),
//     backfillStep('fill_display_name', { table: 'User', set: { displayName: 't."name"' }, where: 't."displayName" IS NULL' }),
//     contractStep('require_display_name', step(setNotNull, { table: 'User', column: 'displayName' })),
//   ],
// });

export const plan = definePlan({
  name: 'app',
  migrationsDir: ${JSON.stringify(migrationsDir)},
  // Folders of this plan are named <migrationPrefix>_<phase>_…; keep it once phases are deployed.
  migrationPrefix: '${prefix}',
  phases: [], // e.g. [displayName]
});
`;
}

/**
 * `init` in an existing Prisma 7 app: writes the plan beside schema.prisma, adds the `migrate:phase`
 * script to package.json and, with `--soft-delete`, the `prisma-evolve-meta` generator to schema.prisma.
 * Checks everything before writing anything: an existing plan, a `migrate:phase` script that runs
 * something else, or a missing package.json or schema stop it with exit 1, naming the file.
 */
export const init: Command = {
  name: 'init',
  synopsis: '',
  summary: 'set prisma-evolve up in this Prisma app: prisma/evolve.plan.ts, the migrate:phase script, --soft-delete adds the model-metadata generator',
  flags: ['config', 'prisma-config', 'schema', 'migrations-dir', 'soft-delete', 'dry-run', 'json'],
  async run(context) {
    const project = await context.project();
    const planPath = context.flags.config ? path.resolve(context.cwd, context.flags.config) : project.planPath;
    const packagePath = path.join(project.root, 'package.json');
    const schemaPath = context.flags.schema ? path.resolve(context.cwd, context.flags.schema) : project.schemaPath;
    const schemaFile = existsSync(schemaPath) && statSync(schemaPath).isDirectory() ? path.join(schemaPath, 'schema.prisma') : schemaPath;
    const migrationsDir = context.flags['migrations-dir'] ? path.resolve(context.cwd, context.flags['migrations-dir']) : project.migrationsDir;
    const problems: string[] = [];
    if (existsSync(planPath)) problems.push(`${shown(context.cwd, planPath)} exists; not overwritten`);
    if (!existsSync(packagePath)) problems.push(`no package.json in ${project.root}: run init in your app's folder`);
    const pkg = existsSync(packagePath) ? (JSON.parse(readFileSync(packagePath, 'utf8')) as { scripts?: Record<string, string> }) : {};
    const existingScript = pkg.scripts?.[SCRIPT_NAME];
    if (existingScript !== undefined && existingScript !== SCRIPT_COMMAND) problems.push(`package.json already has a "${SCRIPT_NAME}" script ("${existingScript}"); not changed`);
    const schema = existsSync(schemaFile) ? readFileSync(schemaFile, 'utf8') : undefined;
    if (context.flags['soft-delete'] && schema === undefined) problems.push(`${shown(context.cwd, schemaFile)} does not exist: pass --schema`);
    if (problems.length > 0) {
      for (const problem of problems) console.error(`prisma-evolve init: ${problem}`);
      context.print({ written: [], problems }, 'nothing written');
      return 1;
    }
    const done: string[] = [];
    const write = (file: string, text: string, what: string): void => {
      if (!context.flags['dry-run']) writeFileSync(file, text);
      done.push(`${what}: ${shown(context.cwd, file)}`);
    };
    const relativeMigrations = path.relative(path.dirname(planPath), migrationsDir).split(path.sep).join('/');
    write(planPath, planTemplate(relativeMigrations.startsWith('.') ? relativeMigrations : `./${relativeMigrations}`, prismaTimestamp(new Date())), 'wrote the plan');
    if (existingScript === undefined) {
      const raw = readFileSync(packagePath, 'utf8');
      const next = { ...pkg, scripts: { ...pkg.scripts, [SCRIPT_NAME]: SCRIPT_COMMAND } };
      write(packagePath, `${JSON.stringify(next, null, detectIndent(raw))}\n`, `added "${SCRIPT_NAME}": "${SCRIPT_COMMAND}" to`);
    }
    if (context.flags['soft-delete'] && schema !== undefined) {
      if (/provider\s*=\s*"prisma-evolve-meta"/.test(schema)) done.push(`${shown(context.cwd, schemaFile)} already has the prisma-evolve-meta generator`);
      else write(schemaFile, `${schema.replace(/\s*$/, '\n')}${metaGenerator(existsSync(path.join(project.root, 'tsconfig.json')))}`, 'added the prisma-evolve-meta generator (run prisma generate) to');
    }
    context.print({ written: done, problems: [] }, `${done.join('\n')}\nnext: change schema.prisma, then \`npm run ${SCRIPT_NAME} -- new <name> --safe\``);
    return 0;
  },
};

function shown(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith('..') ? file : relative;
}

/** The indentation of a JSON text (2 when it cannot tell). Pure. */
function detectIndent(raw: string): string | number {
  const match = /^[{[]\s*\n([ \t]+)\S/.exec(raw);
  return match?.[1] ?? 2;
}
