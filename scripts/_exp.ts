import { createPrismaMigration } from '@prisma-evolve/core';
const t = Date.now();
const r = await createPrismaMigration({ databaseUrl: 'postgresql://postgres@127.0.0.1:5432/postgres', migrationsDir: '/tmp/exp/migrations', schemaPath: '/tmp/exp/schema.prisma', name: 'Add nickname! Ünïcode' });
console.log('r', r, Date.now() - t);
