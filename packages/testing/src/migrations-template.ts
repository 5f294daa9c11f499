import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { applyPrismaMigrations } from '@prisma-evolve/core';
import type { TemplateOptions } from './databases.js';

/**
 * A template whose databases are migrated with the Prisma migration folders in `migrationsDir`
 * (applied by Prisma's own engine, so `_prisma_migrations` is filled as `prisma migrate deploy` fills
 * it). The fingerprint hashes every `migration.sql`, so editing or adding a migration builds a new one.
 */
export function prismaMigrationsTemplate(migrationsDir: string, name = path.basename(path.dirname(path.resolve(migrationsDir)))): TemplateOptions {
  const hash = createHash('sha256');
  for (const folder of readdirSync(migrationsDir).sort()) {
    const file = path.join(migrationsDir, folder, 'migration.sql');
    if (!statSync(path.join(migrationsDir, folder)).isDirectory()) continue;
    hash.update(folder).update(readFileSync(file));
  }
  return {
    name,
    fingerprint: hash.digest('hex'),
    setup: async (url) => {
      await applyPrismaMigrations({ databaseUrl: url, migrationsDir });
    },
  };
}
