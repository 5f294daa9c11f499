import path from 'node:path';
import { backupDatabase, parseConnectionTarget, restoreDatabase, UsageError } from '@prisma-evolve/core';
import type { Command } from '../command.js';

/** `backup [--out FILE]`: `pg_dump -Fc` of the database with a checksum manifest beside it. */
export const backup: Command = {
  name: 'backup',
  synopsis: '[--out FILE]',
  summary: 'pg_dump -Fc of the database, with a SHA-256 manifest beside the dump',
  flags: ['prisma-config', 'database-url', 'out', 'json'],
  async run(context) {
    if (context.args.length > 0) throw new UsageError(`backup takes no arguments (got ${context.args.join(' ')}); --out FILE names the dump`);
    const url = await context.databaseUrl();
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    const file = path.resolve(context.cwd, context.flags.out ?? path.join('backups', `${parseConnectionTarget(url).database}-${stamp}.dump`));
    const manifest = await backupDatabase({ databaseUrl: url, file, onTable: context.flags.json ? undefined : (table) => console.error(`  dumping ${table}`) });
    context.print({ backup: { ...manifest, path: file } }, `wrote ${file} (${manifest.bytes} bytes, ${manifest.tables} tables, sha256 ${manifest.sha256}) and ${file}.manifest.json`);
    return 0;
  },
};

/** `restore <file> [--clean] [--yes]`: `pg_restore` of a dump whose manifest matches; an empty database only, unless --clean. */
export const restore: Command = {
  name: 'restore',
  synopsis: '<file> [--clean]',
  summary: 'pg_restore a dump written by backup (checksum checked; an empty database unless --clean)',
  flags: ['prisma-config', 'database-url', 'clean', 'yes', 'json'],
  async run(context) {
    const [file, ...rest] = context.args;
    if (!file || rest.length > 0) throw new UsageError('restore takes one dump file');
    const url = await context.databaseUrl();
    if (context.flags.clean && !(await context.confirm(`drop the objects of ${path.basename(file)} from database "${parseConnectionTarget(url).database}" and restore them from the dump?`))) {
      console.error('restore cancelled');
      return 1;
    }
    const manifest = await restoreDatabase({ databaseUrl: url, file: path.resolve(context.cwd, file), clean: Boolean(context.flags.clean) });
    context.print({ restored: manifest }, `restored ${file} (${manifest.tables} tables, dumped from "${manifest.database}" at ${manifest.createdAt})`);
    return 0;
  },
};
